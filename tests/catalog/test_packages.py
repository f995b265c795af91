"""The product catalogue: packages, prices per term and currency, configurable options.

Actions first (every field's validation, nested paths, all-or-nothing replacement, the
addon and webhook rules, audit), then the REST resource (shapes, secret never returned,
409 for packages and prices that services use, 404s)."""

import json

import pytest

from groupbill.audit.models import AuditEntry
from groupbill.catalog import actions
from groupbill.catalog.models import ConfigOption, ConfigOptionValue, Package, PackagePrice
from groupbill.catalog.queries import (
    ensure_orderable,
    get_package,
    option_price_for,
    option_prices_for,
    price_for,
)
from groupbill.companies.actions import create_company
from groupbill.errors import Conflict, NotFound, ValidationFailed
from groupbill.services.models import Service, ServiceOption
from tests.conftest import ACTOR, field_errors

PROBLEM = "application/problem+json"
API_ACTOR = "apikey:tests"
SECRET = "s3cret-s3cret-s3cret"
MONTH_EUR = {"unit": "month", "count": 1, "currency": "EUR", "price": 1250, "setup_fee": 500}
YEAR_EUR = {"unit": "year", "count": 1, "currency": "EUR", "price": 12000, "setup_fee": 0}


def errors_of(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        call()
    return {e.field: e.message for e in info.value.errors}


def package_entries():
    return list(AuditEntry.objects.filter(level="package").order_by("id"))


def prices_of(package) -> list[tuple]:
    return list(
        PackagePrice.objects.filter(package=package)
        .order_by("pk")
        .values_list("unit", "count", "currency", "price", "setup_fee")
    )


@pytest.fixture
def other_company(db):
    return create_company(
        {"name": "Other", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR
    )


@pytest.fixture
def make_package(company):
    def make(target=None, **data):
        data.setdefault("name", "Web S")
        data.setdefault("prices", [MONTH_EUR])
        return actions.create_package(target or company, data, actor=ACTOR)

    return make


@pytest.fixture
def make_service(make_client):
    """A service row made directly: services' own actions are not this module's concern."""

    def make(package, pricing=None):
        pricing = pricing or PackagePrice.objects.filter(package=package).first()
        return Service.objects.create(client=make_client(), package=package, pricing=pricing)

    return make


# --- Package fields ----------------------------------------------------------------------


def test_create_package_with_defaults(company):
    package = actions.create_package(company, {"name": "  Web S  "}, actor=ACTOR)
    package.refresh_from_db()
    assert package.name == "Web S"
    assert package.description == ""
    assert package.module == "none"
    assert package.webhook_url == package.webhook_secret == ""
    assert package.client_can_order_as_addon is True
    assert package.active is True
    assert list(package.addon_of.all()) == []
    assert prices_of(package) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "name", "is required"),
        ({"name": ""}, "name", "is required"),
        ({"name": "   "}, "name", "is required"),
        ({"name": "x" * 129}, "name", "must be at most 128 characters"),
        ({"name": 5}, "name", "must be text"),
        ({"name": "a\x00b"}, "name", "must not contain NUL characters"),
        ({"description": "x" * 5001}, "description", "must be at most 5000 characters"),
        ({"description": ["x"]}, "description", "must be text"),
        ({"module": "ftp"}, "module", "must be one of: none, test, webhook"),
        ({"module": None}, "module", "must be one of: none, test, webhook"),
        ({"client_can_order_as_addon": "yes"}, "client_can_order_as_addon",
         "must be true or false"),
        ({"active": 1}, "active", "must be true or false"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)  # fmt: skip
def test_package_field_validation(company, data, field, message):
    data = {"name": "Web S", **data} if field != "name" else data
    errors = errors_of(lambda: actions.create_package(company, data, actor=ACTOR))
    assert errors[field] == message
    assert not Package.objects.exists()
    assert not package_entries() or all(e.action != "package.create" for e in package_entries())


def test_every_error_is_reported_at_once(company):
    errors = errors_of(
        lambda: actions.create_package(
            company,
            {"name": "", "module": "webhook", "webhook_url": "ftp://x", "prices": [{}]},
            actor=ACTOR,
        )
    )
    assert set(errors) == {
        "name",
        "webhook_url",
        "webhook_secret",
        "prices.0.unit",
        "prices.0.currency",
        "prices.0.price",
    }


def test_update_validates_like_create_and_writes_nothing_on_error(make_package):
    package = make_package()
    errors = errors_of(
        lambda: actions.update_package(
            package, {"name": "Renamed", "description": 7, "prices": []}, actor=ACTOR
        )
    )
    assert errors == {"description": "must be text", "prices": "at least one price is required"}
    package.refresh_from_db()
    assert package.name == "Web S"
    assert [e.action for e in package_entries()] == ["package.create"]


# --- The webhook module ------------------------------------------------------------------


def test_webhook_module_needs_url_and_secret(company):
    errors = errors_of(lambda: actions.create_package(
        company, {"name": "Hook", "module": "webhook"}, actor=ACTOR))  # fmt: skip
    assert errors == {
        "webhook_url": "is required for the webhook module",
        "webhook_secret": "is required for the webhook module",
    }
    package = actions.create_package(
        company,
        {"name": "Hook", "module": "webhook", "webhook_url": "https://prov.example/hook",
         "webhook_secret": "x" * 16},
        actor=ACTOR,
    )  # fmt: skip
    assert package.webhook_secret == "x" * 16


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("webhook_url", "ftp://prov.example/hook", "must be an http:// or https:// URL"),
        ("webhook_url", "not a url", "must be an http:// or https:// URL"),
        ("webhook_url", "https://" + "a" * 200 + ".example", "must be at most 200 characters"),
        ("webhook_url", 42, "must be text"),
        ("webhook_secret", "x" * 15, "must be 16 to 128 characters long"),
        ("webhook_secret", "x" * 129, "must be 16 to 128 characters long"),
        ("webhook_secret", " " + "x" * 20, "must not contain control characters or start or "
                                           "end with spaces"),
        ("webhook_secret", "x" * 16 + "\n", "must not contain control characters or start or "
                                            "end with spaces"),
        ("webhook_secret", 1234567890123456, "must be text"),
    ],
)  # fmt: skip
def test_webhook_field_validation(company, field, value, message):
    data = {"name": "Hook", "module": "webhook", "webhook_url": "http://prov.example/hook",
            "webhook_secret": SECRET, field: value}  # fmt: skip
    assert errors_of(lambda: actions.create_package(company, data, actor=ACTOR)) == {field: message}


