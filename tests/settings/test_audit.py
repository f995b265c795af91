"""Every settings change at every level is audited: who, level, key, old, new. Nothing is
written for a no-op or a refused change."""

import pytest

from groupbill.audit.models import AuditEntry
from groupbill.clients.actions import delete_group
from groupbill.errors import Conflict, ValidationFailed
from groupbill.settings_catalog import actions as sa
from tests.conftest import ACTOR

API_ACTOR = "apikey:tests"
KEY = "invoice_days_before_renewal"


def setting_entries():
    return list(AuditEntry.objects.filter(action__startswith="setting.").order_by("id"))


def summary(entry):
    return (entry.actor, entry.level, entry.action, entry.key, entry.old, entry.new)


@pytest.fixture
def clean_log(company, group, make_client, api):
    """Everything set up; only what a test does is in the log."""
    client = make_client(group)
    AuditEntry.objects.all().delete()
    return client


def test_company_level(api, company, clean_log):
    api.patch(f"/companies/{company.pk}/settings", {KEY: 10})
    api.patch(f"/companies/{company.pk}/settings", {KEY: 11, "notice_first_days": None})
    api.delete(f"/companies/{company.pk}/settings/{KEY}")
    entries = setting_entries()
    assert [summary(e) for e in entries] == [
        (API_ACTOR, "company", "setting.set", KEY, None, {"value": 10}),
        (API_ACTOR, "company", "setting.set", KEY, {"value": 10}, {"value": 11}),
        (API_ACTOR, "company", "setting.set", "notice_first_days", None, {"value": None}),
        (API_ACTOR, "company", "setting.unset", KEY, {"value": 11}, None),
    ]
    for entry in entries:
        assert entry.company_id == company.pk
        assert entry.object_id == company.pk
        assert entry.at is not None


def test_group_level(api, group, clean_log):
    url = f"/client-groups/{group.pk}/settings"
    api.put(f"{url}/delivery_methods", {"value": ["paper"]})
    api.put(f"{url}/delivery_methods", {"value": ["paper", "email"]})  # same once cleaned
    api.put(f"{url}/notice_third_days", {"value": None})
    api.put(f"{url}/notice_third_days", {"value": 9})
    api.delete(f"{url}/delivery_methods")
    assert [summary(e) for e in setting_entries()] == [
        (
            API_ACTOR,
            "group",
            "setting.set",
            "delivery_methods",
            None,
            {"value": ["email", "paper"]},
        ),
        (API_ACTOR, "group", "setting.set", "notice_third_days", None, {"value": None}),
        (API_ACTOR, "group", "setting.set", "notice_third_days", {"value": None}, {"value": 9}),
        (
            API_ACTOR,
            "group",
            "setting.unset",
            "delivery_methods",
            {"value": ["email", "paper"]},
            None,
        ),
    ]
    assert {e.object_id for e in setting_entries()} == {group.pk}
    assert all('"Resellers"' in e.object_label for e in setting_entries())


def test_client_level(api, clean_log):
    client = clean_log
    api.put(f"/clients/{client.pk}/settings/autodebit_enabled", {"value": False})
    api.put(f"/clients/{client.pk}/settings/autodebit_enabled", {"value": True})
    api.delete(f"/clients/{client.pk}/settings/autodebit_enabled")
    entries = setting_entries()
    assert [summary(e) for e in entries] == [
        (API_ACTOR, "client", "setting.set", "autodebit_enabled", None, {"value": False}),
        (
            API_ACTOR,
            "client",
            "setting.set",
            "autodebit_enabled",
            {"value": False},
            {"value": True},
        ),
        (API_ACTOR, "client", "setting.unset", "autodebit_enabled", {"value": True}, None),
    ]
    assert {e.object_id for e in entries} == {client.pk}


def test_actions_record_their_actor(company, group, clean_log):
    sa.set_company_settings(company, {"autodebit_attempts": 5}, actor="staff:alice")
    sa.set_group_setting(group, "autodebit_attempts", 6, actor="engine")
    sa.set_client_setting(clean_log, "send_payment_notices", False, actor="client:42")
    assert [(e.actor, e.level) for e in setting_entries()] == [
        ("staff:alice", "company"),
        ("engine", "group"),
        ("client:42", "client"),
    ]


def test_noop_set_writes_nothing(api, company, group, clean_log):
    api.patch(f"/companies/{company.pk}/settings", {KEY: 10, "autodebit_attempts": 4})
    api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": 3})
    api.put(f"/clients/{clean_log.pk}/settings/invoice_method", {"value": "email"})
    before = AuditEntry.objects.count()
    api.patch(f"/companies/{company.pk}/settings", {KEY: 10, "autodebit_attempts": 4})
    api.patch(f"/companies/{company.pk}/settings", {})
    api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": 3})
    api.put(f"/clients/{clean_log.pk}/settings/invoice_method", {"value": "email"})
    # Unsetting what is not set is a no-op too.
    api.delete(f"/companies/{company.pk}/settings/notice_first_days")
    api.delete(f"/client-groups/{group.pk}/settings/notice_first_days")
    api.delete(f"/clients/{clean_log.pk}/settings/autodebit_enabled")
    assert AuditEntry.objects.count() == before
    # Only the key that really changes is audited.
    api.patch(f"/companies/{company.pk}/settings", {KEY: 10, "autodebit_attempts": 5})
    assert AuditEntry.objects.count() == before + 1
    assert AuditEntry.objects.order_by("-id").first().key == "autodebit_attempts"


