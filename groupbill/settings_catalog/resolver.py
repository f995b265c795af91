"""Effective settings with their source, for whole batches in a constant number of queries.

    built-in default  <-  company  <-  client group  <-  client (client keys only)

Every reader (engine, API, UI) goes through here. Resolution layers dictionaries: groups
are resolved once and clients without overrides share their group's result, so a batch of
N clients costs two queries and O(N + groups x keys) work.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from groupbill.settings_catalog.catalog import CATALOG, CLIENT_KEYS, DEFAULTS, Source
from groupbill.settings_catalog.models import SettingValue


@dataclass(frozen=True, slots=True)
class Effective:
    value: Any
    source: Source


Resolved = dict[str, Effective]

_DEFAULT_RESOLVED: Resolved = {k: Effective(v, Source.DEFAULT) for k, v in DEFAULTS.items()}


def layer(base: Resolved, explicit: dict[str, Any], source: Source) -> Resolved:
    """`base` overridden by the explicit values of one level. Keys the catalogue no longer
    knows (a removed setting's leftover rows) are ignored."""
    if not explicit:
        return base
    out = dict(base)
    for key, value in explicit.items():
        if key in CATALOG and (source != Source.CLIENT or key in CLIENT_KEYS):
            out[key] = Effective(value, source)
    return out


def values(resolved: Resolved) -> dict[str, Any]:
    return {k: e.value for k, e in resolved.items()}


def defaults() -> Resolved:
    return _DEFAULT_RESOLVED


def _ids(objs: Iterable[int] | QuerySet) -> QuerySet | list[int]:
    return objs.values("pk") if isinstance(objs, QuerySet) else list(objs)


def _company_rows(company_ids) -> Q:
    return Q(company_id__in=company_ids, group__isnull=True, client__isnull=True)


def _split(rows) -> tuple[dict, dict, dict]:
    by_company: dict[int, dict] = defaultdict(dict)
    by_group: dict[int, dict] = defaultdict(dict)
    by_client: dict[int, dict] = defaultdict(dict)
    for company_id, group_id, client_id, key, value in rows:
        if client_id is not None:
            by_client[client_id][key] = value
        elif group_id is not None:
            by_group[group_id][key] = value
        else:
            by_company[company_id][key] = value
    return by_company, by_group, by_client


_ROW = ("company_id", "group_id", "client_id", "key", "value")


def resolve_companies(company_ids: Iterable[int]) -> dict[int, Resolved]:
    """One query."""
    ids = list(company_ids)
    by_company, _, _ = _split(SettingValue.objects.filter(_company_rows(ids)).values_list(*_ROW))
    return {cid: layer(_DEFAULT_RESOLVED, by_company.get(cid, {}), Source.COMPANY) for cid in ids}


def _resolve_group_rows(
    groups: list[tuple[int, int]], by_company: dict, by_group: dict
) -> dict[int, Resolved]:
    company_cache: dict[int, Resolved] = {}
    out: dict[int, Resolved] = {}
    for group_id, company_id in groups:
        if company_id not in company_cache:
            company_cache[company_id] = layer(
                _DEFAULT_RESOLVED, by_company.get(company_id, {}), Source.COMPANY
            )
        out[group_id] = layer(company_cache[company_id], by_group.get(group_id, {}), Source.GROUP)
    return out


def resolve_groups(group_ids: Iterable[int] | QuerySet) -> dict[int, Resolved]:
    """Two queries, whatever the number of groups."""
    from groupbill.clients.models import ClientGroup

    groups = list(
        ClientGroup.objects.filter(pk__in=_ids(group_ids)).values_list("pk", "company_id")
    )
    if not groups:
        return {}
    company_ids = sorted({c for _, c in groups})
    rows = SettingValue.objects.filter(
        Q(group_id__in=[g for g, _ in groups]) | _company_rows(company_ids)
    ).values_list(*_ROW)
    by_company, by_group, _ = _split(rows)
    return _resolve_group_rows(groups, by_company, by_group)


def resolve_company_groups(
    company_id: int, clients: tuple[int, int] | None = None
) -> tuple[dict[int, Resolved], dict[int, dict[str, Any]]]:
    """Every group of a company resolved, and the explicit client-level values of its
    clients (those from `clients[0]` to `clients[1]`, ids, if given): two queries, each
    on the company alone (a value's row is its company's, whatever its level)."""
    from groupbill.clients.models import ClientGroup

    group_ids = ClientGroup.objects.filter(company_id=company_id).values_list("pk", flat=True)
    client_rows = Q(client__isnull=False, key__in=CLIENT_KEYS)
    if clients is not None:
        client_rows &= Q(client_id__gte=clients[0], client_id__lte=clients[1])
    rows = SettingValue.objects.filter(Q(client__isnull=True) | client_rows, company_id=company_id)
    by_company, by_group, by_client = _split(rows.values_list(*_ROW))
    groups = [(group_id, company_id) for group_id in group_ids]
    return _resolve_group_rows(groups, by_company, by_group), dict(by_client)


def resolve_clients(client_ids: Iterable[int] | QuerySet) -> dict[int, Resolved]:
    """Two queries, whatever the number of clients: pass a queryset for large batches so the
    client filter stays a subquery instead of a parameter list."""
    from groupbill.clients.models import Client

    client_filter = _ids(client_ids)
    clients = list(
        Client.objects.filter(pk__in=client_filter).values_list("pk", "group_id", "company_id")
    )
    if not clients:
        return {}
    groups = sorted({(g, c) for _, g, c in clients})
    company_ids = sorted({c for _, c in groups})
    rows = SettingValue.objects.filter(
        Q(client_id__in=client_filter)
        | Q(group_id__in=[g for g, _ in groups])
        | _company_rows(company_ids)
    ).values_list(*_ROW)
    by_company, by_group, by_client = _split(rows)
    group_resolved = _resolve_group_rows(groups, by_company, by_group)
    return {
        client_id: layer(group_resolved[group_id], by_client.get(client_id, {}), Source.CLIENT)
        for client_id, group_id, _ in clients
    }


def resolve_client(client_id: int) -> Resolved:
    return resolve_clients([client_id])[client_id]


def resolve_group(group_id: int) -> Resolved:
    return resolve_groups([group_id])[group_id]


def resolve_company(company_id: int) -> Resolved:
    return resolve_companies([company_id])[company_id]