def test_webhook_fields_only_with_the_webhook_module(company, make_package):
    errors = errors_of(lambda: actions.create_package(
        company, {"name": "X", "module": "test", "webhook_url": "https://a.example",
                  "webhook_secret": SECRET}, actor=ACTOR))  # fmt: skip
    assert errors == {
        "webhook_url": "is only used by the webhook module",
        "webhook_secret": "is only used by the webhook module",
    }
    # Blank values are fine (forms send them).
    make_package(module="test", webhook_url="", webhook_secret="")


def test_switching_away_from_webhook_forgets_url_and_secret(company):
    package = actions.create_package(
        company,
        {"name": "Hook", "module": "webhook", "webhook_url": "https://a.example/h",
         "webhook_secret": SECRET},
        actor=ACTOR,
    )  # fmt: skip
    # Emptying the secret while staying on the webhook module is refused.
    assert errors_of(
        lambda: actions.update_package(package, {"webhook_secret": ""}, actor=ACTOR)
    ) == {"webhook_secret": "is required for the webhook module"}
    actions.update_package(package, {"module": "none"}, actor=ACTOR)
    package.refresh_from_db()
    assert (package.module, package.webhook_url, package.webhook_secret) == ("none", "", "")
    changes = {e.key: (e.old, e.new) for e in package_entries() if e.action == "package.update"}
    assert changes == {
        "module": ({"value": "webhook"}, {"value": "none"}),
        "webhook_url": ({"value": "https://a.example/h"}, {"value": ""}),
        "webhook_secret": ({"value": "[redacted]"}, {"value": ""}),
    }


def test_the_secret_never_reaches_the_audit_log(company):
    package = actions.create_package(
        company,
        {"name": "Hook", "module": "webhook", "webhook_url": "https://a.example/h",
         "webhook_secret": SECRET},
        actor=ACTOR,
    )  # fmt: skip
    actions.update_package(package, {"webhook_secret": SECRET[::-1]}, actor=ACTOR)
    actions.delete_package(package, actor=ACTOR)
    entries = package_entries()
    assert [e.action for e in entries] == ["package.create", "package.update", "package.delete"]
    assert entries[1].key == "webhook_secret"
    assert (entries[1].old, entries[1].new) == ({"value": "[redacted]"}, {"value": "[redacted]"})
    assert entries[0].new["value"]["has_webhook_secret"] is True
    for entry in entries:
        dumped = json.dumps([entry.old, entry.new])
        assert SECRET not in dumped and SECRET[::-1] not in dumped


# --- addon_of ----------------------------------------------------------------------------


