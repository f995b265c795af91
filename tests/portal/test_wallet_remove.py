"""The payment-methods page as a client reads it: every card says whether it pays
invoices automatically, any card can be removed, and another client's card id answers
the portal's own "Page not found" page."""

import re

from groupbill.billing.models import PaymentAccount
from tests.conftest import portal_session


def _add(http, number, label, autodebit=False):
    card = {"number": number, "expiry": "02/30", "label": label}
    if autodebit:
        card["is_autodebit"] = "on"
    assert http.post("/portal/payment-methods/add/", card).status_code == 302


def _rows(http) -> list[str]:
    html = http.get("/portal/payment-methods/").content.decode()
    rows = re.findall(r"<tr><td>(.*?)</tr>", html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]


def test_every_card_says_if_it_pays_automatically_and_can_be_removed(make_client):
    http = portal_session(make_client())
    _add(http, "4242 4242 4242 4242", "Work", autodebit=True)
    _add(http, "5555 5555 5555 4444", "Spare")
    rows = _rows(http)
    assert "Used for automatic payment" in rows[0] and "Remove" in rows[0]
    assert "Not used" in rows[1] and "Use for automatic payment" in rows[1]
    assert "Remove" in rows[1]

    spare = PaymentAccount.objects.get(label="Spare")
    page = http.post(f"/portal/payment-methods/{spare.pk}/remove/", follow=True)
    assert f"{spare} removed." in page.content.decode()
    work = PaymentAccount.objects.get(label="Work")
    page = http.post(f"/portal/payment-methods/{work.pk}/remove/", follow=True)
    assert "Invoices are no longer paid automatically" in page.content.decode()
    assert "No saved payment methods." in page.content.decode()
    assert not PaymentAccount.objects.exists()


def test_another_clients_card_is_a_styled_not_found_page(make_client):
    ada = portal_session(make_client())
    bob = portal_session(make_client(first_name="Bob", email="bob@example.com"))
    _add(bob, "4242 4242 4242 4242", "Bob's")
    card = PaymentAccount.objects.get()
    for response in (
        ada.post(f"/portal/payment-methods/{card.pk}/remove/"),
        ada.get(f"/portal/invoices/{999999}/"),
    ):
        assert response.status_code == 404
        html = response.content.decode()
        assert "<h1>Page not found</h1>" in html
        assert "Back to your dashboard" in html
        assert "app.css" in html  # the portal's own layout, not a bare error page
    assert PaymentAccount.objects.filter(pk=card.pk).exists()
