"""Invoices and transactions as an importer writes them (billing.imports): numbers and
dates kept, the ledger's invariants held, contradictions refused, numbering continued."""

from datetime import date

import pytest
from django.db import transaction

from groupbill.billing import imports
from groupbill.billing.invoices import NewLine, create_invoice, issue_invoice
from groupbill.billing.payments import balances
from groupbill.errors import ValidationFailed

ACTOR = "test"


def invoice_data(number=41, status="open", lines=((1000, 1),), **extra):
    return imports.ImportedInvoice(
        status=status,
        currency="EUR",
        number=number,
        issued_on=date(2026, 11, 1),
        due_on=date(2026, 11, 15),
        lines=tuple(imports.ImportedLine(f"Line {i}", unit, qty) for i, (unit, qty) in
                    enumerate(lines)),
        **extra,
    )  # fmt: skip


def payment(amount=1000, status="approved", currency="EUR"):
    return imports.ImportedTransaction("payment", status, currency, amount, "check")


def test_an_imported_invoice_keeps_its_number_and_dates_and_tax_spread_over_its_lines(ada):
    invoice, written = imports.import_invoice(
        ada, invoice_data(lines=((1000, 1), (500, 2)), tax_total=401), actor=ACTOR
    )
    assert written
    assert (invoice.number, invoice.status, invoice.issued_on) == (41, "open", date(2026, 11, 1))
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (2000, 401, 2401)
    assert [line.total for line in invoice.lines.all()] == [1201, 1200]  # 200.5 + 200.5
    assert invoice.seller["name"] == "Acme Hosting"
    # The same again writes nothing.
    assert imports.import_invoice(
        ada, invoice_data(lines=((1000, 1), (500, 2)), tax_total=401), actor=ACTOR,
        existing=invoice,
    )[1] is False  # fmt: skip
    # The next invoice Groupbill issues follows the highest imported number.
    assert imports.continue_numbering(ada.company_id) == 42
    draft = create_invoice(ada, [NewLine("Extra", 100)], actor=ACTOR)
    assert issue_invoice(draft, issued_on=date(2026, 11, 28), actor=ACTOR).number == 42


def test_a_number_already_taken_is_refused(ada):
    imports.import_invoice(ada, invoice_data(number=7), actor=ACTOR)
    with pytest.raises(ValidationFailed) as caught:
        imports.import_invoice(ada, invoice_data(number=7), actor=ACTOR)
    assert caught.value.errors[0].field == "number"
    assert "7 is already the number of invoice #" in caught.value.message


def test_applications_keep_the_ledger_and_a_contradicted_status_is_refused(ada, make_client):
    open_invoice, _ = imports.import_invoice(ada, invoice_data(number=1), actor=ACTOR)
    void_invoice, _ = imports.import_invoice(
        ada, invoice_data(number=2, status="void"), actor=ACTOR
    )
    txn, _ = imports.import_transaction(ada, payment(1500), actor=ACTOR)
    with pytest.raises(ValidationFailed, match="more than its amount 1500"):
        imports.set_applications(txn, {open_invoice.pk: 1600})
    with pytest.raises(ValidationFailed, match=f"invoice #{void_invoice.pk} is void"):
        imports.set_applications(txn, {void_invoice.pk: 100})
    declined, _ = imports.import_transaction(ada, payment(500, "declined"), actor=ACTOR)
    with pytest.raises(ValidationFailed, match="a declined transaction cannot be applied"):
        imports.set_applications(declined, {open_invoice.pk: 100})
    other = make_client(email="bob@example.com")
    theirs, _ = imports.import_transaction(other, payment(100), actor=ACTOR)
    with pytest.raises(ValidationFailed, match="is not the same client's in EUR"):
        imports.set_applications(theirs, {open_invoice.pk: 100})

    assert imports.set_applications(txn, {open_invoice.pk: 400}) is True
    assert imports.settle_imported([open_invoice.pk]) == []
    open_invoice.refresh_from_db()
    assert (open_invoice.amount_paid, open_invoice.balance_due) == (400, 600)
    (eur,) = balances([ada.pk])[ada.pk]
    assert (eur.currency, eur.due, eur.credit) == ("EUR", 600, 1100)

    # Imported as paid, but only 400 of 1000 came: refused, not bent.
    paid, _ = imports.import_invoice(ada, invoice_data(number=1, status="paid"), actor=ACTOR,
                                     existing=open_invoice)  # fmt: skip
    with transaction.atomic():
        ((wrong, why),) = imports.settle_imported([paid.pk])
    assert wrong.pk == paid.pk and why == "is closed as paid but only 400 of 1000 was applied"