def test_addon_of_packages_of_the_same_company(company, other_company, make_package):
    base = make_package(name="Base")
    other_base = make_package(name="Base 2")
    foreign = make_package(other_company, name="Foreign", prices=[])
    addon = make_package(name="Backup", addon_of=[base.pk, other_base.pk])
    assert sorted(addon.addon_of.values_list("pk", flat=True)) == [base.pk, other_base.pk]
    assert list(base.addons.all()) == [addon]

    errors = errors_of(
        lambda: actions.update_package(
            addon, {"addon_of": [base.pk, foreign.pk, addon.pk, base.pk]}, actor=ACTOR
        )
    )
    assert errors == {
        "addon_of.1": f"no package {foreign.pk} in this company",
        "addon_of.2": "a package cannot be an addon of itself",
        "addon_of.3": f"package {base.pk} is listed twice",
    }
    assert sorted(addon.addon_of.values_list("pk", flat=True)) == [base.pk, other_base.pk]

    actions.update_package(addon, {"addon_of": [other_base.pk]}, actor=ACTOR)
    assert list(addon.addon_of.values_list("pk", flat=True)) == [other_base.pk]
    entry = package_entries()[-1]
    assert (entry.action, entry.key) == ("package.update", "addon_of")
    assert (entry.old, entry.new) == (
        {"value": sorted([base.pk, other_base.pk])},
        {"value": [other_base.pk]},
    )


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        (5, "addon_of", "must be a list of package ids"),
        (["1"], "addon_of.0", "must be a package id"),
        ([True], "addon_of.0", "must be a package id"),
        ([0], "addon_of.0", "must be a package id"),
        ([2**63], "addon_of.0", "must be a package id"),
        ([999999], "addon_of.0", "no package 999999 in this company"),
    ],
)
def test_addon_of_validation(company, value, field, message):
    errors = errors_of(lambda: actions.create_package(
        company, {"name": "X", "addon_of": value}, actor=ACTOR))  # fmt: skip
    assert errors == {field: message}


# --- Prices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"unit": "decade"}, "prices.1.unit", "must be one of: day, week, month, year, onetime"),
        ({"count": 0}, "prices.1.count", "must be between 1 and 36"),
        ({"count": 37}, "prices.1.count", "must be between 1 and 36"),
        ({"count": "3"}, "prices.1.count", "must be a whole number"),
        ({"count": True}, "prices.1.count", "must be a whole number"),
        ({"unit": "onetime", "count": 2}, "prices.1.count", "must be 1 for a one-time price"),
        ({"currency": "EURO"}, "prices.1.currency",
         "must be an ISO 4217 currency code, e.g. USD or EUR"),
        ({"currency": None}, "prices.1.currency",
         "must be an ISO 4217 currency code, e.g. USD or EUR"),
        ({"price": -1}, "prices.1.price", "must not be negative"),
        ({"price": 10**12 + 1}, "prices.1.price", "must be at most 1000000000000"),
        ({"price": "12.50"}, "prices.1.price",
         "must be a whole number of minor units (1250 for 12.50)"),
        ({"price": 12.5}, "prices.1.price",
         "must be a whole number of minor units (1250 for 12.50)"),
        ({"setup_fee": -5}, "prices.1.setup_fee", "must not be negative"),
        ({"setup_fee": False}, "prices.1.setup_fee",
         "must be a whole number of minor units (1250 for 12.50)"),
        ({"amount": 5}, "prices.1.amount", "unknown field"),
        ({"unit": "month"}, "prices.1", "repeats prices.0 (1 month EUR); each term and "
                                        "currency may have one price"),
    ],
)  # fmt: skip
def test_price_validation_names_the_nested_field(make_package, change, field, message):
    package = make_package(prices=[MONTH_EUR, YEAR_EUR])
    prices = [MONTH_EUR, {**YEAR_EUR, **change}]
    errors = errors_of(lambda: actions.set_package_prices(package, prices, actor=ACTOR))
    assert errors == {field: message}


@pytest.mark.parametrize(
    ("prices", "errors"),
    [
        ([], {"prices": "at least one price is required"}),
        (None, {"prices": "must be a list of prices"}),
        ({"unit": "month"}, {"prices": "must be a list of prices"}),
        ([MONTH_EUR] * 101, {"prices": "must have at most 100 prices"}),
        ([MONTH_EUR, "month"], {"prices.1": "must be an object with unit, currency and price"}),
        ([{"count": 1}], {"prices.0.unit": "is required", "prices.0.currency": "is required",
                          "prices.0.price": "is required"}),
    ],
)  # fmt: skip
def test_price_list_validation(make_package, prices, errors):
    package = make_package()
    assert errors_of(lambda: actions.set_package_prices(package, prices, actor=ACTOR)) == errors


