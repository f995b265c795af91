"""Settings export and import: the document, the plan per level and key, Blesta's
spellings and value forms, all or nothing, and only what differs from inheritance."""

import base64
import json

import phpserialize
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groupbill.audit.models import AuditEntry
from groupbill.clients.models import ClientGroup
from groupbill.companies.actions import create_company
from groupbill.errors import Conflict, ValidationFailed
from groupbill.settings_catalog import actions as sa
from groupbill.settings_catalog import blesta, transfer
from groupbill.settings_catalog.catalog import CATALOG
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import resolve_company, resolve_group, values
from groupbill.settings_catalog.types import Bool, Choice, Int, InvalidValue
from tests.conftest import ACTOR, failure_fields


@pytest.fixture
def source(company, group):
    """Acme: explicit company values (null, a word, a set) and one group's overrides."""
    sa.set_company_settings(
        company,
        {
            "invoice_days_before_renewal": 9,
            "notice_first_days": None,
            "suspend_services_days_after_due": "never",
            "delivery_methods": ["paper"],
        },
        actor=ACTOR,
    )
    sa.set_group_settings(
        group,
        {"autodebit_attempts": 5, "invoice_method": "paper", "required_contact_fields": ["phone"]},
        actor=ACTOR,
    )
    return company


@pytest.fixture
def target(db):
    return create_company(
        {"name": "Beta Cloud", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR
    )


def php_list(*items: str) -> str:
    return base64.b64encode(phpserialize.dumps(list(items))).decode()


def by_key(level: transfer.LevelPlan) -> dict[str, tuple]:
    return {c.key: (c.current, c.new, c.action, c.note) for c in level.changes}


def problems(items) -> dict[str, str]:
    return {p.field: p.message for p in items}


def group_overrides(company, name):
    group = ClientGroup.objects.get(company=company, name=name)
    return dict(SettingValue.objects.filter(group=group).values_list("key", "value"))


# --- Export ----------------------------------------------------------------------------


def test_export_holds_explicit_values_only_sorted_and_versioned(source):
    assert transfer.export(source) == {
        "format": "groupbill-settings",
        "version": 1,
        "company": {
            "delivery_methods": ["email", "paper"],
            "invoice_days_before_renewal": 9,
            "notice_first_days": None,
            "suspend_services_days_after_due": "never",
        },
        "groups": {
            "General": {},
            "Resellers": {
                "autodebit_attempts": 5,
                "invoice_method": "paper",
                "required_contact_fields": ["phone"],
            },
        },
    }
    text = json.dumps(transfer.export(source))
    assert text.index('"delivery_methods"') < text.index('"invoice_days_before_renewal"')
    assert text.index('"General"') < text.index('"Resellers"')


def test_round_trip_into_a_new_company_gives_the_identical_document(source, target):
    document = transfer.export(source)
    plan = transfer.plan_import(target, json.loads(json.dumps(document)))
    assert plan.ok, plan.refused
    transfer.apply_import(target, plan, actor=ACTOR)
    again = transfer.export(target)
    assert json.dumps(again) == json.dumps(document)  # same values, same order
    # and the imported group behaves like the exported one
    resellers = ClientGroup.objects.get(company=target, name="Resellers")
    assert values(resolve_group(resellers.pk))["suspend_services_days_after_due"] == "never"
    assert values(resolve_group(resellers.pk))["invoice_method"] == "paper"


def test_importing_a_company_into_itself_changes_nothing(source):
    plan = transfer.plan_import(source, transfer.export(source))
    assert plan.summary() == {
        "set": 0, "unset": 0, "unchanged": 7, "groups_created": 0, "unknown": 0, "refused": 0,
    }  # fmt: skip
    before = AuditEntry.objects.count()
    transfer.apply_import(source, plan, actor=ACTOR)
    assert AuditEntry.objects.count() == before


def test_pinned_copies_of_inherited_values_are_left_out_and_kept_by_a_reimport(source, group):
    # "pinned": explicit values equal to what the level inherits today (as the demo's
    # groups hold, and Blesta's snapshots)
    sa.set_company_settings(source, {"autodebit_attempts": 3}, actor=ACTOR)  # the default
    sa.set_group_settings(group, {"delivery_methods": ["paper"]}, actor=ACTOR)  # the company's
    document = transfer.export(source)
    assert document["company"].keys() == {
        "delivery_methods", "invoice_days_before_renewal", "notice_first_days",
        "suspend_services_days_after_due",
    }  # fmt: skip
    assert "delivery_methods" not in document["groups"]["Resellers"]
    # importing it back changes nothing: the pins are what the levels inherit, kept
    rows = SettingValue.objects.count()
    plan = transfer.plan_import(source, document)
    assert plan.summary()["set"] == plan.summary()["unset"] == 0
    assert by_key(plan.levels[0])["autodebit_attempts"] == (
        3, 3, "unchanged", "not in the document; already what it inherits: kept"
    )  # fmt: skip
    transfer.apply_import(source, plan, actor=ACTOR)
    assert SettingValue.objects.count() == rows
    # and into a new company, the round trip stays identical
    fresh = create_company(
        {"name": "Gamma", "timezone": "UTC", "default_currency": "EUR"}, actor=ACTOR
    )
    transfer.apply_import(fresh, transfer.plan_import(fresh, document), actor=ACTOR)
    assert transfer.export(fresh) == document


# --- The plan --------------------------------------------------------------------------


def test_the_plan_shows_each_levels_change_and_a_dry_run_writes_nothing(source, group):
    document = {
        "format": "groupbill-settings",
        "version": 1,
        "company": {"invoice_days_before_renewal": 12, "notice_first_days": None},
        "groups": {
            "resellers": {"autodebit_attempts": 7},
            "Trial": {"client_can_change_term": True},
        },
    }
    rows, audit = SettingValue.objects.count(), AuditEntry.objects.count()
    plan = transfer.plan_import(source, document)
    company, resellers, trial = plan.levels
    assert (company.label, resellers.label, trial.label) == (
        "company",
        'group "resellers"',
        'group "Trial"',
    )
    inherits = "not in the document: inherits"
    assert by_key(company) == {
        "delivery_methods": (["email", "paper"], ["email"], "unset", inherits),
        "invoice_days_before_renewal": (9, 12, "set", ""),
        "notice_first_days": (None, None, "unchanged", "already set here"),
        "suspend_services_days_after_due": ("never", 7, "unset", inherits),
    }
    assert not resellers.creates_group  # matched by name, case aside
    assert by_key(resellers) == {
        "autodebit_attempts": (5, 7, "set", ""),
        "invoice_method": ("paper", "email", "unset", "not in the document: inherits"),
        "required_contact_fields": (["phone"], [], "unset", "not in the document: inherits"),
    }
    assert trial.creates_group
    assert by_key(trial) == {"client_can_change_term": (False, True, "set", "")}
    assert plan.untouched_groups == ("General",)
    # the dry run (its trial write included) left no trace
    assert SettingValue.objects.count() == rows
    assert AuditEntry.objects.count() == audit
    assert not ClientGroup.objects.filter(name="Trial").exists()


def test_an_import_writes_only_what_differs_from_what_the_level_inherits(company, group):
    sa.set_group_settings(group, {"autodebit_attempts": 3}, actor=ACTOR)  # pinned, = default
    snapshot = {k: s.default for k, s in CATALOG.items()}  # Blesta's full snapshot
    document = {
        "format": "groupbill-settings",
        "version": 1,
        "company": {**snapshot, "invoice_days_before_renewal": 10},
        "groups": {
            "Resellers": {**snapshot, "invoice_days_before_renewal": 10, "autodebit_attempts": 3},
            "Enterprise": {
                **snapshot,
                "invoice_days_before_renewal": 10,
                "synchronize_addons": False,
            },
        },
    }
    plan = transfer.plan_import(company, document)
    company_plan, enterprise, resellers = plan.levels
    assert by_key(company_plan)["invoice_days_before_renewal"] == (5, 10, "set", "")
    assert by_key(company_plan)["autodebit_attempts"] == (
        3, 3, "unchanged", "same as inherited: not written"
    )  # fmt: skip
    # a group's 10 is the company's new value: not written, the group follows the company
    assert by_key(enterprise)["invoice_days_before_renewal"] == (
        5, 10, "unchanged", "same as inherited: not written"
    )  # fmt: skip
    assert by_key(resellers)["autodebit_attempts"] == (3, 3, "unchanged", "already set here")
    transfer.apply_import(company, plan, actor=ACTOR)
    assert transfer.export(company) == {
        "format": "groupbill-settings",
        "version": 1,
        "company": {"invoice_days_before_renewal": 10},
        "groups": {
            "Enterprise": {"synchronize_addons": False},
            "General": {},
            "Resellers": {},  # its pinned 3 is what it inherits: kept, not exported
        },
    }
    assert group_overrides(company, "Resellers") == {"autodebit_attempts": 3}
    assert group_overrides(company, "Enterprise") == {"synchronize_addons": False}


def test_unknown_keys_are_reported_and_the_rest_imported(company):
    document = {
        "format": "groupbill-settings",
        "version": 1,
        "company": {"late_fee_total": 5, "notice1": 3, "autodebit_attempts": 4},
        "groups": {},
    }
    plan = transfer.plan_import(company, document)
    assert [(p.field, p.value, p.message) for p in plan.unknown] == [
        ("company.late_fee_total", 5, "not a setting Groupbill knows: ignored"),
        (
            "company.notice1",
            3,
            'Blesta\'s name for "notice_first_days": import this document as blesta',
        ),
    ]
    assert plan.ok
    transfer.apply_import(company, plan, actor=ACTOR)
    assert transfer.export(company)["company"] == {"autodebit_attempts": 4}


def test_a_refused_value_is_named_with_its_key_and_reason_and_nothing_is_written(company, group):
    document = {
        "format": "groupbill-settings",
        "version": 1,
        "company": {"autodebit_attempts": 0, "invoice_days_before_renewal": 10},
        "groups": {"Resellers": {"notice_first_days": "soon"}, "New": {"synchronize_addons": 1}},
    }
    plan = transfer.plan_import(company, document)
    assert not plan.ok
    assert problems(plan.refused) == {
        "company.autodebit_attempts": "must be a whole number from 1 to 30",
        "groups.New.synchronize_addons": "must be true or false",
        "groups.Resellers.notice_first_days": (
            "must be a whole number from -60 to 120, or null (off)"
        ),
    }
    # the refused key is not planned; the others are, and show what would happen
    assert by_key(plan.levels[0]) == {"invoice_days_before_renewal": (5, 10, "set", "")}
    rows, audit = SettingValue.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        transfer.apply_import(company, plan, actor=ACTOR)
    assert failure_fields(refused)["company.autodebit_attempts"] == (
        "must be a whole number from 1 to 30"
    )
    assert (SettingValue.objects.count(), AuditEntry.objects.count()) == (rows, audit)
    assert not ClientGroup.objects.filter(name="New").exists()


def test_cross_key_rules_are_checked_on_the_state_the_whole_import_leaves(company, group):
    sa.set_group_settings(group, {"renewal_spacing_threshold_2": 8}, actor=ACTOR)
    # Raising the company's threshold 1 to 10 alone would break Resellers' 8; the same
    # import raises Resellers' threshold 2 to 15, so together they hold.
    document = {
        "format": "groupbill-settings",
        "version": 1,
        "company": {"renewal_spacing_threshold_1": 10},
        "groups": {"Resellers": {"renewal_spacing_threshold_2": 15}},
    }
    plan = transfer.plan_import(company, document)
    assert plan.ok, plan.refused
    transfer.apply_import(company, plan, actor=ACTOR)
    assert group_overrides(company, "Resellers") == {"renewal_spacing_threshold_2": 15}

    broken = {**document, "groups": {"Resellers": {"renewal_spacing_threshold_2": 9}}}
    plan = transfer.plan_import(company, broken)
    assert problems(plan.refused) == {
        "renewal_spacing_threshold_2": 'in group "Resellers": 2nd renewal attempt spacing '
        "threshold (9 attempts) must be greater than 1st renewal attempt spacing threshold "
        "(10 attempts)"
    }
    with pytest.raises(ValidationFailed):
        transfer.apply_import(company, plan, actor=ACTOR)
    assert group_overrides(company, "Resellers") == {"renewal_spacing_threshold_2": 15}


def test_an_import_is_audited_under_its_actor(company, group):
    AuditEntry.objects.all().delete()
    document = {"company": {"autodebit": "false"}, "groups": {"Resellers": {"notice2": "5"}}}
    transfer.apply_import(
        company, transfer.plan_import(company, document, dialect="blesta"), actor="cli"
    )
    assert [
        (e.actor, e.level, e.object_label, e.action, e.key, e.old, e.new)
        for e in AuditEntry.objects.order_by("pk")
    ] == [
        ("cli", "company", 'company "Acme Hosting"', "setting.set", "autodebit_enabled", None,
         {"value": False}),
        ("cli", "group", 'group "Resellers"', "setting.set", "notice_second_days", None,
         {"value": 5}),
    ]  # fmt: skip


def test_a_plan_made_before_the_settings_changed_is_not_applied(company, group):
    document = {"company": {"autodebit_attempts": "4"}, "groups": {}}
    plan = transfer.plan_import(company, document, dialect="blesta")
    sa.set_company_settings(company, {"autodebit_attempts": 6}, actor=ACTOR)
    with pytest.raises(Conflict):
        transfer.apply_import(company, plan, actor=ACTOR)
    assert transfer.export(company)["company"] == {"autodebit_attempts": 6}


@pytest.mark.parametrize(
    ("document", "dialect", "field", "message"),
    [
        ({"company": {}}, "groupbill", "format", 'must be "groupbill-settings"'),
        ({"format": "groupbill-settings", "version": 2}, "groupbill", "version", "must be 1"),
        (
            {"format": "groupbill-settings", "version": 1, "company": {}},
            "blesta",
            "format",
            "this is a Groupbill export: import it as groupbill",
        ),
        ({"company": [1]}, "blesta", "company", "must be an object"),
        ({"company": None}, "blesta", "company", "must be an object"),
        ({"groups": {"A": 5}}, "blesta", "groups.A", "must be an object"),
        ({"clients": {}}, "blesta", "clients", "unknown member"),
        ([], "blesta", "document", "must be an object"),
        (
            {"groups": {f"g{i}": {} for i in range(501)}},
            "blesta",
            "groups",
            "must name at most 500",
        ),
    ],
)
def test_a_document_that_cannot_be_read_is_refused_whole(
    company, document, dialect, field, message
):
    with pytest.raises(ValidationFailed) as refused:
        transfer.plan_import(company, document, dialect=dialect)
    assert failure_fields(refused)[field].startswith(message)


def test_group_names_are_checked_like_the_group_form(company):
    document = {"groups": {"  ": {}, "Gold": {}, "GOLD": {}, "x" * 65: {}}}
    plan = transfer.plan_import(company, document, dialect="blesta")
    assert problems(plan.refused) == {
        "groups.  ": "group name is required",
        "groups.GOLD": 'names the same group as "Gold"',
        f"groups.{'x' * 65}": "group name must be at most 64 characters",
    }


def test_several_levels_are_refused_together_each_error_naming_its_level(company, group):
    with pytest.raises(ValidationFailed) as refused:
        sa.set_settings_by_level(
            company,
            {"autodebit_attempts": 4},
            [(group, {"autodebit_attempts": 0, "colour": "red"})],
            actor=ACTOR,
        )
    assert failure_fields(refused) == {
        "autodebit_attempts": 'in group "Resellers": must be a whole number from 1 to 30',
        "colour": 'in group "Resellers": unknown setting',
    }
    assert not SettingValue.objects.exists()


# --- Blesta ----------------------------------------------------------------------------

BLESTA_COMPANY = {
    # Blesta's company_settings rows for the client-group keys, as text
    "inv_days_before_renewal": "10",
    "autodebit": "false",
    "notice1": "-3",
    "notice2": "disabled",
    "notice3": "14",
    "notice_pending_autodebit": "2",
    "suspend_services_days_after_due": "never",
    "void_inv_canceled_service_days": "any",
    "process_paid_service_changes": "true",
    "delivery_methods": php_list("email", "paper", "interfax", "email"),
    "inv_method": "email",
    "required_contact_fields": base64.b64encode(b'["phone","country"]').decode(),
    # not settings Groupbill imports
    "late_fee_total_amount": "5",
    "tax_id": "DE123",
}


def test_blesta_spellings_and_value_forms_are_mapped(company, group):
    document = {
        "company": BLESTA_COMPANY,
        "groups": {
            # a Blesta group snapshot: the company's values again, and one of its own
            "Resellers": {**BLESTA_COMPANY, "autodebit": "true", "late_fee_total_amount": "5"},
        },
    }
    plan = transfer.plan_import(company, document, dialect="blesta")
    assert plan.ok, plan.refused
    assert problems(plan.unknown) == {
        "company.late_fee_total_amount": "not a setting Groupbill knows: ignored",
        "company.tax_id": "not a setting Groupbill knows: ignored",
        "groups.Resellers.late_fee_total_amount": "not a setting Groupbill knows: ignored",
        "groups.Resellers.tax_id": "not a setting Groupbill knows: ignored",
    }
    assert problems(plan.notes) == {
        "company.delivery_methods": (
            "interfax: not offered by Groupbill, dropped (email is always offered)"
        ),
        "groups.Resellers.delivery_methods": (
            "interfax: not offered by Groupbill, dropped (email is always offered)"
        ),
    }
    transfer.apply_import(company, plan, actor=ACTOR)
    assert transfer.export(company)["company"] == {
        "autodebit_enabled": False,
        "delivery_methods": ["email", "paper"],
        "invoice_days_before_renewal": 10,
        "notice_autodebit_pending_days": 2,
        "notice_first_days": -3,
        "notice_second_days": None,
        "notice_third_days": 14,
        "queue_service_changes_until_paid": True,
        "required_contact_fields": ["country", "phone"],
        "suspend_services_days_after_due": "never",
        "void_on_cancel_max_days_past_due": "any",
    }
    # the snapshot's copies of company values are not frozen into the group
    assert group_overrides(company, "Resellers") == {"autodebit_enabled": True}


def test_blesta_out_of_range_values_are_refused_in_blestas_terms(company):
    document = {
        "company": {"notice_pending_autodebit": "0", "autodebit": "1", "inv_method": "interfax"}
    }
    plan = transfer.plan_import(company, document, dialect="blesta")
    assert problems(plan.refused) == {
        "company.autodebit": 'must be "true" or "false"',
        "company.inv_method": 'must be one of "email", "paper"',
        "company.notice_pending_autodebit": 'must be a whole number from 1 to 60, or "disabled"',
    }


def test_a_groupbill_name_in_a_blesta_document_is_reported(company):
    plan = transfer.plan_import(
        company, {"company": {"invoice_days_before_renewal": "3"}}, dialect="blesta"
    )
    assert problems(plan.unknown) == {
        "company.invoice_days_before_renewal": (
            "Groupbill's name (Blesta's is \"inv_days_before_renewal\"): ignored"
        )
    }


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("autodebit_enabled", "true", True),
        ("autodebit_enabled", "false", False),
        ("autodebit_enabled", False, False),  # already typed by a converter
        ("notice_first_days", "-1", -1),
        ("notice_first_days", "disabled", None),
        ("suspend_services_days_after_due", "60", 60),
        ("void_on_cancel_max_days_past_due", "any", "any"),
        ("delivery_methods", "YTowOnt9", ["email"]),  # Blesta's empty list
        ("delivery_methods", php_list("paper", "paper"), ["email", "paper"]),
        ("delivery_methods", base64.b64encode(b'["paper"]').decode(), ["email", "paper"]),
        ("required_contact_fields", php_list("fax"), ["fax"]),
    ],
)
def test_blesta_value_forms(key, raw, value):
    assert blesta.parse(CATALOG[key], raw)[0] == value


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("autodebit_enabled", "yes"),
        ("notice_first_days", "-121"),
        ("notice_first_days", "never"),
        ("suspend_services_days_after_due", "disabled"),
        ("suspend_services_days_after_due", "7.5"),
        ("delivery_methods", "not base64!"),
        ("delivery_methods", base64.b64encode(b"a:1:{i:0;s:9:").decode()),  # cut short
        ("delivery_methods", base64.b64encode(b'{"a": 1}').decode()),
        ("required_contact_fields", php_list("shoe_size")),
    ],
)
def test_blesta_values_refused(key, raw):
    with pytest.raises(InvalidValue):
        blesta.parse(CATALOG[key], raw)


