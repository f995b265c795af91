"""API keys are read-only or read-write, and belong to one company or to all. Every
operation with every kind of key is tried in test_key_matrix.py, every list and every id a
query or a body names in test_key_lists.py; here what those leave out."""

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from groupbill.audit.models import AuditEntry
from groupbill.automation.models import EngineRun
from tests.api.key_matrix import call, key_client
from tests.permission_book import book


@pytest.mark.django_db
def test_a_key_of_one_company_sees_no_run_of_every_company():
    own = book("Own")
    everywhere = EngineRun.objects.create(as_of="2026-01-01T12:00Z", actor="test", status="done")
    http = key_client(company_id=own["company"])
    assert http.get(f"/api/v1/automation/runs/{everywhere.pk}").status_code == 404
    assert [r["id"] for r in http.get("/api/v1/automation/runs").json()["items"]] == [own["run"]]
    assert (
        key_client(name="every").get(f"/api/v1/automation/runs/{everywhere.pk}").status_code == 200
    )


@pytest.mark.django_db
def test_a_key_of_one_company_runs_the_engine_only_for_it():
    own = book("Own")
    http = key_client(company_id=own["company"])
    run = call(http, "POST", "/api/v1/automation/runs", {})
    assert run.status_code == 403 and "give its company_id" in run.json()["detail"]
    assert not EngineRun.objects.exclude(pk=own["run"]).exists()


@pytest.mark.django_db
def test_the_audit_log_names_the_key(staff):
    ids = book("Own")
    http = key_client(name="crm-sync", company_id=ids["company"])
    before = AuditEntry.objects.count()
    changed = call(http, "PATCH", f"/api/v1/clients/{ids['client']}", {"last_name": "Byron"})
    assert changed.status_code == 200
    written = AuditEntry.objects.order_by("pk")[before:]
    assert [(e.actor, e.action) for e in written] == [("apikey:crm-sync", "contact.update")]
    page = staff.get("/audit/")
    assert page.status_code == 200 and "apikey:crm-sync" in page.content.decode()


def test_the_cli_creates_a_read_only_key_of_one_company(db, capsys):
    ids = book("Own")
    call_command("apikey", "create", "--name", "support", "--company", str(ids["company"]),
                 "--read-only")  # fmt: skip
    raw = capsys.readouterr().out.strip()
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert http.get(f"/api/v1/clients/{ids['client']}").status_code == 200
    assert call(http, "DELETE", f"/api/v1/clients/{ids['client']}").status_code == 403
    call_command("apikey", "list")
    assert f"read-only\tcompany {ids['company']}\tsupport" in capsys.readouterr().out