def test_count_and_setup_fee_default(make_package):
    package = make_package(prices=[{"unit": "onetime", "currency": "usd", "price": 0}])
    assert prices_of(package) == [("onetime", 1, "USD", 0, 0)]


def test_price_replacement_is_all_or_nothing(make_package):
    package = make_package(prices=[MONTH_EUR, YEAR_EUR])
    before = prices_of(package)
    new = [{**MONTH_EUR, "price": 999}, {**YEAR_EUR, "currency": "USD"}, {**MONTH_EUR, "count": 99}]
    errors = errors_of(lambda: actions.set_package_prices(package, new, actor=ACTOR))
    assert errors == {"prices.2.count": "must be between 1 and 36"}
    assert prices_of(package) == before
    assert [e.action for e in package_entries()] == ["package.create"]


def test_price_replacement_keeps_matching_rows(make_package):
    package = make_package(prices=[MONTH_EUR, YEAR_EUR])
    month_id, year_id = PackagePrice.objects.filter(package=package).values_list("pk", flat=True)
    quarter_usd = {"unit": "month", "count": 3, "currency": "USD", "price": 3000, "setup_fee": 0}
    actions.set_package_prices(package, [{**YEAR_EUR, "price": 11000}, quarter_usd], actor=ACTOR)
    rows = {(p.unit, p.count, p.currency): p for p in PackagePrice.objects.filter(package=package)}
    assert set(rows) == {("year", 1, "EUR"), ("month", 3, "USD")}
    assert rows["year", 1, "EUR"].pk == year_id
    assert rows["year", 1, "EUR"].price == 11000
    assert not PackagePrice.objects.filter(pk=month_id).exists()
    entry = package_entries()[-1]
    assert (entry.actor, entry.action, entry.key) == (ACTOR, "package.prices", "prices")
    assert entry.old == {"value": [MONTH_EUR, YEAR_EUR]}
    assert entry.new == {"value": [{**YEAR_EUR, "price": 11000}, quarter_usd]}
    # The same list again is a no-op: nothing written, nothing audited.
    count = AuditEntry.objects.count()
    actions.set_package_prices(package, [quarter_usd, {**YEAR_EUR, "price": 11000}], actor=ACTOR)
    assert AuditEntry.objects.count() == count


def test_a_price_services_use_cannot_be_removed(make_package, make_service):
    package = make_package(prices=[MONTH_EUR, YEAR_EUR])
    make_service(package, PackagePrice.objects.get(package=package, unit="month"))
    with pytest.raises(Conflict) as info:
        actions.set_package_prices(package, [YEAR_EUR], actor=ACTOR)
    assert "1 month EUR price is used by 1 service(s)" in info.value.message
    assert len(prices_of(package)) == 2
    # Its amount may still change.
    actions.set_package_prices(package, [{**MONTH_EUR, "price": 1500}], actor=ACTOR)
    assert prices_of(package) == [("month", 1, "EUR", 1500, 500)]


# --- Active, delete ----------------------------------------------------------------------


def test_deactivate_and_activate(make_package):
    package = make_package()
    ensure_orderable(package)
    actions.deactivate_package(package, actor=ACTOR)
    package.refresh_from_db()
    assert package.active is False
    with pytest.raises(Conflict, match="inactive and cannot be ordered"):
        ensure_orderable(package)
    actions.deactivate_package(package, actor=ACTOR)  # no-op, no entry
    actions.activate_package(package, actor=ACTOR)
    assert [(e.action, e.key, e.old, e.new) for e in package_entries()[1:]] == [
        ("package.deactivate", "active", {"value": True}, {"value": False}),
        ("package.activate", "active", {"value": False}, {"value": True}),
    ]


def test_a_package_with_services_cannot_be_deleted(make_package, make_service):
    package = make_package()
    make_service(package)
    with pytest.raises(Conflict, match="has services and cannot be deleted; deactivate"):
        actions.delete_package(package, actor=ACTOR)
    assert Package.objects.filter(pk=package.pk).exists()
    assert len(prices_of(package)) == 1
    assert [e.action for e in package_entries()] == ["package.create"]


def test_delete_package(make_package):
    base = make_package(name="Base")
    package = make_package(addon_of=[base.pk])
    actions.add_option(package, {"name": "Disk", "values": [{"name": "10 GB"}]}, actor=ACTOR)
    package_id = package.pk
    actions.delete_package(package, actor=ACTOR)
    assert list(Package.objects.all()) == [base]
    assert not ConfigOption.objects.exists()
    entry = package_entries()[-1]
    assert entry.action == "package.delete"
    assert entry.object_id == package_id
    assert entry.old["value"]["addon_of"] == [base.pk]