# --- Whatever a document holds -----------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-200, 200) | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["true", "false", "-1", "disabled", "never", "any",
                                             "YTowOnt9", php_list("paper"), "0", "61"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip
_KEYS = st.sampled_from(sorted(CATALOG) + [s.legacy_key for s in CATALOG.values()]) | st.text(
    max_size=6
)
# values each key may take, in both dialects' forms, and anything else
_VALUE = (
    st.sampled_from([True, False, None, 1, 3, 7, 12, 20, -1, "never", "any", "email", "paper",
                     ["paper"], ["phone"], "true", "false", "-1", "3", "12", "20", "disabled",
                     "YTowOnt9", php_list("paper")])
    | _JSON
)  # fmt: skip
_LEVEL = st.dictionaries(_KEYS, _VALUE, max_size=6)
_GROUPS = st.dictionaries(st.sampled_from(["General", "general", "Resellers", "New", " "]), _LEVEL)


def _valid(setting):
    kind = setting.type
    if isinstance(kind, Bool):
        return st.booleans()
    if isinstance(kind, Int):
        specials = ([kind.word] if kind.word else []) + ([None] if kind.nullable else [])
        numbers = st.integers(kind.min, kind.max)
        return numbers | st.sampled_from(specials) if specials else numbers
    if isinstance(kind, Choice):
        return st.sampled_from(kind.choices)
    return st.lists(st.sampled_from(kind.choices), max_size=3)


