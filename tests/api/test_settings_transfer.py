"""GET /companies/{id}/settings/export and POST /companies/{id}/settings/import as an API
client sees them: the document, the plan, a dry run by default, 422 naming refused values."""

import pytest

from groupbill.companies.actions import create_company
from groupbill.settings_catalog import actions as sa
from groupbill.settings_catalog.models import SettingValue
from tests.conftest import ACTOR, PROBLEM, field_errors


@pytest.fixture
def source(company, group):
    sa.set_company_settings(company, {"notice_third_days": None}, actor=ACTOR)
    sa.set_group_settings(group, {"client_can_cancel_services": True}, actor=ACTOR)
    return company


@pytest.fixture
def target(db):
    return create_company(
        {"name": "Beta Cloud", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR
    )


def test_export_answers_the_document(api, source):
    response = api.get(f"/companies/{source.pk}/settings/export")
    assert response.status_code == 200
    assert response.json() == {
        "format": "groupbill-settings",
        "version": 1,
        "company": {"notice_third_days": None},
        "groups": {"General": {}, "Resellers": {"client_can_cancel_services": True}},
    }


def test_round_trip_over_the_api_is_a_dry_run_until_asked(api, source, target):
    document = api.get(f"/companies/{source.pk}/settings/export").json()
    url = f"/companies/{target.pk}/settings/import"
    planned = api.post(url, {"document": document})
    assert planned.status_code == 200
    body = planned.json()
    assert (body["dry_run"], body["applied"]) == (True, False)
    assert body["summary"] == {
        "set": 2, "unset": 0, "unchanged": 0, "groups_created": 1, "unknown": 0, "refused": 0,
    }  # fmt: skip
    assert body["levels"][0] == {
        "level": "company",
        "group": None,
        "creates_group": False,
        "changes": [
            {"key": "notice_third_days", "current": 7, "new": None, "action": "set", "note": ""}
        ],
    }
    assert body["levels"][2]["group"] == "Resellers" and body["levels"][2]["creates_group"]
    assert not SettingValue.objects.filter(company=target).exists()

    applied = api.post(url, {"document": document, "dry_run": False})
    assert applied.status_code == 200
    assert (applied.json()["dry_run"], applied.json()["applied"]) == (False, True)
    assert api.get(f"/companies/{target.pk}/settings/export").json() == document


def test_blesta_document_with_unknown_keys(api, company):
    response = api.post(
        f"/companies/{company.pk}/settings/import",
        {
            "document": {"company": {"notice1": "-5", "late_fee": "2"}},
            "dialect": "blesta",
            "dry_run": False,
        },
    )
    assert response.status_code == 200
    assert response.json()["unknown"] == [
        {
            "field": "company.late_fee",
            "key": "late_fee",
            "message": "not a setting Groupbill knows: ignored",
            "value": "2",
        }
    ]
    assert api.get(f"/companies/{company.pk}/settings").json()["notice_first_days"] == {
        "value": -5,
        "source": "company",
    }


def test_a_whmcs_document_over_the_api(api, company):
    response = api.post(
        f"/companies/{company.pk}/settings/import",
        {
            "document": {"company": {"CreateInvoiceDaysBefore": "14"}},
            "dialect": "whmcs",
            "dry_run": False,
        },
    )
    assert response.status_code == 200, response.content
    setting = api.get(f"/companies/{company.pk}/settings").json()["invoice_days_before_renewal"]
    assert setting == {"value": 14, "source": "company"}


def test_refused_values_are_listed_in_a_dry_run_and_a_422_when_written(api, company):
    url = f"/companies/{company.pk}/settings/import"
    document = {"company": {"autodebit": "maybe", "inv_days_before_renewal": "3"}}
    planned = api.post(url, {"document": document, "dialect": "blesta"})
    assert planned.status_code == 200
    assert planned.json()["refused"] == [
        {
            "field": "company.autodebit",
            "key": "autodebit_enabled",
            "message": 'must be "true" or "false"',
            "value": "maybe",
        }
    ]
    written = api.post(url, {"document": document, "dialect": "blesta", "dry_run": False})
    assert written.status_code == 422
    assert field_errors(written) == {"company.autodebit": 'must be "true" or "false"'}
    assert written.json()["detail"].startswith("Nothing was imported: company.autodebit")
    assert not SettingValue.objects.filter(company=company).exists()


def test_an_unreadable_document_is_a_422(api, company):
    response = api.post(
        f"/companies/{company.pk}/settings/import", {"document": {"company": {"a": 1}}}
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert field_errors(response) == {
        "format": 'must be "groupbill-settings" (a Groupbill settings export)'
    }


def test_unknown_company_is_a_404(api, db):
    assert api.get("/companies/999/settings/export").status_code == 404
    response = api.post("/companies/999/settings/import", {"document": {}})
    assert response.status_code == 404


def test_the_openapi_document_describes_both(api, db):
    schema = api.get("/openapi.json").json()
    export = schema["paths"]["/api/v1/companies/{company_id}/settings/export"]["get"]
    document = export["responses"]["200"]["content"]["application/json"]["schema"]
    assert document["properties"]["company"]["properties"]["notice_first_days"] == {
        "anyOf": [{"type": "integer", "minimum": -60, "maximum": 120}, {"type": "null"}]
    }
    imported = schema["paths"]["/api/v1/companies/{company_id}/settings/import"]["post"]
    assert {"200", "404", "409", "422"} <= set(imported["responses"])