# --- Options -----------------------------------------------------------------------------

RAM = {
    "name": "RAM",
    "kind": "select",
    "values": [
        {"name": "2 GB", "prices": [{"unit": "month", "currency": "EUR", "price": 0}]},
        {"name": "4 GB", "prices": [{"unit": "month", "currency": "EUR", "price": 500},
                                    {"unit": "year", "currency": "EUR", "price": 5000}]},
    ],
}  # fmt: skip


def test_add_option_with_values_and_prices(make_package):
    package = make_package()
    option = actions.add_option(package, RAM, actor=ACTOR)
    assert (option.name, option.kind) == ("RAM", "select")
    small, big = option.values.order_by("pk")
    assert [v.name for v in (small, big)] == ["2 GB", "4 GB"]
    assert option_price_for(big, "year", 1, "eur").price == 5000
    assert option_price_for(small, "year", 1, "EUR") is None  # not offered yearly
    assert option_price_for(small, "month", 1, "EUR").price == 0  # free
    assert set(option_prices_for([small.pk, big.pk], "month", 1, "EUR")) == {small.pk, big.pk}
    entry = package_entries()[-1]
    assert (entry.action, entry.key, entry.object_id) == ("option.create", "RAM", package.pk)
    assert [v["name"] for v in entry.new["value"]["values"]] == ["2 GB", "4 GB"]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "RAM"}, {"values": "is required"}),
        ({"values": [{"name": "a"}]}, {"name": "is required"}),
        ({"name": "RAM", "values": []}, {"values": "at least one value is required"}),
        ({"name": "RAM", "kind": "range", "values": [{"name": "a"}]},
         {"kind": "must be one of: select, quantity"}),
        ({"name": "Disk", "kind": "quantity", "values": [{"name": "GB"}, {"name": "TB"}]},
         {"values": "a quantity option has exactly one value (its unit, e.g. GB)"}),
        ({"name": "RAM", "values": [{"name": "a"}, {"name": " A "}]},
         {"values.1.name": "repeats values.0.name"}),
        ({"name": "RAM", "values": [{"name": ""}]}, {"values.0.name": "is required"}),
        ({"name": "RAM", "values": ["a"]},
         {"values.0": "must be an object with a name and prices"}),
        ({"name": "RAM", "values": "a"}, {"values": "must be a list of values"}),
        ({"name": "RAM", "values": [{"name": "a", "price": 1}]},
         {"values.0.price": "unknown field"}),
        ({"name": "RAM", "values": [{"name": "a", "id": 1}]},
         {"values.0.id": "no value 1 in a new option"}),
        ({"name": "RAM", "values": [{"name": "a", "prices": [
            {"unit": "month", "currency": "EUR", "price": 1},
            {"unit": "onetime", "count": 3, "currency": "EUR", "price": 1}]}]},
         {"values.0.prices.1.count": "must be 1 for a one-time price"}),
        ({"name": "RAM", "values": [{"name": "a", "prices": [{"unit": "month", "price": 1}]}]},
         {"values.0.prices.0.currency": "is required"}),
        ({"name": "RAM", "colour": "red", "values": [{"name": "a"}]}, {"colour": "unknown field"}),
    ],
)  # fmt: skip
def test_option_validation(make_package, data, errors):
    package = make_package()
    assert errors_of(lambda: actions.add_option(package, data, actor=ACTOR)) == errors
    assert not ConfigOption.objects.exists()
    assert not ConfigOptionValue.objects.exists()


def test_option_names_are_unique_per_package(make_package):
    package, other = make_package(), make_package(name="Web M")
    actions.add_option(package, RAM, actor=ACTOR)
    actions.add_option(other, RAM, actor=ACTOR)
    assert errors_of(lambda: actions.add_option(package, {**RAM, "name": "ram"}, actor=ACTOR)) == {
        "name": 'an option named "ram" already exists'
    }


def test_update_option_replaces_values_by_id(make_package):
    package = make_package()
    option = actions.add_option(package, RAM, actor=ACTOR)
    small, big = option.values.order_by("pk")
    actions.update_option(
        option,
        {"name": "Memory", "values": [
            {"id": big.pk, "name": "4 GB DDR5",
             "prices": [{"unit": "month", "currency": "EUR", "price": 600}]},
            {"name": "8 GB", "prices": [{"unit": "month", "currency": "EUR", "price": 1000}]},
        ]},
        actor=ACTOR,
    )  # fmt: skip
    option.refresh_from_db()
    assert option.name == "Memory"
    values = list(option.values.order_by("pk"))
    assert [(v.pk == big.pk, v.name) for v in values] == [(True, "4 GB DDR5"), (False, "8 GB")]
    assert not ConfigOptionValue.objects.filter(pk=small.pk).exists()
    assert option_price_for(values[0], "month", 1, "EUR").price == 600
    assert option_price_for(values[0], "year", 1, "EUR") is None
    entry = package_entries()[-1]
    assert (entry.action, entry.key) == ("option.update", "Memory")
    assert entry.old["value"]["name"] == "RAM"
    # A no-op update writes no entry.
    count = AuditEntry.objects.count()
    actions.update_option(option, {"name": "Memory"}, actor=ACTOR)
    assert AuditEntry.objects.count() == count