# values the catalogue takes (the cross-key rules may still refuse them together)
_VALID_LEVEL = st.fixed_dictionaries({}, optional={k: _valid(s) for k, s in CATALOG.items()})
_DOCUMENT = (
    st.fixed_dictionaries(
        {
            "format": st.just("groupbill-settings"),
            "version": st.just(1),
            "company": _VALID_LEVEL,
            "groups": st.dictionaries(
                st.sampled_from(["General", "Resellers", "New"]), _VALID_LEVEL, max_size=2
            ),
        }
    )
    | st.fixed_dictionaries(
        {"format": st.just("groupbill-settings"), "version": st.just(1)},
        optional={"company": _LEVEL, "groups": _GROUPS},
    )
    | st.fixed_dictionaries({}, optional={"company": _LEVEL, "groups": _GROUPS})
    | st.fixed_dictionaries(
        {}, optional={"format": _JSON, "version": _JSON, "company": _JSON, "groups": _JSON}
    )
    | _JSON
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=_DOCUMENT, dialect=st.sampled_from(transfer.DIALECTS))
def test_any_document_is_planned_or_refused_never_a_crash(company, document, dialect):
    try:
        plan = transfer.plan_import(company, document, dialect=dialect)
    except ValidationFailed as exc:
        assert exc.errors
        return
    json.dumps(plan.as_dict())  # the API and --json can say it
    if not plan.ok:
        return
    transfer.apply_import(company, plan, actor=ACTOR)
    # every level now has the effective values the plan said, and a second import is a no-op
    for level in plan.levels:
        if level.group is None:
            effective = values(resolve_company(company.pk))
        else:
            group = ClientGroup.objects.get(company=company, name__iexact=level.group)
            effective = values(resolve_group(group.pk))
        assert {c.key: effective[c.key] for c in level.changes} == {
            c.key: c.new for c in level.changes
        }
    again = transfer.plan_import(company, document, dialect=dialect)
    assert again.summary()["set"] == again.summary()["unset"] == 0
