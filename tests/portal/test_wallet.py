"""Adding a card in the portal: what is refused, with the message on the page."""

import pytest

from tests.conftest import portal_session


@pytest.fixture
def new_client_http(make_client):
    return portal_session(make_client())


@pytest.mark.parametrize(
    ("number", "expiry", "message"),
    [
        ("4242424242424242", "13/26", "Enter the expiry as MM/YY."),
        ("4242424242424242", "0/26", "Enter the expiry as MM/YY."),
        ("4242424242424242", "01/20", "This card has expired."),
        ("4242424242424241", "01/30", "This card number is not valid"),
        ("1234", "", "12 to 19 digits"),
    ],
)
def test_a_card_that_cannot_be_added_is_refused_on_the_page(
    new_client_http, number, expiry, message
):
    r = new_client_http.post("/portal/payment-methods/add/", {"number": number, "expiry": expiry})
    assert r.status_code == 400
    assert message in r.content.decode()
    assert number not in r.content.decode()  # the number is never echoed back
    assert new_client_http.get("/portal/payment-methods/").context["accounts"].count() == 0


def test_a_valid_card_is_saved_with_its_last_day_of_validity(new_client_http):
    card = {"number": "4242 4242 4242 4242", "expiry": "02/28", "label": "Work"}
    r = new_client_http.post("/portal/payment-methods/add/", card)
    assert r.status_code == 302
    [card] = new_client_http.get("/portal/payment-methods/").context["accounts"]
    assert (card.last4, card.label, card.expires_on.isoformat()) == ("4242", "Work", "2028-02-29")
