"""default <- company <- group <- client: inheritance, sources, cross-key rules and
all-or-nothing changes, through the actions and through the REST API."""

import pytest

from groupbill.clients.actions import create_group
from groupbill.errors import NotFound, ValidationFailed
from groupbill.settings_catalog import actions as sa
from groupbill.settings_catalog.catalog import CATALOG, CLIENT_KEYS, DEFAULTS
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import resolve_client, resolve_company, resolve_group
from tests.conftest import ACTOR, failure_fields, field_errors

PROBLEM = "application/problem+json"
KEY = "invoice_days_before_renewal"  # default 5


def eff(resolved, key=KEY):
    e = resolved[key]
    return e.value, e.source.value


# --- Defaults ----------------------------------------------------------------------------


def test_everything_starts_at_the_default(api, company, group, make_client):
    client = make_client(group)
    for path in (
        f"/companies/{company.pk}/settings",
        f"/client-groups/{group.pk}/settings",
        f"/clients/{client.pk}/settings",
    ):
        r = api.get(path)
        assert r.status_code == 200
        assert r.json() == {k: {"value": v, "source": "default"} for k, v in DEFAULTS.items()}


# --- Group over company, in either order --------------------------------------------------


@pytest.mark.parametrize("order", ["company_first", "group_first"])
def test_group_override_wins_over_company_in_any_order(
    company, default_group, group, make_client, order
):
    inheriting, overriding = make_client(default_group), make_client(group)
    steps = [
        lambda: sa.set_company_settings(company, {KEY: 10}, actor=ACTOR),
        lambda: sa.set_group_setting(group, KEY, 20, actor=ACTOR),
    ]
    for step in steps if order == "company_first" else reversed(steps):
        step()
    assert eff(resolve_company(company.pk)) == (10, "company")
    assert eff(resolve_group(group.pk)) == (20, "group")
    assert eff(resolve_group(default_group.pk)) == (10, "company")
    assert eff(resolve_client(overriding.pk)) == (20, "group")
    assert eff(resolve_client(inheriting.pk)) == (10, "company")


@pytest.mark.parametrize("order", ["company_first", "group_first"])
def test_group_override_wins_over_company_in_any_order_api(
    api, company, default_group, group, make_client, order
):
    inheriting, overriding = make_client(default_group), make_client(group)
    calls = [
        lambda: api.patch(f"/companies/{company.pk}/settings", {KEY: 10}),
        lambda: api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": 20}),
    ]
    for call in calls if order == "company_first" else reversed(calls):
        assert call().status_code == 200
    assert api.get(f"/companies/{company.pk}/settings").json()[KEY] == {
        "value": 10,
        "source": "company",
    }
    assert api.get(f"/client-groups/{group.pk}/settings").json()[KEY] == {
        "value": 20,
        "source": "group",
    }
    assert api.get(f"/client-groups/{default_group.pk}/settings").json()[KEY] == {
        "value": 10,
        "source": "company",
    }
    assert api.get(f"/clients/{overriding.pk}/settings").json()[KEY] == {
        "value": 20,
        "source": "group",
    }
    assert api.get(f"/clients/{inheriting.pk}/settings").json()[KEY] == {
        "value": 10,
        "source": "company",
    }


def test_company_change_reaches_inheritors_not_overriders(api, company, group, make_client):
    other = create_group(company, {"name": "Other"}, actor=ACTOR)
    c_group, c_other = make_client(group), make_client(other)
    api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": 20})
    for value in (11, 12, 3):
        r = api.patch(f"/companies/{company.pk}/settings", {KEY: value})
        assert r.status_code == 200
        assert r.json()[KEY] == {"value": value, "source": "company"}
        assert eff(resolve_group(other.pk)) == (value, "company")
        assert eff(resolve_client(c_other.pk)) == (value, "company")
        assert eff(resolve_group(group.pk)) == (20, "group")
        assert eff(resolve_client(c_group.pk)) == (20, "group")


