"""Every key of the settings catalogue validates exactly as SETTINGS.md says.

The expected table below is written from the spec, not read from the catalogue, so a key
whose type, bounds, default or client flag drifts from the spec fails here."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groupbill.clients.contact_fields import CONTACT_FIELD_NAMES
from groupbill.settings_catalog.catalog import CATALOG, CLIENT_KEYS, DEFAULTS
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.types import InvalidValue

PROBLEM = "application/problem+json"


# --- The spec, transcribed ---------------------------------------------------------------


def _int(lo, hi, default, *, word=None, nullable=False, client=False):
    return {"kind": "int", "min": lo, "max": hi, "default": default, "word": word,
            "nullable": nullable, "client": client}  # fmt: skip


def _bool(default, *, client=False):
    return {"kind": "bool", "default": default, "client": client}


NOTICE = {"nullable": True}
CONTACT_FIELDS_IN_SPEC = (
    "first_name", "last_name", "company", "title", "email", "address1", "address2", "city",
    "state", "zip", "country", "phone", "fax",
)  # fmt: skip

SPEC = {
    "invoice_days_before_renewal": _int(0, 60, 5),
    "invoice_services_together": _bool(True),
    "invoice_suspended_services": _bool(True),
    "show_option_date_ranges": _bool(False),
    "autodebit_enabled": _bool(True, client=True),
    "autodebit_days_before_due": _int(0, 60, 1),
    "autodebit_attempts": _int(1, 30, 3),
    "suspend_services_days_after_due": _int(1, 60, 7, word="never"),
    "service_renewal_attempts": _int(1, 30, 24),
    "renewal_spacing_threshold_1": _int(1, 30, 6),
    "renewal_spacing_hours_1": _int(1, 168, 1),
    "renewal_spacing_threshold_2": _int(1, 30, 12),
    "renewal_spacing_hours_2": _int(1, 168, 24),
    "cancel_service_changes_days_after_due": _int(1, 30, 7),
    "queue_service_changes_until_paid": _bool(False),
    "client_can_set_invoice_method": _bool(True),
    "client_can_cancel_services": _bool(False),
    "synchronize_addons": _bool(True),
    "client_can_create_addons": _bool(True),
    "client_can_change_term": _bool(False),
    "client_can_change_package": _bool(False),
    "prorate_downgrade_credits": _bool(False),
    "auto_apply_credits": _bool(True),
    "auto_provision_paid_pending": _bool(True),
    "void_invoices_on_cancel": _bool(True),
    "void_on_cancel_max_days_past_due": _int(0, 60, 0, word="any"),
    "show_tax_id_field": _bool(True),
    "delivery_methods": {
        "kind": "set",
        "default": ["email"],
        "client": False,
        "choices": ("email", "paper"),
    },
    "invoice_method": {
        "kind": "choice",
        "default": "email",
        "client": True,
        "choices": ("email", "paper"),
    },
    "send_payment_notices": _bool(True, client=True),
    "notice_first_days": _int(-60, 120, -1, **NOTICE),
    "notice_second_days": _int(-60, 120, 3, **NOTICE),
    "notice_third_days": _int(-60, 120, 7, **NOTICE),
    "notice_autodebit_pending_days": _int(1, 60, 1, **NOTICE),
    "required_contact_fields": {
        "kind": "set",
        "default": [],
        "client": False,
        "choices": CONTACT_FIELDS_IN_SPEC,
    },
}

LEGACY_KEYS = {
    "inv_days_before_renewal", "autodebit_days_before_due", "suspend_services_days_after_due",
    "autodebit_attempts", "service_renewal_attempts", "first_renewal_attempt_threshold",
    "first_renewal_attempt_spacing", "second_renewal_attempt_threshold",
    "second_renewal_attempt_spacing", "cancel_service_changes_days",
    "process_paid_service_changes", "autodebit", "client_set_invoice", "inv_suspended_services",
    "inv_group_services", "inv_lines_verbose_option_dates", "clients_cancel_services",
    "synchronize_addons", "client_create_addons", "client_change_service_term",
    "client_change_service_package", "client_prorate_credits", "auto_apply_credits",
    "auto_paid_pending_services", "void_invoice_canceled_service",
    "void_inv_canceled_service_days", "show_client_tax_id", "delivery_methods", "inv_method",
    "send_payment_notices", "notice1", "notice2", "notice3", "notice_pending_autodebit",
    "required_contact_fields",
}  # fmt: skip

INT_KEYS = [k for k, s in SPEC.items() if s["kind"] == "int"]
BOOL_KEYS = [k for k, s in SPEC.items() if s["kind"] == "bool"]
NULLABLE_KEYS = {k for k, s in SPEC.items() if s.get("nullable")}
WORDS = {"never", "any"}


def accepted(key, value):
    return CATALOG[key].clean(value)


def refused(key, value) -> bool:
    try:
        CATALOG[key].clean(value)
    except InvalidValue as exc:
        assert str(exc), "the refusal must say why"
        return True
    return False


def valid_samples(key: str) -> list:
    s = SPEC[key]
    if s["kind"] == "int":
        out = [s["min"], s["max"], (s["min"] + s["max"]) // 2]
        if s["word"]:
            out.append(s["word"])
        if s["nullable"]:
            out.append(None)
        return out
    if s["kind"] == "bool":
        return [True, False]
    if s["kind"] == "choice":
        return list(s["choices"])
    return [[], list(s["choices"]), [s["choices"][-1]]]


def invalid_samples(key: str) -> list:
    s = SPEC[key]
    common = [{}, 1.5, [[]], {"value": 1}]
    if not s.get("nullable"):
        common.append(None)
    if s["kind"] == "int":
        lo, hi = s["min"], s["max"]
        return [
            *common,
            lo - 1,
            hi + 1,
            str(lo),
            str(hi),
            True,
            False,
            float(lo),
            [lo],
            "",
            *sorted(WORDS - {s["word"]}),
            "NEVER" if s["word"] else "null",
        ]
    if s["kind"] == "bool":
        return [*common, 1, 0, "true", "false", "yes", [True]]
    if s["kind"] == "choice":
        return [*common, "fax", "EMAIL", "", [s["choices"][0]], 0, True]
    return [*common, s["choices"][0], ["nope"], [s["choices"][0], "nope"], [1], [None], True, 0, ""]


# --- The catalogue is the spec -----------------------------------------------------------


def test_catalog_declares_exactly_the_spec_keys():
    assert set(CATALOG) == set(SPEC)
    assert {s.legacy_key for s in CATALOG.values()} == LEGACY_KEYS
    assert {k for k, s in SPEC.items() if s["client"]} == CLIENT_KEYS
    assert {"autodebit_enabled", "invoice_method", "send_payment_notices"} == CLIENT_KEYS


@pytest.mark.parametrize("key", CATALOG)
def test_default_is_the_spec_default_and_is_accepted(key):
    setting = CATALOG[key]
    assert setting.default == SPEC[key]["default"]
    assert DEFAULTS[key] == SPEC[key]["default"]
    assert setting.clean(setting.default) == setting.default
    assert setting.client == SPEC[key]["client"]
    assert setting.label and setting.help


@pytest.mark.parametrize("key", CATALOG)
def test_valid_values_are_accepted(key):
    for value in valid_samples(key):
        cleaned = accepted(key, value)
        if SPEC[key]["kind"] == "set":
            assert set(cleaned) >= set(value)
        else:
            assert cleaned == value
            assert type(cleaned) is type(value)


@pytest.mark.parametrize("key", CATALOG)
def test_invalid_values_are_refused(key):
    kept = [v for v in invalid_samples(key) if not refused(key, v)]
    assert kept == []


@pytest.mark.parametrize("key", CATALOG)
def test_null_only_for_nullable_keys(key):
    if key in NULLABLE_KEYS:
        assert accepted(key, None) is None
    else:
        assert refused(key, None)


def test_nullable_keys_are_the_notices():
    notices = ("notice_first_days", "notice_second_days", "notice_third_days")
    assert {*notices, "notice_autodebit_pending_days"} == NULLABLE_KEYS


# --- Ints: bounds, strict types, words ------------------------------------------------------


@pytest.mark.parametrize("key", INT_KEYS)
def test_int_bounds(key):
    lo, hi = SPEC[key]["min"], SPEC[key]["max"]
    assert accepted(key, lo) == lo
    assert accepted(key, hi) == hi
    assert refused(key, lo - 1)
    assert refused(key, hi + 1)


@pytest.mark.parametrize("key", INT_KEYS)
def test_int_strict_types(key):
    good = SPEC[key]["default"]
    assert refused(key, str(good))  # "5", not 5
    assert refused(key, "5")
    assert refused(key, True)  # true is not 1
    assert refused(key, False)
    assert refused(key, float(good))


def test_suspend_never_and_void_any():
    assert accepted("suspend_services_days_after_due", "never") == "never"
    assert refused("suspend_services_days_after_due", "any")
    assert refused("suspend_services_days_after_due", "Never")
    assert refused("suspend_services_days_after_due", 0)
    assert accepted("void_on_cancel_max_days_past_due", "any") == "any"
    assert accepted("void_on_cancel_max_days_past_due", 0) == 0
    assert refused("void_on_cancel_max_days_past_due", "never")
    for key in set(INT_KEYS) - {
        "suspend_services_days_after_due",
        "void_on_cancel_max_days_past_due",
    }:
        assert refused(key, "never") and refused(key, "any"), key


@pytest.mark.parametrize("key", BOOL_KEYS)
def test_bools_refuse_ints_and_strings(key):
    assert accepted(key, True) is True
    assert accepted(key, False) is False
    for value in (1, 0, "true", "false", None):
        assert refused(key, value), value


# --- Sets and choices ----------------------------------------------------------------------


def test_delivery_methods_sorted_unique_email_always():
    assert accepted("delivery_methods", ["paper", "email", "paper"]) == ["email", "paper"]
    assert accepted("delivery_methods", ["paper"]) == ["email", "paper"]
    assert accepted("delivery_methods", []) == ["email"]
    assert accepted("delivery_methods", ["email", "email"]) == ["email"]
    assert refused("delivery_methods", ["fax"])
    assert refused("delivery_methods", ["email", "fax"])
    assert refused("delivery_methods", ["Email"])
    assert refused("delivery_methods", "email")


def test_required_contact_fields_sorted_unique_nothing_added():
    assert accepted("required_contact_fields", []) == []
    assert accepted("required_contact_fields", ["zip", "email", "zip"]) == ["email", "zip"]
    assert accepted("required_contact_fields", list(CONTACT_FIELD_NAMES)) == sorted(
        CONTACT_FIELD_NAMES
    )
    assert refused("required_contact_fields", ["nickname"])
    assert refused("required_contact_fields", ["email", "role"])
    assert refused("required_contact_fields", "email")


def test_invoice_method_choices():
    assert accepted("invoice_method", "email") == "email"
    assert accepted("invoice_method", "paper") == "paper"
    for value in ("fax", "Paper", "", None, ["email"], 1):
        assert refused("invoice_method", value), value


# --- Properties ------------------------------------------------------------------------------


@st.composite
def int_key_and_value(draw, inside: bool):
    key = draw(st.sampled_from(INT_KEYS))
    lo, hi = SPEC[key]["min"], SPEC[key]["max"]
    if inside:
        value = draw(st.integers(lo, hi))
    else:
        value = draw(st.integers(max_value=lo - 1) | st.integers(min_value=hi + 1))
    return key, value


@given(int_key_and_value(inside=True))
def test_any_int_inside_bounds_is_accepted(kv):
    key, value = kv
    assert accepted(key, value) == value


@given(int_key_and_value(inside=False))
def test_any_int_outside_bounds_is_refused(kv):
    key, value = kv
    assert refused(key, value)


@given(
    st.sampled_from(INT_KEYS),
    st.one_of(st.text(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2)),
)
def test_ints_refuse_every_non_int(key, value):
    if value == SPEC[key]["word"]:
        return
    assert refused(key, value)


_SET_KEYS = ["delivery_methods", "required_contact_fields"]


@st.composite
def set_key_and_members(draw):
    key = draw(st.sampled_from(_SET_KEYS))
    members = draw(st.lists(st.sampled_from(SPEC[key]["choices"]), max_size=20))
    return key, members


@given(set_key_and_members())
def test_choice_set_cleaning_is_sorted_unique_idempotent(km):
    key, members = km
    cleaned = accepted(key, members)
    always = {"email"} if key == "delivery_methods" else set()
    assert cleaned == sorted(set(cleaned))
    assert set(cleaned) == set(members) | always
    assert accepted(key, cleaned) == cleaned
    assert accepted(key, list(reversed(members))) == cleaned


@given(set_key_and_members(), st.text(min_size=1))
def test_choice_set_refuses_any_unknown_member(km, intruder):
    key, members = km
    if intruder in SPEC[key]["choices"]:
        return
    assert refused(key, [*members, intruder])


# --- Through the API: the 422 names the key ---------------------------------------------------


INVALID_OVER_API = [
    ("autodebit_attempts", 0),
    ("autodebit_attempts", "5"),
    ("invoice_days_before_renewal", True),
    ("invoice_services_together", 1),
    ("show_tax_id_field", "true"),
    ("suspend_services_days_after_due", "always"),
    ("void_on_cancel_max_days_past_due", "never"),
    ("renewal_spacing_hours_1", None),
    ("notice_first_days", 121),
    ("notice_autodebit_pending_days", 0),
    ("delivery_methods", ["fax"]),
    ("delivery_methods", "email"),
    ("invoice_method", "fax"),
    ("required_contact_fields", ["nickname"]),
]


@pytest.mark.parametrize(("key", "value"), INVALID_OVER_API)
def test_api_refuses_invalid_group_value_naming_the_key(api, group, key, value):
    r = api.put(f"/client-groups/{group.pk}/settings/{key}", {"value": value})
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == PROBLEM
    body = r.json()
    assert body["status"] == 422
    assert [e["field"] for e in body["errors"]] == [key]
    assert body["errors"][0]["message"]
    assert key in body["detail"]
    assert not SettingValue.objects.exists()
    assert api.get(f"/client-groups/{group.pk}/settings").json()[key] == {
        "value": SPEC[key]["default"],
        "source": "default",
    }


@pytest.mark.parametrize(("key", "value"), INVALID_OVER_API)
def test_api_refuses_invalid_company_value_naming_the_key(api, company, key, value):
    r = api.patch(f"/companies/{company.pk}/settings", {key: value})
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == PROBLEM
    assert [e["field"] for e in r.json()["errors"]] == [key]
    assert not SettingValue.objects.exists()


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("notice_first_days", None, None),
        ("notice_second_days", None, None),
        ("notice_third_days", None, None),
        ("notice_autodebit_pending_days", None, None),
        ("suspend_services_days_after_due", "never", "never"),
        ("void_on_cancel_max_days_past_due", "any", "any"),
        ("delivery_methods", ["paper", "paper"], ["email", "paper"]),
        ("required_contact_fields", ["zip", "email"], ["email", "zip"]),
        ("notice_first_days", -60, -60),
        ("renewal_spacing_hours_2", 168, 168),
    ],
)
def test_api_accepts_and_stores_cleaned_value(api, group, key, value, stored):
    r = api.put(f"/client-groups/{group.pk}/settings/{key}", {"value": value})
    assert r.status_code == 200, r.content
    assert r.json()[key] == {"value": stored, "source": "group"}
    # Stored, not merely echoed: a fresh read gives the same.
    assert api.get(f"/client-groups/{group.pk}/settings").json()[key] == {
        "value": stored,
        "source": "group",
    }


def test_api_put_without_value_is_422(api, group):
    r = api.put(f"/client-groups/{group.pk}/settings/autodebit_attempts", {})
    assert r.status_code == 422
    assert r["Content-Type"] == PROBLEM
    assert [e["field"] for e in r.json()["errors"]] == ["value"]


def test_openapi_documents_every_key_with_its_type(api):
    schema = api.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    patch = components["CompanySettingsPatch"]["properties"]
    assert set(patch) == set(CATALOG)
    assert patch["autodebit_attempts"]["type"] == "integer"
    assert patch["autodebit_attempts"]["minimum"] == 1
    assert patch["autodebit_attempts"]["maximum"] == 30
    assert patch["invoice_method"]["enum"] == ["email", "paper"]
