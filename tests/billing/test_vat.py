"""VAT by the EU's rules, for a seller in Germany: who pays which rate, and why, kept on
each line; a rate change from a day leaves invoices made before it as they were."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from groupbill import clock
from groupbill.billing.invoices import NewLine, create_invoice, issue_invoice
from groupbill.billing.models import VatRate
from groupbill.billing.taxes import REVERSE_CHARGE_NOTE
from groupbill.clients.actions import update_client
from groupbill.companies.actions import update_company
from groupbill.errors import ValidationFailed
from tests.conftest import ACTOR, EU_SELLER

MAR_1 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def invoice_for(client, on=MAR_1):
    with clock.frozen_at(on):
        invoice = create_invoice(
            client, [NewLine("Hosting, March", 1, 10000)], actor=ACTOR, currency="EUR"
        )
    return invoice


def decision(invoice):
    line = invoice.lines.get()
    return (line.tax1_rate.normalize(), line.tax1_amount, line.tax_rule, invoice.total)


@pytest.mark.parametrize(
    ("buyer", "expected"),
    [
        (
            {"country": "DE", "tax_id": "DE136695976", "company": "Kunde GmbH"},
            (Decimal("19"), 1900, "domestic", 11900),
        ),
        ({"country": "DE"}, (Decimal("19"), 1900, "domestic", 11900)),
        (
            {"country": "FR", "tax_id": "FR40303265045", "company": "Client SARL"},
            (Decimal("0"), 0, "reverse_charge", 10000),
        ),
        ({"country": "FR"}, (Decimal("20"), 2000, "destination", 12000)),
        ({"country": "US", "state": "CA"}, (Decimal("0"), 0, "outside_eu", 10000)),
        ({"country": "FR", "tax_exempt": True}, (Decimal("0"), 0, "exempt", 10000)),
        ({}, (Decimal("19"), 1900, "domestic", 11900)),  # no country: the seller's
    ],
    ids=["DE business", "DE consumer", "FR business", "FR consumer", "US", "exempt", "none"],
)
def test_the_tax_table(eu_seller, make_client, buyer, expected):
    client = make_client(**buyer)
    assert decision(invoice_for(client)) == expected


def test_the_reason_is_kept_on_the_line_and_names_the_rule(eu_seller, make_client):
    business = make_client(country="FR", tax_id="FR 403 032 650 45", company="Client SARL")
    consumer = make_client(country="FR")
    line = invoice_for(business).lines.get()
    assert business.tax_id == "FR40303265045"  # stored compact
    assert line.tax_reason == f"{REVERSE_CHARGE_NOTE} Buyer's VAT ID: FR40303265045"
    assert invoice_for(consumer).lines.get().tax_reason == (
        "VAT of France at 20%: a consumer in France"
    )


def test_a_rate_change_applies_from_its_day_and_leaves_older_invoices(eu_seller, make_client):
    consumer = make_client(country="FR")
    before = invoice_for(consumer, datetime(2026, 6, 30, 12, tzinfo=UTC))
    VatRate.objects.create(country="FR", rate=Decimal("21"), valid_from=date(2026, 7, 1))
    after = invoice_for(consumer, datetime(2026, 7, 1, 12, tzinfo=UTC))
    assert decision(after) == (Decimal("21"), 2100, "destination", 12100)
    before.refresh_from_db()
    assert decision(before) == (Decimal("20"), 2000, "destination", 12000)


def test_an_issued_invoice_keeps_the_parties_as_they_were(eu_seller, make_client):
    client = make_client(country="FR", tax_id="FR40303265045", company="Client SARL",
                         address1="1 rue de la Paix", zip="75002", city="Paris")  # fmt: skip
    invoice = invoice_for(client)
    issue_invoice(invoice, issued_on=date(2026, 3, 1), actor=ACTOR)
    update_client(client, {"city": "Lyon", "tax_id": ""}, actor=ACTOR)
    update_company(eu_seller, {"legal_name": "Acme Hosting SE"}, actor=ACTOR)
    invoice.refresh_from_db()
    assert invoice.seller["name"] == "Acme Hosting GmbH"
    assert invoice.seller["vat_id"] == "DE136695976"
    assert invoice.buyer["address"] == ["1 rue de la Paix", "75002 Paris"]
    assert (invoice.buyer["name"], invoice.buyer["vat_id"]) == ("Client SARL", "FR40303265045")


def test_vat_ids_are_checked_with_clear_messages(company, make_client):
    with pytest.raises(ValidationFailed) as refused:
        make_client(country="DE", tax_id="DE123456789")
    assert refused.value.errors[0].field == "tax_id"
    assert refused.value.errors[0].message == (
        "is not a valid VAT number of Germany: its check digits do not match"
    )
    # A tax ID that is not an EU VAT number is kept as given.
    assert make_client(country="US", tax_id="12-3456789").tax_id == "12-3456789"


def test_eu_vat_needs_a_seller_in_a_member_state(company):
    with pytest.raises(ValidationFailed) as refused:
        update_company(company, {"country": "US", "charges_eu_vat": True}, actor=ACTOR)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("charges_eu_vat", "needs the company's country to be an EU member state; it is US")
    ]


def test_the_api_shows_and_edits_the_seller(api, company):
    response = api.patch(f"/companies/{company.pk}", EU_SELLER)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["legal_name"], body["vat_id"], body["charges_eu_vat"]) == (
        "Acme Hosting GmbH", "DE136695976", True)  # fmt: skip
    refused = api.patch(f"/companies/{company.pk}", {"vat_id": "DE 123 456 789"})
    assert refused.status_code == 422
    assert "check digits" in refused.text


def test_the_vies_check_refuses_an_unregistered_number_and_never_blocks_when_down(
    company, make_client, settings, monkeypatch
):
    import io
    import json
    import urllib.request

    settings.VIES_CHECK = True
    answers = []

    def vies(url, timeout):
        answers.append(url)
        if "403032" in url:
            raise OSError("VIES is down")
        return io.BytesIO(json.dumps({"isValid": False}).encode())

    monkeypatch.setattr(urllib.request, "urlopen", vies)
    with pytest.raises(ValidationFailed) as refused:
        make_client(country="DE", tax_id="DE136695976")
    assert refused.value.errors[0].message == (
        "is not registered in VIES, the EU's VAT register, for Germany"
    )
    # VIES cannot be reached: the number is taken on its check digits alone.
    assert make_client(country="FR", tax_id="FR40303265045").tax_id == "FR40303265045"
    assert answers == [
        "https://ec.europa.eu/taxation_customs/vies/rest-api/ms/DE/vat/136695976",
        "https://ec.europa.eu/taxation_customs/vies/rest-api/ms/FR/vat/40303265045",
    ]
