"""What the lists (invoices, transactions, services) share: each non-empty filter value
applied to its field, and a named sort with a stable tie-break."""

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet


def filtered(queryset: QuerySet, filters: Iterable[tuple[str, Any]]) -> QuerySet:
    """`queryset` filtered by each (lookup, value) whose value is given (not empty)."""
    for lookup, value in filters:
        if value:
            queryset = queryset.filter(**{lookup: value})
    return queryset


def ordered(queryset: QuerySet, sort: str, sorts: dict[str, tuple[str, ...]]) -> QuerySet:
    """`queryset` in the order `sort` names ("-name": descending), by the fields `sorts`
    gives it (an unknown name: none), then by pk, so pages never overlap."""
    fields = sorts.get(sort.removeprefix("-"), ())
    if sort.startswith("-"):
        return queryset.order_by(*(f"-{f}" for f in fields), "-pk")
    return queryset.order_by(*fields, "pk")