def test_settings_of_one_company_do_not_leak_into_another(api, company, group):
    other = api.post(
        "/companies", {"name": "Other", "timezone": "UTC", "default_currency": "USD"}
    ).json()
    api.patch(f"/companies/{company.pk}/settings", {KEY: 10})
    api.put(f"/client-groups/{group.pk}/settings/autodebit_attempts", {"value": 9})
    assert api.get(f"/companies/{other['id']}/settings").json()[KEY]["source"] == "default"
    theirs = api.get(f"/client-groups/{other['default_group_id']}/settings").json()
    assert theirs[KEY] == {"value": 5, "source": "default"}
    assert theirs["autodebit_attempts"] == {"value": 3, "source": "default"}


# --- Inherit again -------------------------------------------------------------------------


def test_deleting_group_override_inherits_again(api, company, group, make_client):
    client = make_client(group)
    api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": 20})
    r = api.delete(f"/client-groups/{group.pk}/settings/{KEY}")
    assert r.status_code == 204
    assert api.get(f"/client-groups/{group.pk}/settings").json()[KEY] == {
        "value": 5,
        "source": "default",
    }
    api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": 20})
    api.patch(f"/companies/{company.pk}/settings", {KEY: 10})
    assert api.delete(f"/client-groups/{group.pk}/settings/{KEY}").status_code == 204
    assert api.get(f"/client-groups/{group.pk}/settings").json()[KEY] == {
        "value": 10,
        "source": "company",
    }
    assert eff(resolve_client(client.pk)) == (10, "company")
    # Deleting an override that is not there is harmless.
    assert api.delete(f"/client-groups/{group.pk}/settings/{KEY}").status_code == 204
    assert eff(resolve_group(group.pk)) == (10, "company")


def test_unset_group_setting_action(company, group):
    sa.set_group_setting(group, "autodebit_enabled", False, actor=ACTOR)
    assert eff(resolve_group(group.pk), "autodebit_enabled") == (False, "group")
    sa.unset_group_setting(group, "autodebit_enabled", actor=ACTOR)
    assert eff(resolve_group(group.pk), "autodebit_enabled") == (True, "default")
    sa.set_group_settings(group, {KEY: 7, "autodebit_attempts": 4}, actor=ACTOR)
    sa.set_group_settings(group, {KEY: sa.UNSET, "autodebit_attempts": 5}, actor=ACTOR)
    assert eff(resolve_group(group.pk)) == (5, "default")
    assert eff(resolve_group(group.pk), "autodebit_attempts") == (5, "group")


def test_clearing_group_settings_uses_company_settings_for_everything(
    api, company, group, default_group
):
    api.patch(f"/companies/{company.pk}/settings", {"autodebit_attempts": 9})
    other_override = api.put(
        f"/client-groups/{default_group.pk}/settings/{KEY}", {"value": 1}
    ).status_code
    assert other_override == 200
    for key, value in [
        (KEY, 20),
        ("autodebit_attempts", 4),
        ("delivery_methods", ["paper"]),
        ("notice_third_days", None),
        ("required_contact_fields", ["email"]),
    ]:
        assert (
            api.put(f"/client-groups/{group.pk}/settings/{key}", {"value": value}).status_code
            == 200
        )
    r = api.delete(f"/client-groups/{group.pk}/settings")
    assert r.status_code == 204
    settings = api.get(f"/client-groups/{group.pk}/settings").json()
    assert {k for k, e in settings.items() if e["source"] == "group"} == set()
    assert settings["autodebit_attempts"] == {"value": 9, "source": "company"}
    assert settings[KEY] == {"value": 5, "source": "default"}
    assert not SettingValue.objects.filter(group=group).exists()
    # Only that group's overrides went.
    assert eff(resolve_group(default_group.pk)) == (1, "group")
    # Clearing a group without overrides is fine.
    assert api.delete(f"/client-groups/{group.pk}/settings").status_code == 204