def test_update_option_rules(make_package):
    package = make_package()
    option = actions.add_option(package, RAM, actor=ACTOR)
    other = actions.add_option(package, {"name": "Disk", "values": [{"name": "x"}]}, actor=ACTOR)
    foreign_value = other.values.get()
    big = option.values.order_by("pk").last()
    assert errors_of(lambda: actions.update_option(option, {"kind": "quantity"}, actor=ACTOR)) == {
        "values": "a quantity option has exactly one value (its unit, e.g. GB)"
    }
    assert errors_of(
        lambda: actions.update_option(
            option,
            {"values": [{"id": foreign_value.pk, "name": "a"}, {"id": big.pk, "name": "b"},
                        {"id": big.pk, "name": "c"}, {"id": "1", "name": "d"}]},
            actor=ACTOR,
        )
    ) == {
        "values.0.id": f"no value {foreign_value.pk} in this option",
        "values.2.id": f"value {big.pk} is listed twice",
        "values.3.id": "no value 1 in this option",
    }  # fmt: skip
    assert errors_of(lambda: actions.update_option(option, {"name": "disk"}, actor=ACTOR)) == {
        "name": 'an option named "disk" already exists'
    }
    actions.update_option(option, {"kind": "quantity", "values": [{"id": big.pk, "name": "GB"}]},
                          actor=ACTOR)  # fmt: skip
    option.refresh_from_db()
    assert option.kind == "quantity"
    assert list(option.values.values_list("name", flat=True)) == ["GB"]


def test_options_services_use_cannot_be_removed(make_package, make_service):
    package = make_package()
    option = actions.add_option(package, RAM, actor=ACTOR)
    small, big = option.values.order_by("pk")
    service = make_service(package)
    ServiceOption.objects.create(service=service, option=option, value=small)
    with pytest.raises(Conflict, match='Value "2 GB" of option "RAM" is used by services'):
        actions.update_option(option, {"values": [{"id": big.pk, "name": "4 GB"}]}, actor=ACTOR)
    assert option.values.count() == 2
    with pytest.raises(Conflict, match='Option "RAM" is used by services'):
        actions.delete_option(option, actor=ACTOR)
    assert ConfigOption.objects.filter(pk=option.pk).exists()
    assert [e.action for e in package_entries()] == ["package.create", "option.create"]


def test_delete_option(make_package):
    package = make_package()
    option = actions.add_option(package, RAM, actor=ACTOR)
    actions.delete_option(option, actor=ACTOR)
    assert not ConfigOption.objects.exists()
    entry = package_entries()[-1]
    assert (entry.action, entry.key, entry.new) == ("option.delete", "RAM", None)
    assert entry.old["value"]["name"] == "RAM"


# --- Lookups -----------------------------------------------------------------------------


def test_price_for(make_package):
    setup = {"unit": "onetime", "count": 1, "currency": "EUR", "price": 9900, "setup_fee": 0}
    package = make_package(prices=[MONTH_EUR, YEAR_EUR, setup])
    assert price_for(package, "month", 1, "eur").price == 1250
    assert price_for(package, "month", 3, "EUR") is None
    assert price_for(package, "month", 1, "USD") is None
    assert price_for(package, "onetime", 12, "EUR").price == 9900  # count means nothing
    prefetched = get_package(package.pk)
    assert price_for(prefetched, "year", 1, "EUR").price == 12000
    assert price_for(prefetched, "week", 1, "EUR") is None
    with pytest.raises(NotFound):
        get_package(package.pk + 1000)


# --- REST --------------------------------------------------------------------------------


