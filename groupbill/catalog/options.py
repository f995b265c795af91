"""A package's configurable options: add, change (name, kind, the values and their
prices) and delete. Each action locks the package, validates everything (`cleaning`),
then writes, in one transaction; every change is audited at level "package" under the
option's name."""

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from groupbill.audit.actions import record, wrap
from groupbill.catalog.cleaning import clean_option
from groupbill.catalog.models import ConfigOption, ConfigOptionPrice, ConfigOptionValue, Package
from groupbill.catalog.packages import lock_package
from groupbill.catalog.prices import price_rows, replace_prices
from groupbill.errors import Conflict, FieldError


# A fresh read: the option callers pass in may carry prefetched (older) values.
def _values_of(option: ConfigOption) -> list[ConfigOptionValue]:
    return list(
        ConfigOptionValue.objects.filter(option=option).order_by("pk").prefetch_related("prices")
    )


def option_snapshot(option: ConfigOption) -> dict[str, Any]:
    return {
        "id": option.pk,
        "name": option.name,
        "kind": option.kind,
        "values": [
            {"id": val.pk, "name": val.name, "prices": price_rows(val.prices.all())}
            for val in _values_of(option)
        ],
    }


def _write_values(option: ConfigOption, values: list[dict[str, Any]]) -> None:
    current = {val.pk: val for val in _values_of(option)}
    keep = {row["id"] for row in values if row["id"] is not None}
    for value_id, stale in current.items():
        if value_id not in keep:
            try:
                stale.delete()
            except ProtectedError:
                raise Conflict(
                    f'Value "{stale.name}" of option "{option.name}" is used by services '
                    "and cannot be removed."
                ) from None
    for row in values:
        value = current.get(row["id"]) if row["id"] is not None else None
        if value is None:
            value = ConfigOptionValue.objects.create(option=option, name=row["name"])
        elif value.name != row["name"]:
            value.name = row["name"]
            value.save(update_fields=["name"])
        replace_prices(
            list(ConfigOptionPrice.objects.filter(value=value)),
            row["prices"],
            lambda value=value, **price: ConfigOptionPrice(value=value, **price),
        )


def add_option(
    package: Package,
    data: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> ConfigOption:
    """A configurable option: name, kind (select: pick one value; quantity: one value
    priced per unit) and values, each with its own prices per term and currency. A value
    without a price for a term and currency is not offered in it (price 0 is free).

    `unreadable`: errors the caller met reading its input (an amount a form could not
    parse); they are raised with the option's own, and nothing is written."""
    with transaction.atomic():
        lock_package(package)
        fields, values = clean_option(package, data, None, unreadable)
        option = ConfigOption.objects.create(package=package, **fields)
        _write_values(option, values or [])
        record(
            subject=package,
            actor=actor,
            action="option.create",
            key=option.name,
            new=wrap(option_snapshot(option)),
        )
    return option


def update_option(
    option: ConfigOption,
    changes: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> ConfigOption:
    """Change name or kind, or replace the values: listed values with an id are kept (and
    renamed, re-priced), values without one are added, values left out are removed.
    `unreadable` as for add_option."""
    package = option.package
    with transaction.atomic():
        lock_package(package)
        fields, values = clean_option(package, changes, option, unreadable)
        old = option_snapshot(option)
        for field, value in fields.items():
            setattr(option, field, value)
        option.save()
        if values is not None:
            _write_values(option, values)
        new = option_snapshot(option)
        if old != new:
            record(
                subject=package,
                actor=actor,
                action="option.update",
                key=option.name,
                old=wrap(old),
                new=wrap(new),
            )
    return option


def delete_option(option: ConfigOption, *, actor: str) -> None:
    package = option.package
    try:
        with transaction.atomic():
            lock_package(package)
            record(
                subject=package,
                actor=actor,
                action="option.delete",
                key=option.name,
                old=wrap(option_snapshot(option)),
            )
            option.delete()
    except ProtectedError:
        raise Conflict(
            f'Option "{option.name}" is used by services and cannot be deleted.'
        ) from None