def test_company_delete_setting_goes_back_to_default(api, company, group, make_client):
    client = make_client(group)
    api.patch(f"/companies/{company.pk}/settings", {KEY: 10, "notice_first_days": None})
    assert eff(resolve_client(client.pk), "notice_first_days") == (None, "company")
    r = api.delete(f"/companies/{company.pk}/settings/{KEY}")
    assert r.status_code == 204
    settings = api.get(f"/companies/{company.pk}/settings").json()
    assert settings[KEY] == {"value": 5, "source": "default"}
    assert settings["notice_first_days"] == {"value": None, "source": "company"}
    assert eff(resolve_client(client.pk)) == (5, "default")
    assert api.delete(f"/companies/{company.pk}/settings/notice_first_days").status_code == 204
    assert eff(resolve_group(group.pk), "notice_first_days") == (-1, "default")


def test_company_patch_sends_several_keys_and_null_is_a_value(api, company):
    r = api.patch(
        f"/companies/{company.pk}/settings",
        {KEY: 0, "notice_second_days": None, "suspend_services_days_after_due": "never"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body[KEY] == {"value": 0, "source": "company"}
    assert body["notice_second_days"] == {"value": None, "source": "company"}
    assert body["suspend_services_days_after_due"] == {"value": "never", "source": "company"}
    assert body["autodebit_attempts"] == {"value": 3, "source": "default"}
    # An empty PATCH changes nothing.
    assert api.patch(f"/companies/{company.pk}/settings", {}).json() == body


# --- Client level ---------------------------------------------------------------------------


def test_client_overrides_with_source_client(api, company, group, make_client):
    api.put(f"/client-groups/{group.pk}/settings/delivery_methods", {"value": ["paper"]})
    client, neighbour = make_client(group), make_client(group)
    for key, value in [
        ("autodebit_enabled", False),
        ("invoice_method", "paper"),
        ("send_payment_notices", False),
    ]:
        r = api.put(f"/clients/{client.pk}/settings/{key}", {"value": value})
        assert r.status_code == 200, r.content
        assert r.json()[key] == {"value": value, "source": "client"}
    mine = api.get(f"/clients/{client.pk}/settings").json()
    assert {k for k, e in mine.items() if e["source"] == "client"} == CLIENT_KEYS
    assert mine["delivery_methods"] == {"value": ["email", "paper"], "source": "group"}
    theirs = api.get(f"/clients/{neighbour.pk}/settings").json()
    assert theirs["autodebit_enabled"] == {"value": True, "source": "default"}
    assert theirs["invoice_method"] == {"value": "email", "source": "default"}

    # A client override wins over a later group change too.
    api.put(f"/client-groups/{group.pk}/settings/send_payment_notices", {"value": True})
    assert eff(resolve_client(client.pk), "send_payment_notices") == (False, "client")
    assert eff(resolve_client(neighbour.pk), "send_payment_notices") == (True, "group")

    assert api.delete(f"/clients/{client.pk}/settings/send_payment_notices").status_code == 204
    assert eff(resolve_client(client.pk), "send_payment_notices") == (True, "group")
    assert api.delete(f"/clients/{client.pk}/settings/autodebit_enabled").status_code == 204
    assert eff(resolve_client(client.pk), "autodebit_enabled") == (True, "default")


def test_client_override_via_actions(company, group, make_client):
    client = make_client(group)
    sa.set_client_setting(client, "autodebit_enabled", False, actor=ACTOR)
    sa.set_company_settings(company, {"autodebit_enabled": True}, actor=ACTOR)
    sa.set_group_setting(group, "autodebit_enabled", True, actor=ACTOR)
    assert eff(resolve_client(client.pk), "autodebit_enabled") == (False, "client")
    sa.unset_client_setting(client, "autodebit_enabled", actor=ACTOR)
    assert eff(resolve_client(client.pk), "autodebit_enabled") == (True, "group")


@pytest.mark.parametrize("key", sorted(set(CATALOG) - CLIENT_KEYS))
def test_client_put_or_delete_on_a_group_only_key_is_422(api, make_client, key):
    client = make_client()
    r = api.put(f"/clients/{client.pk}/settings/{key}", {"value": DEFAULTS[key]})
    assert r.status_code == 422
    assert list(field_errors(r)) == [key]
    r = api.delete(f"/clients/{client.pk}/settings/{key}")
    assert r.status_code == 422
    assert list(field_errors(r)) == [key]
    assert not SettingValue.objects.exists()


def test_client_action_on_group_only_key_refused(make_client):
    client = make_client()
    with pytest.raises(ValidationFailed) as exc_info:
        sa.set_client_settings(client, {"autodebit_enabled": False, KEY: 1}, actor=ACTOR)
    assert list(failure_fields(exc_info)) == [KEY]
    assert not SettingValue.objects.exists()


# --- Unknown keys and ids in paths -------------------------------------------------------------


def test_unknown_key_in_path_is_404(api, company, group, make_client):
    client = make_client(group)
    for method, path in [
        ("put", f"/client-groups/{group.pk}/settings/no_such_key"),
        ("delete", f"/client-groups/{group.pk}/settings/no_such_key"),
        ("put", f"/clients/{client.pk}/settings/no_such_key"),
        ("delete", f"/clients/{client.pk}/settings/no_such_key"),
        ("delete", f"/companies/{company.pk}/settings/no_such_key"),
    ]:
        args = (path, {"value": 1}) if method == "put" else (path,)
        r = getattr(api, method)(*args)
        assert r.status_code == 404, (method, path, r.content)
        assert r["Content-Type"] == PROBLEM
        assert "no_such_key" in r.json()["detail"]


def test_unknown_key_via_actions_is_not_found(company, group, make_client):
    with pytest.raises(NotFound):
        sa.set_group_setting(group, "no_such_key", 1, actor=ACTOR)
    with pytest.raises(NotFound):
        sa.reset_company_setting(company, "no_such_key", actor=ACTOR)
    with pytest.raises(NotFound):
        sa.unset_client_setting(make_client(), "no_such_key", actor=ACTOR)


def test_unknown_key_in_company_patch_body_is_422(api, company):
    r = api.patch(f"/companies/{company.pk}/settings", {KEY: 10, "no_such_key": 1})
    assert r.status_code == 422
    assert "no_such_key" in field_errors(r)
    assert not SettingValue.objects.exists()


def test_unknown_owner_ids_are_404(api):
    for method, path in [
        ("get", "/companies/999999/settings"),
        ("patch", "/companies/999999/settings"),
        ("get", "/client-groups/999999/settings"),
        ("put", f"/client-groups/999999/settings/{KEY}"),
        ("delete", "/client-groups/999999/settings"),
        ("get", "/clients/999999/settings"),
        ("put", "/clients/999999/settings/autodebit_enabled"),
    ]:
        if method == "put":
            r = api.put(path, {"value": 1})
        elif method == "patch":
            r = api.patch(path, {KEY: 1})
        else:
            r = getattr(api, method)(path)
        assert r.status_code == 404, (method, path)
        assert r["Content-Type"] == PROBLEM


# --- Cross-key rules -------------------------------------------------------------------------


def test_threshold_2_must_exceed_threshold_1_at_group_level(api, group):
    url = f"/client-groups/{group.pk}/settings"
    r = api.put(f"{url}/renewal_spacing_threshold_2", {"value": 6})  # == threshold 1
    assert r.status_code == 422
    message = field_errors(r)["renewal_spacing_threshold_2"]
    assert '"Resellers"' in message
    assert "1st renewal attempt spacing threshold (6 attempts)" in message
    r = api.put(f"{url}/renewal_spacing_threshold_1", {"value": 12})  # == threshold 2
    assert r.status_code == 422
    assert "renewal_spacing_threshold_1" in field_errors(r)
    assert not SettingValue.objects.exists()
    assert api.put(f"{url}/renewal_spacing_threshold_2", {"value": 7}).status_code == 200
    assert api.put(f"{url}/renewal_spacing_threshold_1", {"value": 1}).status_code == 200


def test_company_change_breaking_an_inheriting_group_is_refused(api, company, group):
    create_group(company, {"name": "Harmless"}, actor=ACTOR)
    assert (
        api.put(
            f"/client-groups/{group.pk}/settings/renewal_spacing_threshold_2", {"value": 8}
        ).status_code
        == 200
    )
    r = api.patch(f"/companies/{company.pk}/settings", {"renewal_spacing_threshold_1": 10})
    assert r.status_code == 422
    message = field_errors(r)["renewal_spacing_threshold_1"]
    assert '"Resellers"' in message
    assert "Harmless" not in message
    assert "2nd renewal attempt spacing threshold (8 attempts)" in message
    assert eff(resolve_company(company.pk), "renewal_spacing_threshold_1") == (6, "default")
    # Once that group stops overriding, the same company change is fine.
    api.delete(f"/client-groups/{group.pk}/settings/renewal_spacing_threshold_2")
    r = api.patch(f"/companies/{company.pk}/settings", {"renewal_spacing_threshold_1": 10})
    assert r.status_code == 200
    assert eff(resolve_group(group.pk), "renewal_spacing_threshold_1") == (10, "company")


def test_group_that_overrides_both_thresholds_is_unaffected(company, group):
    sa.set_group_settings(
        group,
        {"renewal_spacing_threshold_1": 2, "renewal_spacing_threshold_2": 3},
        actor=ACTOR,
    )
    sa.set_company_settings(
        company, {"renewal_spacing_threshold_1": 20, "renewal_spacing_threshold_2": 25}, actor=ACTOR
    )
    values = resolve_group(group.pk)
    assert eff(values, "renewal_spacing_threshold_1") == (2, "group")
    assert eff(values, "renewal_spacing_threshold_2") == (3, "group")


def test_company_reset_that_would_break_is_refused(api, company, group):
    api.patch(
        f"/companies/{company.pk}/settings",
        {"renewal_spacing_threshold_1": 2, "renewal_spacing_threshold_2": 3},
    )
    # Back to the default threshold 1 (6) would leave the company itself at 6 >= 3.
    r = api.delete(f"/companies/{company.pk}/settings/renewal_spacing_threshold_1")
    assert r.status_code == 422
    assert "renewal_spacing_threshold_1" in field_errors(r)
    assert eff(resolve_company(company.pk), "renewal_spacing_threshold_1") == (2, "company")


def test_group_unset_that_would_break_is_refused(company, group):
    sa.set_group_settings(
        group, {"renewal_spacing_threshold_1": 2, "renewal_spacing_threshold_2": 4}, actor=ACTOR
    )
    with pytest.raises(ValidationFailed) as exc_info:
        sa.unset_group_setting(group, "renewal_spacing_threshold_1", actor=ACTOR)
    assert '"Resellers"' in failure_fields(exc_info)["renewal_spacing_threshold_1"]
    assert eff(resolve_group(group.pk), "renewal_spacing_threshold_1") == (2, "group")


@pytest.mark.parametrize(
    ("notices", "ok"),
    [
        ((-1, 3, 7), True),
        ((-1, None, 0), True),  # nulls are ignored
        ((None, None, None), True),
        ((None, 5, 6), True),
        ((5, None, None), True),
        ((-60, 0, 120), True),
        ((-1, -1, 7), False),
        ((5, None, 3), False),
        ((5, None, 5), False),
        ((None, 7, 7), False),
        ((3, 2, None), False),
        ((1, 4, 2), False),
    ],
)
def test_notice_days_strictly_increase_ignoring_nulls(company, group, notices, ok):
    changes = dict(
        zip(("notice_first_days", "notice_second_days", "notice_third_days"), notices, strict=True)
    )
    if ok:
        sa.set_group_settings(group, changes, actor=ACTOR)
        resolved = resolve_group(group.pk)
        assert tuple(resolved[k].value for k in changes) == notices
    else:
        with pytest.raises(ValidationFailed) as exc_info:
            sa.set_group_settings(group, changes, actor=ACTOR)
        (message,) = failure_fields(exc_info).values()
        assert '"Resellers"' in message
        assert not SettingValue.objects.exists()


def test_company_notice_change_breaking_a_group_names_it(api, company, group):
    assert (
        api.put(f"/client-groups/{group.pk}/settings/notice_third_days", {"value": 4}).status_code
        == 200
    )
    r = api.patch(f"/companies/{company.pk}/settings", {"notice_second_days": 5})
    assert r.status_code == 422
    assert '"Resellers"' in field_errors(r)["notice_second_days"]
    assert eff(resolve_company(company.pk), "notice_second_days") == (3, "default")
    # With that group's third notice off, nothing breaks.
    assert (
        api.put(
            f"/client-groups/{group.pk}/settings/notice_third_days", {"value": None}
        ).status_code
        == 200
    )
    assert (
        api.patch(f"/companies/{company.pk}/settings", {"notice_second_days": 5}).status_code == 200
    )
    assert eff(resolve_group(group.pk), "notice_second_days") == (5, "company")


def test_group_notice_change_breaking_against_company_values(api, company, group):
    r = api.patch(
        f"/companies/{company.pk}/settings",
        {"notice_first_days": 10, "notice_second_days": 20, "notice_third_days": 30},
    )
    assert r.status_code == 200
    r = api.put(f"/client-groups/{group.pk}/settings/notice_second_days", {"value": 10})
    assert r.status_code == 422
    assert '"Resellers"' in field_errors(r)["notice_second_days"]
    assert (
        api.put(f"/client-groups/{group.pk}/settings/notice_second_days", {"value": 11}).status_code
        == 200
    )


# --- All or nothing ---------------------------------------------------------------------------


def test_refused_company_patch_changes_nothing(api, company, group):
    before = api.get(f"/companies/{company.pk}/settings").json()
    r = api.patch(
        f"/companies/{company.pk}/settings",
        {
            KEY: 10,
            "show_tax_id_field": False,
            "autodebit_attempts": 0,
            "delivery_methods": ["paper"],
            "notice_first_days": None,
        },
    )
    assert r.status_code == 422
    assert list(field_errors(r)) == ["autodebit_attempts"]
    assert api.get(f"/companies/{company.pk}/settings").json() == before
    assert not SettingValue.objects.exists()


def test_refused_company_patch_reports_every_bad_key(api, company):
    r = api.patch(
        f"/companies/{company.pk}/settings",
        {KEY: "5", "autodebit_attempts": 0, "show_tax_id_field": 1, "service_renewal_attempts": 2},
    )
    assert r.status_code == 422
    assert set(field_errors(r)) == {KEY, "autodebit_attempts", "show_tax_id_field"}
    assert not SettingValue.objects.exists()


def test_patch_refused_by_a_rule_changes_nothing(api, company):
    api.patch(f"/companies/{company.pk}/settings", {"autodebit_attempts": 9})
    r = api.patch(
        f"/companies/{company.pk}/settings",
        {KEY: 10, "autodebit_attempts": 4, "renewal_spacing_threshold_2": 3},
    )
    assert r.status_code == 422
    assert list(field_errors(r)) == ["renewal_spacing_threshold_2"]
    settings = api.get(f"/companies/{company.pk}/settings").json()
    assert settings[KEY] == {"value": 5, "source": "default"}
    assert settings["autodebit_attempts"] == {"value": 9, "source": "company"}


def test_refused_group_change_of_several_keys_changes_nothing(group):
    sa.set_group_setting(group, "autodebit_attempts", 9, actor=ACTOR)
    with pytest.raises(ValidationFailed):
        sa.set_group_settings(
            group,
            {KEY: 10, "autodebit_attempts": sa.UNSET, "notice_third_days": -5},
            actor=ACTOR,
        )
    resolved = resolve_group(group.pk)
    assert eff(resolved) == (5, "default")
    assert eff(resolved, "autodebit_attempts") == (9, "group")
    assert eff(resolved, "notice_third_days") == (7, "default")


def test_both_thresholds_in_one_patch(api, company):
    r = api.patch(
        f"/companies/{company.pk}/settings",
        {"renewal_spacing_threshold_1": 15, "renewal_spacing_threshold_2": 20},
    )
    assert r.status_code == 200


# --- invoice_method against delivery_methods ---------------------------------------------------


def test_invoice_method_must_be_offered_when_set(api, company, group, make_client):
    r = api.put(f"/client-groups/{group.pk}/settings/invoice_method", {"value": "paper"})
    assert r.status_code == 422
    assert "paper" in field_errors(r)["invoice_method"]
    r = api.patch(f"/companies/{company.pk}/settings", {"invoice_method": "paper"})
    assert r.status_code == 422
    assert "invoice_method" in field_errors(r)
    client = make_client(group)
    r = api.put(f"/clients/{client.pk}/settings/invoice_method", {"value": "paper"})
    assert r.status_code == 422
    assert "invoice_method" in field_errors(r)
    assert not SettingValue.objects.exists()
    # Email is always offered.
    assert (
        api.put(f"/clients/{client.pk}/settings/invoice_method", {"value": "email"}).status_code
        == 200
    )


def test_invoice_method_with_delivery_methods_in_the_same_patch(api, company):
    r = api.patch(
        f"/companies/{company.pk}/settings",
        {"delivery_methods": ["paper"], "invoice_method": "paper"},
    )
    assert r.status_code == 200
    assert r.json()["invoice_method"] == {"value": "paper", "source": "company"}


def test_client_invoice_method_checked_against_its_group(api, group, default_group, make_client):
    api.put(f"/client-groups/{group.pk}/settings/delivery_methods", {"value": ["paper"]})
    in_group, in_default = make_client(group), make_client(default_group)
    assert (
        api.put(f"/clients/{in_group.pk}/settings/invoice_method", {"value": "paper"}).status_code
        == 200
    )
    r = api.put(f"/clients/{in_default.pk}/settings/invoice_method", {"value": "paper"})
    assert r.status_code == 422


def test_removing_paper_while_invoice_method_paper_is_not_refused(api, company, group, make_client):
    api.patch(
        f"/companies/{company.pk}/settings",
        {"delivery_methods": ["email", "paper"], "invoice_method": "paper"},
    )
    client = make_client(group)
    api.put(f"/clients/{client.pk}/settings/invoice_method", {"value": "paper"})
    # Group-level removal.
    r = api.put(f"/client-groups/{group.pk}/settings/delivery_methods", {"value": ["email"]})
    assert r.status_code == 200
    # Company-level removal.
    r = api.patch(f"/companies/{company.pk}/settings", {"delivery_methods": ["email"]})
    assert r.status_code == 200
    assert r.json()["invoice_method"] == {"value": "paper", "source": "company"}
    assert eff(resolve_client(client.pk), "invoice_method") == ("paper", "client")
    # But setting paper where it is no longer offered is refused.
    r = api.put(f"/client-groups/{group.pk}/settings/invoice_method", {"value": "paper"})
    assert r.status_code == 422
    assert "invoice_method" in field_errors(r)
    other = make_client(group)
    r = api.put(f"/clients/{other.pk}/settings/invoice_method", {"value": "paper"})
    assert r.status_code == 422