def test_package_resource(api, company):
    r = api.post(
        f"/companies/{company.pk}/packages",
        {"name": "Web S", "description": "Small", "prices": [MONTH_EUR, YEAR_EUR]},
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    price_ids = [p["id"] for p in body["prices"]]
    assert body == {
        "id": body["id"],
        "company_id": company.pk,
        "name": "Web S",
        "description": "Small",
        "module": "none",
        "webhook_url": "",
        "has_webhook_secret": False,
        "client_can_order_as_addon": True,
        "addon_of": [],
        "active": True,
        "created_at": body["created_at"],
        "prices": [{"id": price_ids[0], **MONTH_EUR}, {"id": price_ids[1], **YEAR_EUR}],
        "options": [],
    }
    package_id = body["id"]
    assert api.get(f"/packages/{package_id}").json() == body

    r = api.patch(f"/packages/{package_id}", {"name": "Web Small", "active": False})
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["active"]) == ("Web Small", False)

    r = api.put(f"/packages/{package_id}/prices", {"prices": [{**YEAR_EUR, "price": 10000}]})
    assert r.status_code == 200
    assert r.json()["prices"] == [{"id": price_ids[1], **YEAR_EUR, "price": 10000}]

    r = api.delete(f"/packages/{package_id}")
    assert r.status_code == 204
    assert api.get(f"/packages/{package_id}").status_code == 404
    assert [(e.actor, e.action) for e in package_entries()] == [
        (API_ACTOR, "package.create"),
        (API_ACTOR, "package.update"),
        (API_ACTOR, "package.deactivate"),
        (API_ACTOR, "package.prices"),
        (API_ACTOR, "package.delete"),
    ]


def test_package_list_paginates_per_company(api, company, other_company, make_package):
    for name in ("A", "B", "C"):
        make_package(name=name)
    make_package(other_company, name="Elsewhere")
    actions.deactivate_package(Package.objects.get(name="B"), actor=ACTOR)
    r = api.get(f"/companies/{company.pk}/packages?limit=2&offset=1")
    assert r.status_code == 200
    assert r.json()["count"] == 3
    assert [p["name"] for p in r.json()["items"]] == ["B", "C"]
    r = api.get(f"/companies/{company.pk}/packages?active=false")
    assert [p["name"] for p in r.json()["items"]] == ["B"]
    assert api.get(f"/companies/{company.pk}/packages?limit=501").status_code == 422


def test_the_secret_is_never_returned(api, company):
    data = {"name": "Hook", "module": "webhook", "webhook_url": "https://a.example/h",
            "webhook_secret": SECRET}  # fmt: skip
    r = api.post(f"/companies/{company.pk}/packages", data)
    assert r.status_code == 201
    package_id = r.json()["id"]
    responses = [
        r,
        api.get(f"/packages/{package_id}"),
        api.get(f"/companies/{company.pk}/packages"),
        api.patch(f"/packages/{package_id}", {"webhook_secret": SECRET[::-1]}),
        api.put(f"/packages/{package_id}/prices", {"prices": [MONTH_EUR]}),
    ]
    for response in responses:
        assert response.status_code in (200, 201)
        assert SECRET not in response.content.decode()
        assert SECRET[::-1] not in response.content.decode()
        assert '"webhook_secret"' not in response.content.decode()
    assert r.json()["has_webhook_secret"] is True
    assert Package.objects.get(pk=package_id).webhook_secret == SECRET[::-1]


def test_api_validation_names_nested_fields(api, company, make_package):
    url = f"/companies/{company.pk}/packages"
    r = api.post(url, {"name": "X", "prices": [MONTH_EUR, {**YEAR_EUR, "count": 0}]})
    assert r.status_code == 422
    assert field_errors(r) == {"prices.1.count": "must be between 1 and 36"}
    # Type errors are caught by the schema with the same paths.
    r = api.post(url, {"name": "X", "prices": [MONTH_EUR, {**YEAR_EUR, "count": "3"}]})
    assert field_errors(r) == {"prices.1.count": "must be a whole number"}
    r = api.post(url, {"name": "X", "addon_of": ["1"]})
    assert field_errors(r) == {"addon_of.0": "must be a whole number"}
    r = api.post(url, {"name": "X", "webhook_secret": "x"})
    assert set(field_errors(r)) == {"webhook_secret"}
    r = api.post(url, {"name": "X", "secret": "x"})
    assert field_errors(r) == {"secret": "unknown field"}
    package = make_package()
    r = api.put(f"/packages/{package.pk}/prices", {"prices": []})
    assert r.status_code == 422
    assert field_errors(r) == {"prices": "at least one price is required"}
    r = api.put(f"/packages/{package.pk}/prices", [MONTH_EUR])
    assert r.status_code == 422
    r = api.patch(f"/packages/{package.pk}", {"name": None})
    assert field_errors(r) == {"name": "is required"}
    assert not Package.objects.filter(name="X").exists()
    assert prices_of(package) == [tuple(MONTH_EUR.values())]


