"""Effective settings for a whole company at once: three queries, then any client's value
is a dictionary lookup. This is how planning stays set-based."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from groupbill.clients.models import ClientGroup
from groupbill.companies.models import Company
from groupbill.periods import local_date
from groupbill.settings_catalog.catalog import CLIENT_KEYS
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import resolve_groups


@dataclass
class CompanyView:
    company: Company
    as_of: datetime
    today: date
    groups: dict[int, dict[str, Any]]
    client_overrides: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, company: Company, as_of: datetime) -> "CompanyView":
        resolved = resolve_groups(ClientGroup.objects.filter(company=company))
        groups = {gid: {k: e.value for k, e in r.items()} for gid, r in resolved.items()}
        overrides: dict[int, dict[str, Any]] = {}
        for client_id, key, value in SettingValue.objects.filter(
            company=company, client__isnull=False, key__in=CLIENT_KEYS
        ).values_list("client_id", "key", "value"):
            overrides.setdefault(client_id, {})[key] = value
        return cls(company, as_of, local_date(as_of, company.timezone), groups, overrides)

    def value(self, key: str, group_id: int, client_id: int | None = None) -> Any:
        if client_id is not None and key in CLIENT_KEYS:
            client_values = self.client_overrides.get(client_id)
            if client_values and key in client_values:
                return client_values[key]
        return self.groups[group_id][key]

    def max_of(self, key: str) -> Any:
        return max(g[key] for g in self.groups.values())
