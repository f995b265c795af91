"""Effective settings for a whole company at once: three queries, then any client's value
is a dictionary lookup. This is how planning stays set-based.

A view may be limited to a range of client ids (a shard of a run): every task plans only
for those clients, through `scoped`."""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from django.db.models import QuerySet

from groupbill.clients.models import Client
from groupbill.companies.models import Company
from groupbill.periods import local_date
from groupbill.settings_catalog.catalog import CLIENT_KEYS
from groupbill.settings_catalog.effective import ClientSettings, GroupSettings
from groupbill.settings_catalog.resolver import resolve_company_groups


@dataclass
class CompanyView:
    company: Company
    as_of: datetime
    today: date
    groups: dict[int, dict[str, Any]]
    client_overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    clients: tuple[int, int] | None = None  # first and last client id, both included

    @classmethod
    def load(
        cls, company: Company, as_of: datetime, clients: tuple[int, int] | None = None
    ) -> "CompanyView":
        resolved, overrides = resolve_company_groups(company.pk, clients)
        groups = {gid: {k: e.value for k, e in r.items()} for gid, r in resolved.items()}
        today = local_date(as_of, company.timezone)
        return cls(company, as_of, today, groups, overrides, clients)

    def narrowed(self, clients: tuple[int, int]) -> "CompanyView":
        """This view of the whole company, limited to a range of its clients (a shard):
        the settings read once serve every shard."""
        return CompanyView(self.company, self.as_of, self.today, self.groups,
                           self.client_overrides, clients)  # fmt: skip

    def scoped(self, queryset: QuerySet, client_field: str = "client_id") -> QuerySet:
        """The queryset limited to this view's clients (all of the company's by default;
        the caller filters by company)."""
        if self.clients is None:
            return queryset
        if "__" in client_field and client_field.endswith("_id"):
            client_field = client_field[:-3]  # across a join, the relation compares by id
        first, last = self.clients
        return queryset.filter(**{f"{client_field}__gte": first, f"{client_field}__lte": last})

    def min_of(self, key: str) -> Any:
        return min(g[key] for g in self.groups.values())

    @cached_property
    def client_group(self) -> dict[int, int]:
        """client id -> group id for the view's clients: one query, on first use."""
        clients = self.scoped(Client.objects.filter(company=self.company), "pk")
        return dict(clients.values_list("pk", "group_id"))

    def for_client(self, client_id: int) -> ClientSettings:
        group_id = self.client_group.get(client_id)
        if group_id is None:  # a client added since the view was loaded
            group_id = Client.objects.values_list("group_id", flat=True).get(pk=client_id)
            self.client_group[client_id] = group_id
        return ClientSettings(self.groups[group_id], self.client_overrides.get(client_id))

    def for_group(self, group_id: int) -> GroupSettings:
        return GroupSettings(self.groups[group_id])

    def groups_by(self, key: str) -> dict[Any, list[int]]:
        """A group-level setting's values -> the groups that have each (for SQL that
        applies each group's own value, instead of the largest for all)."""
        if key in CLIENT_KEYS:
            raise LookupError(f"{key} may differ by client; it has no value per group")
        groups: dict[Any, list[int]] = {}
        for group_id, values in self.groups.items():
            groups.setdefault(values[key], []).append(group_id)
        return groups

    def max_of(self, key: str) -> Any:
        return max(g[key] for g in self.groups.values())