def test_refused_changes_write_nothing(api, company, group, clean_log):
    api.put(f"/client-groups/{group.pk}/settings/renewal_spacing_threshold_2", {"value": 8})
    before = AuditEntry.objects.count()
    responses = [
        api.patch(f"/companies/{company.pk}/settings", {KEY: 10, "autodebit_attempts": 0}),
        api.patch(f"/companies/{company.pk}/settings", {KEY: 10, "renewal_spacing_threshold_1": 9}),
        api.put(f"/client-groups/{group.pk}/settings/invoice_method", {"value": "paper"}),
        api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": "5"}),
        api.put(f"/clients/{clean_log.pk}/settings/{KEY}", {"value": 5}),
        api.delete(f"/clients/{clean_log.pk}/settings/{KEY}"),
        api.put(f"/client-groups/{group.pk}/settings/nope", {"value": 5}),
    ]
    assert [r.status_code for r in responses] == [422, 422, 422, 422, 422, 422, 404]
    with pytest.raises(ValidationFailed):
        sa.set_group_settings(group, {KEY: 9, "notice_first_days": 50}, actor=ACTOR)
    assert AuditEntry.objects.count() == before


def test_clear_group_settings_writes_one_unset_per_override(api, group, clean_log):
    url = f"/client-groups/{group.pk}/settings"
    api.put(f"{url}/{KEY}", {"value": 9})
    api.put(f"{url}/notice_first_days", {"value": None})
    AuditEntry.objects.all().delete()
    assert api.delete(url).status_code == 204
    entries = setting_entries()
    assert sorted((e.key, e.action, e.old, e.new) for e in entries) == [
        (KEY, "setting.unset", {"value": 9}, None),
        ("notice_first_days", "setting.unset", {"value": None}, None),
    ]
    assert {(e.level, e.actor) for e in entries} == {("group", API_ACTOR)}


def test_group_delete_is_audited(api, company, group, clean_log):
    api.put(f"/client-groups/{group.pk}/settings/{KEY}", {"value": 9})
    assert api.delete(f"/client-groups/{group.pk}").status_code == 204
    entry = AuditEntry.objects.get(action="group.delete")
    assert (entry.actor, entry.level, entry.object_id) == (API_ACTOR, "group", group.pk)
    assert entry.company_id == company.pk
    assert entry.object_label == "Resellers"
    assert entry.old["value"]["name"] == "Resellers"
    assert entry.new["value"] == {"clients_moved_to": "General", "client_count": 1}


def test_refused_group_delete_writes_nothing(default_group, clean_log):
    with pytest.raises(Conflict, match="General"):
        delete_group(default_group, actor=ACTOR)
    assert not AuditEntry.objects.exists()


def test_company_attribute_changes_are_audited(api, company, clean_log):
    api.patch(f"/companies/{company.pk}", {"notify_email": "ops@acme.test", "name": "Acme Hosting"})
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.key, entry.old, entry.new) == (
        "company.update",
        "notify_email",
        {"value": ""},
        {"value": "ops@acme.test"},
    )


def test_a_services_life_reaches_the_audit_log_and_its_page(
    company, group, make_client, client, staff_user
):
    """Ordered, provisioned, suspended, unsuspended, cancelled: each change is in the audit
    log with who did it and the status before and after, as on the service's history."""
    from datetime import date

    from groupbill.catalog.models import Package, PackagePrice
    from groupbill.services import actions as services

    package = Package.objects.create(company=company, name="Hosting", module="none")
    price = PackagePrice.objects.create(
        package=package, unit="month", count=1, currency="EUR", price=1000
    )
    ada = make_client(group=group)
    AuditEntry.objects.all().delete()
    service = services.add_service(ada, pricing=price, start_on=date(2026, 1, 10), actor=ACTOR)
    services.provision(service, actor=ACTOR)
    services.suspend(service, actor="engine", reason="invoice 7 past due")
    services.unsuspend(service, actor=ACTOR)
    services.cancel(service, actor=ACTOR, today=date(2026, 1, 20), reason="moved away")
    entries = AuditEntry.objects.filter(level="service").order_by("id")
    assert [(e.actor, e.action, e.old, e.new) for e in entries] == [
        (ACTOR, "service.order", {"value": "pending"}, {"value": "pending"}),
        (ACTOR, "service.add", {"value": "pending"},
         {"value": {"status": "active", "reason": "provisioned"}}),
        ("engine", "service.suspend", {"value": "active"},
         {"value": {"status": "suspended", "reason": "invoice 7 past due"}}),
        (ACTOR, "service.unsuspend", {"value": "suspended"}, {"value": "active"}),
        (ACTOR, "service.cancel", {"value": "active"},
         {"value": {"status": "canceled", "reason": "moved away"}}),
    ]  # fmt: skip
    assert {e.object_id for e in entries} == {service.pk}
    assert {e.company_id for e in entries} == {company.pk}
    client.force_login(staff_user)
    page = client.get("/audit/").content.decode()
    assert "service.suspend" in page and "invoice 7 past due" in page
