"""Recurring invoices are reachable from the client's page."""

from groupbill.billing.models import RecurringInvoice


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
