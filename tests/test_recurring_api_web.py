"""Recurring invoices are reachable from the API and the client's page."""

from groupbill.billing.models import RecurringInvoice


def test_recurring_invoices_over_the_api(api, make_client):
    client = make_client()
    body = {
        "unit": "month",
        "start_on": "2028-01-31",
        "lines": [{"description": "Support", "unit_amount": 5000}],
    }
    created = api.post(f"/clients/{client.pk}/recurring-invoices", body)
    assert created.status_code == 201
    item = created.json()
    assert (item["renew_date"], item["active"], item["lines"][0]["unit_amount"]) == (
        "2028-01-31",
        True,
        5000,
    )
    bad = api.post(f"/clients/{client.pk}/recurring-invoices", {**body, "unit": "onetime"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "unit"
    listed = api.get(f"/clients/{client.pk}/recurring-invoices").json()
    assert listed["count"] == 1
    stopped = api.post(f"/recurring-invoices/{item['id']}/stop", {}).json()
    assert stopped["active"] is False
    assert api.post(f"/recurring-invoices/{item['id']}/stop", {}).status_code == 409
    assert api.get("/recurring-invoices/999").status_code == 404


def test_recurring_invoices_from_the_client_page(client, staff_user, make_client):
    client.force_login(staff_user)
    ada = make_client()
    page = client.post(
        f"/clients/{ada.pk}/recurring/add/",
        {
            "description": "Retainer",
            "unit_amount": "99.50",
            "unit": "month",
            "start_on": "2026-05-01",
        },
        follow=True,
    ).content.decode()
    template = RecurringInvoice.objects.get(client=ada)
    assert f"Recurring invoice #{template.pk} created" in page and "€99.50" in page
    page = client.post(
        f"/clients/{ada.pk}/recurring/add/",
        {"description": "X", "unit_amount": "1.234", "unit": "month", "start_on": "2026-05-01"},
        follow=True,
    ).content.decode()
    assert "at most 2 decimal place" in page
    client.post(f"/clients/{ada.pk}/recurring/stop/", {"recurring": template.pk})
    template.refresh_from_db()
    assert template.active is False
