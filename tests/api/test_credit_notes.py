"""Credit notes over REST: taking a line off an issued invoice and voiding it issue them;
`/credit-notes` lists and reads them with their lines, and the invoice shows what they
credit."""

from decimal import Decimal

from groupbill.companies.models import TaxRule
from tests.api.test_auth import assert_problem

LINES = [
    {"description": "Hosting", "unit_amount": 1000},
    {"description": "Backup", "unit_amount": 250},
    {"description": "Setup", "unit_amount": 500, "taxable": False},
]


def issued(api, client, lines=LINES) -> dict:
    r = api.post("/invoices", {"client_id": client.pk, "lines": lines})
    assert r.status_code == 201, r.content
    r = api.post(f"/invoices/{r.json()['id']}/issue", {"issued_on": "2026-03-01"})
    assert r.status_code == 200, r.content
    return r.json()


def test_taking_a_line_off_an_issued_invoice_issues_a_credit_note(api, company, make_client):
    TaxRule.objects.create(company=company, level=1, name="VAT", country="DE", rate=Decimal("19"))
    ada = make_client(country="DE")
    invoice = issued(api, ada)
    iid = invoice["id"]
    hosting, backup, setup = invoice["lines"]
    assert (invoice["total"], invoice["credited"], invoice["credit_notes"]) == (1988, 0, [])
    r = api.post(f"/invoices/{iid}/payments", {"amount": 1500})
    assert r.status_code == 201, r.content

    assert api.delete(f"/invoices/{iid}/lines/{backup['id']}").status_code == 204
    body = api.get(f"/invoices/{iid}").json()
    assert [ln["id"] for ln in body["lines"]] == [hosting["id"], backup["id"], setup["id"]]
    assert (body["status"], body["total"], body["credited"], body["amount_paid"]) == (
        "open", 1988, 298, 1500)  # fmt: skip
    assert body["balance_due"] == 1988 - 298 - 1500
    [ref] = body["credit_notes"]
    assert (ref["number"], ref["total"]) == (1, 298)
    # A line is credited once.
    assert_problem(api.delete(f"/invoices/{iid}/lines/{backup['id']}"), 409)

    note = api.get(f"/credit-notes/{ref['id']}").json()
    assert {k: note[k] for k in ("invoice_id", "invoice_number", "client_id", "company_id",
                                 "number", "currency", "subtotal", "tax_total", "total")} == {
        "invoice_id": iid, "invoice_number": invoice["number"], "client_id": ada.pk,
        "company_id": company.pk, "number": 1, "currency": "EUR", "subtotal": 250,
        "tax_total": 48, "total": 298,
    }  # fmt: skip
    [line] = note["lines"]
    assert line == {
        "id": line["id"], "invoice_line_id": backup["id"], "description": "Backup",
        "period_start": None, "period_end": None, "quantity": 1, "unit_amount": 250,
        "amount": 250, "tax1_rate": "19.0000", "tax1_amount": 48, "tax2_rate": "0.0000",
        "tax2_amount": 0, "total": 298,
    }  # fmt: skip

    # Voiding credits the rest; the payment becomes credit.
    r = api.post(f"/invoices/{iid}/void", {"reason": "wrong client"})
    assert (r.status_code, r.json()["status"], r.json()["credited"]) == (200, "void", 1988)
    assert [(n["number"], n["total"]) for n in r.json()["credit_notes"]] == [(1, 298), (2, 1690)]
    second = api.get(f"/credit-notes?invoice_id={iid}").json()["items"][1]
    assert [ln["invoice_line_id"] for ln in second["lines"]] == [hosting["id"], setup["id"]]
    assert second["reason"] == "wrong client"
    balance = api.get(f"/clients/{ada.pk}/balance").json()["items"]
    assert balance == [{"currency": "EUR", "due": 0, "credit": 1500}]


def test_credit_notes_are_listed_by_client_and_invoice_and_paginated(api, make_client):
    ada, bob = make_client(), make_client(email="bob@example.com")
    for client in (ada, ada, bob):
        api.post(f"/invoices/{issued(api, client)['id']}/void", {})
    draft = api.post("/invoices", {"client_id": ada.pk, "lines": LINES}).json()
    api.post(f"/invoices/{draft['id']}/void", {})  # a draft: no credit note
    everything = api.get("/credit-notes").json()
    assert ([n["number"] for n in everything["items"]], everything["count"]) == ([1, 2, 3], 3)
    theirs = api.get(f"/credit-notes?client_id={ada.pk}").json()
    assert [n["client_id"] for n in theirs["items"]] == [ada.pk, ada.pk]
    first_invoice = everything["items"][0]["invoice_id"]
    assert api.get(f"/credit-notes?invoice_id={first_invoice}").json()["count"] == 1
    page = api.get("/credit-notes?limit=1&offset=1").json()
    assert ([n["number"] for n in page["items"]], page["count"]) == ([2], 3)
    assert api.get(f"/credit-notes?client_id={ada.pk}&invoice_id=999999").json()["count"] == 0


def test_credit_note_refusals(api, ada):
    assert_problem(api.get("/credit-notes/999999"), 404)
    assert_problem(api.get("/credit-notes/0"), 422)
    assert_problem(api.get("/credit-notes?client_id=x"), 422)
    assert_problem(api.post("/credit-notes", {}), 405)
    invoice = issued(api, ada, [{"description": "Hosting", "unit_amount": 1000},
                                {"description": "Discount", "unit_amount": -300}])  # fmt: skip
    hosting, _ = invoice["lines"]
    # What is left would bill less than nothing: void the invoice instead.
    assert_problem(api.delete(f"/invoices/{invoice['id']}/lines/{hosting['id']}"), 409)
    assert api.get("/credit-notes").json()["count"] == 0


def test_the_openapi_document_describes_credit_notes(api):
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/credit-notes"]) == {"get"}
    assert set(paths["/api/v1/credit-notes/{credit_note_id}"]) == {"get"}
    params = {p["name"] for p in paths["/api/v1/credit-notes"]["get"]["parameters"]}
    assert {"client_id", "invoice_id", "limit", "offset"} <= params
    answers = paths["/api/v1/credit-notes/{credit_note_id}"]["get"]["responses"]
    assert {"200", "401", "404", "422"} <= set(answers)
    invoice = schema["components"]["schemas"]["InvoiceOut"]["properties"]
    assert {"credited", "credit_notes"} <= set(invoice)
