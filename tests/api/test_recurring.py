"""Recurring invoices are reachable from the API."""


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
