"""The resolver answers a whole batch in a constant number of queries, with the same values
and sources as resolving one client at a time."""

import pytest
from django.db import connection
from django.db.models import JSONField, Value
from django.test.utils import CaptureQueriesContext

from groupbill.clients.actions import create_group
from groupbill.clients.models import Client, ClientGroup
from groupbill.companies.actions import create_company
from groupbill.settings_catalog.catalog import CATALOG, CLIENT_KEYS, DEFAULTS
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import (
    resolve_client,
    resolve_clients,
    resolve_companies,
    resolve_group,
    resolve_groups,
)
from tests.conftest import ACTOR

N_CLIENTS = 1000

COMPANY_VALUES = {"invoice_days_before_renewal": 10, "autodebit_enabled": False}
GROUP_VALUES = [
    {},  # the default group inherits everything
    {"invoice_days_before_renewal": 20, "notice_third_days": None},
    {"autodebit_enabled": True, "delivery_methods": ["email", "paper"]},
    {"suspend_services_days_after_due": "never", "send_payment_notices": False},
    {"invoice_days_before_renewal": 0},
]
OTHER_COMPANY_VALUES = {"invoice_days_before_renewal": 33, "autodebit_attempts": 7}


def client_values(i: int) -> dict:
    """The explicit values of the i-th client: some override, most do not. A leftover row of
    a key clients may not override must be ignored."""
    if i % 7 == 0:
        return {"autodebit_enabled": i % 2 == 0}
    if i % 11 == 0:
        return {"invoice_method": "paper", "send_payment_notices": True}
    if i % 13 == 0:
        return {"invoice_days_before_renewal": 59}  # not a client key: ignored
    return {}


def expected(layers: list[tuple[str, dict]]) -> dict[str, tuple]:
    out = {k: (v, "default") for k, v in DEFAULTS.items()}
    for source, explicit in layers:
        for key, value in explicit.items():
            if source != "client" or key in CLIENT_KEYS:
                out[key] = (value, source)
    return out


def row(**kwargs) -> SettingValue:
    """A stored value; JSON null has to be spelt out (a bare None would be SQL NULL)."""
    if kwargs["value"] is None:
        kwargs["value"] = Value(None, JSONField())
    return SettingValue(**kwargs)


def flat(resolved) -> dict[str, tuple]:
    return {k: (e.value, e.source.value) for k, e in resolved.items()}