def test_api_delete_conflicts(api, make_package, make_service):
    package = make_package(prices=[MONTH_EUR, YEAR_EUR])
    make_service(package)
    r = api.delete(f"/packages/{package.pk}")
    assert r.status_code == 409
    assert r["Content-Type"] == PROBLEM
    assert "deactivate it instead" in r.json()["detail"]
    r = api.put(f"/packages/{package.pk}/prices", {"prices": [YEAR_EUR]})
    assert r.status_code == 409
    assert r["Content-Type"] == PROBLEM
    assert r.json()["title"] == "Conflict"
    assert len(prices_of(package)) == 2


def test_option_resource(api, make_package):
    package = make_package()
    r = api.post(f"/packages/{package.pk}/options", RAM)
    assert r.status_code == 201, r.json()
    option = r.json()
    assert option["package_id"] == package.pk
    assert (option["name"], option["kind"]) == ("RAM", "select")
    assert [v["name"] for v in option["values"]] == ["2 GB", "4 GB"]
    assert option["values"][1]["prices"][1] == {
        "id": option["values"][1]["prices"][1]["id"],
        "unit": "year", "count": 1, "currency": "EUR", "price": 5000, "setup_fee": 0,
    }  # fmt: skip
    assert api.get(f"/packages/{package.pk}").json()["options"] == [option]
    listed = api.get(f"/packages/{package.pk}/options").json()
    assert listed == {"items": [option], "count": 1}
    assert api.get(f"/package-options/{option['id']}").json() == option

    big = option["values"][1]
    r = api.patch(
        f"/package-options/{option['id']}",
        {"values": [{"id": big["id"], "name": "4 GB"}, {"name": "8 GB", "prices": []}]},
    )
    assert r.status_code == 200, r.json()
    assert [(v["name"], len(v["prices"])) for v in r.json()["values"]] == [("4 GB", 0), ("8 GB", 0)]
    assert r.json()["values"][0]["id"] == big["id"]

    r = api.patch(f"/package-options/{option['id']}", {"values": [{"name": "a", "prices": [
        {"unit": "month", "currency": "EUR", "price": -1}]}]})  # fmt: skip
    assert r.status_code == 422
    assert field_errors(r) == {"values.0.prices.0.price": "must not be negative"}
    r = api.post(f"/packages/{package.pk}/options", {"name": "X", "values": [{"nam": "a"}]})
    assert r.status_code == 422
    assert set(field_errors(r)) == {"values.0.name", "values.0.nam"}

    assert api.delete(f"/package-options/{option['id']}").status_code == 204
    assert api.get(f"/package-options/{option['id']}").status_code == 404
    assert [e.action for e in package_entries()[1:]] == [
        "option.create",
        "option.update",
        "option.delete",
    ]


def test_option_in_use_conflicts(api, make_package, make_service):
    package = make_package()
    option = actions.add_option(package, RAM, actor=ACTOR)
    ServiceOption.objects.create(
        service=make_service(package), option=option, value=option.values.first()
    )
    r = api.delete(f"/package-options/{option.pk}")
    assert r.status_code == 409
    assert r["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/companies/999999/packages"),
        ("get", "/packages/999999"),
        ("patch", "/packages/999999"),
        ("delete", "/packages/999999"),
        ("put", "/packages/999999/prices"),
        ("get", "/packages/999999/options"),
        ("get", "/package-options/999999"),
        ("patch", "/package-options/999999"),
        ("delete", "/package-options/999999"),
    ],
)
def test_unknown_ids_are_404(api, method, path):
    bodies = {"patch": {}, "put": {"prices": [MONTH_EUR]}}
    call = getattr(api, method)
    r = call(path, bodies[method]) if method in bodies else call(path)
    assert r.status_code == 404
    assert r["Content-Type"] == PROBLEM


def test_openapi_lists_the_package_paths(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/companies/{company_id}/packages"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/packages/{package_id}"])
    assert {"put"} <= set(paths["/api/v1/packages/{package_id}/prices"])
    assert {"get", "post"} <= set(paths["/api/v1/packages/{package_id}/options"])
    assert {"patch", "delete"} <= set(paths["/api/v1/package-options/{option_id}"])


def test_package_list_reads_in_constant_queries(api, company, make_package):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/companies/{company.pk}/packages").status_code == 200
        return len(ctx.captured_queries)

    def add(name):
        package = make_package(name=name, prices=[MONTH_EUR, YEAR_EUR])
        actions.add_option(package, RAM, actor=ACTOR)

    list_queries()  # the key's first use writes last_used_at once
    add("A")
    one = list_queries()
    for name in ("B", "C", "D"):
        add(name)
    assert list_queries() == one