@pytest.fixture
def world(company, default_group):
    """Two companies; five groups with overrides in the first, 1,000 clients spread over them,
    some with client overrides. Built with bulk_create to stay fast."""
    groups = [default_group] + [
        create_group(company, {"name": f"G{i}"}, actor=ACTOR) for i in range(1, len(GROUP_VALUES))
    ]
    other = create_company(
        {"name": "Other", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR
    )
    other_group = other.client_groups.get()
    rows = [row(company=company, key=k, value=v) for k, v in COMPANY_VALUES.items()]
    rows += [row(company=other, key=k, value=v) for k, v in OTHER_COMPANY_VALUES.items()]
    for group, values in zip(groups, GROUP_VALUES, strict=True):
        rows += [row(company=company, group=group, key=k, value=v) for k, v in values.items()]
    SettingValue.objects.bulk_create(rows)
    clients = Client.objects.bulk_create(
        Client(company=company, group=groups[i % len(groups)], default_currency="EUR")
        for i in range(N_CLIENTS)
    )
    other_clients = Client.objects.bulk_create(
        Client(company=other, group=other_group, default_currency="USD") for _ in range(5)
    )
    SettingValue.objects.bulk_create(
        row(company=company, client=client, key=k, value=v)
        for i, client in enumerate(clients)
        for k, v in client_values(i).items()
    )
    # Read back in id order (bulk_create only returns ids where the backend can).
    clients = list(Client.objects.filter(company=company).order_by("pk"))
    assert len(clients) == N_CLIENTS
    other_clients = list(Client.objects.filter(company=other))

    expect: dict[int, dict] = {}
    group_index = {g.pk: i for i, g in enumerate(groups)}
    for i, client in enumerate(clients):
        expect[client.pk] = expected(
            [
                ("company", COMPANY_VALUES),
                ("group", GROUP_VALUES[group_index[client.group_id]]),
                ("client", client_values(i)),
            ]
        )
    for client in other_clients:
        expect[client.pk] = expected([("company", OTHER_COMPANY_VALUES)])
    return {
        "company": company,
        "other": other,
        "groups": groups,
        "other_group": other_group,
        "clients": clients,
        "other_clients": other_clients,
        "expect": expect,
    }


def count_queries(fn) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return len(ctx.captured_queries), result


def test_resolve_clients_query_count_does_not_grow(world, django_assert_num_queries):
    ids = [c.pk for c in world["clients"]]
    single, one = count_queries(lambda: resolve_clients(ids[:1]))
    assert len(one) == 1
    assert single <= 2
    with django_assert_num_queries(single):
        batch = resolve_clients(ids)
    assert len(batch) == N_CLIENTS
    # A queryset keeps the client filter a subquery; still the same count.
    with django_assert_num_queries(single):
        from_qs = resolve_clients(Client.objects.filter(company=world["company"]))
    assert set(from_qs) == set(ids)
    # Mixing two companies does not cost more either.
    both = ids + [c.pk for c in world["other_clients"]]
    with django_assert_num_queries(single):
        assert len(resolve_clients(both)) == len(both)


def test_resolve_groups_query_count_does_not_grow(world, django_assert_num_queries):
    ids = [g.pk for g in world["groups"]] + [world["other_group"].pk]
    single, _ = count_queries(lambda: resolve_groups(ids[:1]))
    assert single <= 2
    with django_assert_num_queries(single):
        batch = resolve_groups(ids)
    assert set(batch) == set(ids)
    with django_assert_num_queries(single):
        assert set(resolve_groups(ClientGroup.objects.all())) == set(ids)


def test_batch_matches_the_spec_for_every_client(world):
    ids = list(world["expect"])
    batch = resolve_clients(ids)
    assert set(batch) == set(ids)
    for client_id, resolved in batch.items():
        assert set(resolved) == set(CATALOG)
        assert flat(resolved) == world["expect"][client_id], client_id


def test_batch_matches_resolving_each_client_alone(world):
    clients = world["clients"]
    batch = resolve_clients(Client.objects.all())
    # Every group and every kind of client override is in this sample.
    sample = clients[:60] + clients[-30:] + world["other_clients"]
    for client in sample:
        assert flat(resolve_client(client.pk)) == flat(batch[client.pk]), client.pk


def test_client_overrides_and_ignored_rows(world):
    clients = world["clients"]
    batch = resolve_clients([c.pk for c in clients[:14]])
    # i=7: autodebit_enabled False at client level over the group's True (group 2)
    seventh = flat(batch[clients[7].pk])
    assert seventh["autodebit_enabled"] == (False, "client")
    # i=11: invoice_method and send_payment_notices from the client
    eleventh = flat(batch[clients[11].pk])
    assert eleventh["invoice_method"] == ("paper", "client")
    assert eleventh["send_payment_notices"] == (True, "client")
    # i=13: a client row of a key clients cannot override is ignored (group 3 inherits 10)
    thirteenth = flat(batch[clients[13].pk])
    assert thirteenth["invoice_days_before_renewal"] == (10, "company")
    assert all(source != "client" for _, source in thirteenth.values())


def test_groups_match_the_spec(world):
    batch = resolve_groups([g.pk for g in world["groups"]] + [world["other_group"].pk])
    for group, values in zip(world["groups"], GROUP_VALUES, strict=True):
        assert flat(batch[group.pk]) == expected([("company", COMPANY_VALUES), ("group", values)])
        assert flat(resolve_group(group.pk)) == flat(batch[group.pk])
    assert flat(batch[world["other_group"].pk]) == expected([("company", OTHER_COMPANY_VALUES)])


def test_companies(world, django_assert_num_queries):
    company, other = world["company"], world["other"]
    with django_assert_num_queries(1):
        batch = resolve_companies([company.pk, other.pk])
    assert flat(batch[company.pk]) == expected([("company", COMPANY_VALUES)])
    assert flat(batch[other.pk]) == expected([("company", OTHER_COMPANY_VALUES)])


def test_empty_batches(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert resolve_clients([]) == {}
    with django_assert_max_num_queries(1):
        assert resolve_groups([]) == {}
    assert resolve_clients([999_999]) == {}


def test_null_overrides_resolve_as_values(world):
    # GROUP_VALUES[1] turns the third notice off: null is a value, not "inherit".
    group = world["groups"][1]
    assert flat(resolve_group(group.pk))["notice_third_days"] == (None, "group")
