"""Credit notes: an issued invoice is never changed in place. Taking lines off it or voiding
it issues a credit note, numbered in the company's own gap-free sequence, that copies the
lines it credits as they were billed and the parties as the invoice was issued; the invoice
keeps its lines and total and bills `total - credited`. Drafts are still edited in place."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from groupbill import clock
from groupbill.audit.models import AuditEntry
from groupbill.billing import imports, invoices, lock_objects, payments, queries, reports
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import (
    PREVIEW_NUMBERS,
    CreditNote,
    CreditNoteLine,
    CreditNoteSequence,
    Invoice,
)
from groupbill.clients.actions import create_client, update_client
from groupbill.companies.actions import create_company, update_company
from groupbill.companies.models import TaxRule
from groupbill.errors import Conflict
from tests.conftest import ACTOR

MAR1 = date(2026, 3, 1)
MAR5 = datetime(2026, 3, 5, 12, tzinfo=UTC)  # the day the credit notes are issued


def issued(client, *lines, currency=None) -> Invoice:
    """An open invoice of `lines` ((description, unit amount) or an amount), issued March 1."""
    new = [NewLine(*ln) if isinstance(ln, tuple) else NewLine(f"Line {i}", ln)
           for i, ln in enumerate(lines)]  # fmt: skip
    draft = invoices.create_invoice(client, new, actor=ACTOR, currency=currency)
    return invoices.issue_invoice(draft, issued_on=MAR1, actor=ACTOR)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def due_and_credit(client, currency="EUR") -> tuple[int, int]:
    for b in payments.balances([client.pk])[client.pk]:
        if b.currency == currency:
            return b.due, b.credit
    return 0, 0


def line_ids(invoice: Invoice) -> list[int]:
    return list(invoice.lines.order_by("position").values_list("pk", flat=True))


def test_credit_notes_are_numbered_per_company_apart_from_invoices(company, make_client):
    ada = make_client()
    first, second = issued(ada, 1000, 500), issued(ada, 2000)
    third = issued(ada, 300)
    assert [i.number for i in (first, second, third)] == [1, 2, 3]
    invoices.remove_lines(first, line_ids(first)[:1], actor=ACTOR)
    invoices.void_invoice(third, actor=ACTOR)
    other_company = create_company(
        {"name": "Other", "timezone": "UTC", "default_currency": "EUR"}, actor=ACTOR
    )
    bob = create_client(other_company, {"first_name": "Bob", "last_name": "B",
                                        "email": "bob@example.com"}, actor=ACTOR)  # fmt: skip
    invoices.void_invoice(issued(bob, 700), actor=ACTOR)
    rows = CreditNote.objects.order_by("pk").values_list("company_id", "number", "invoice_id")
    assert list(rows) == [
        (company.pk, 1, first.pk),
        (company.pk, 2, third.pk),
        (other_company.pk, 1, Invoice.objects.get(client=bob).pk),
    ]
    assert str(CreditNote.objects.get(invoice=third)) == "Credit note 2"
    # A refused credit takes no number: the next one is still 3.
    discounted = issued(ada, ("Hosting", 1000), ("Discount", -300))
    with pytest.raises(Conflict):
        invoices.remove_lines(discounted, line_ids(discounted)[:1], actor=ACTOR)
    assert CreditNoteSequence.objects.get(company=company).next_number == 3
    invoices.void_invoice(second, actor=ACTOR)
    assert CreditNote.objects.get(invoice=second).number == 3


def test_a_credit_note_copies_the_lines_as_billed_and_the_parties_as_issued(company, make_client):
    TaxRule.objects.create(company=company, level=1, name="VAT", country="DE", rate=Decimal("19"))
    ada = make_client(country="DE", company="Lovelace Ltd", city="Berlin")
    invoice = issued(ada, ("Hosting", 1000), ("Backup", 250))
    update_company(company, {"legal_name": "Acme Hosting SE"}, actor=ACTOR)
    update_client(ada, {"city": "Hamburg"}, actor=ACTOR)
    _, backup = invoice.lines.order_by("position")
    with clock.frozen_at(MAR5):
        invoices.remove_lines(invoice, [backup.pk], actor=ACTOR, reason="backup cancelled")
    note = CreditNote.objects.get()
    assert (note.invoice_id, note.client_id, note.currency) == (invoice.pk, ada.pk, "EUR")
    assert (note.issued_on, note.reason) == (date(2026, 3, 5), "backup cancelled")
    assert (note.subtotal, note.tax_total, note.total) == (250, 48, 298)  # 19 % of 2.50
    [line] = note.lines.all()
    copied = ("description", "quantity", "unit_amount", "amount", "tax1_rate", "tax1_amount",
              "tax2_rate", "tax2_amount", "total", "tax_rule", "tax_reason")  # fmt: skip
    assert {f: getattr(line, f) for f in copied} == {f: getattr(backup, f) for f in copied}
    assert (line.invoice_line_id, line.tax1_rate, line.tax_rule) == (backup.pk, 19, "rules")
    # The parties as the invoice was issued, not as they are now.
    invoice = fresh(invoice)
    assert (note.seller, note.buyer) == (invoice.seller, invoice.buyer)
    assert note.seller["name"] == "Acme Hosting"
    assert "Berlin" in " ".join(note.buyer["address"])
    # The invoice keeps both lines and its totals; it bills what is not credited.
    assert invoice.lines.count() == 2
    assert (invoice.total, invoice.credited, invoice.balance_due) == (1488, 298, 1190)
    assert due_and_credit(ada) == (1190, 0)
    entry = AuditEntry.objects.get(action="credit_note.issue")
    assert (entry.level, entry.object_id, entry.object_label) == ("credit_note", note.pk,
                                                                  "Credit note 1")  # fmt: skip
    assert entry.new["value"]["lines"] == [backup.pk]
    assert entry.new["value"]["total"] == 298


def test_voiding_credits_what_is_not_credited_yet_and_returns_the_payments(make_client):
    ada = make_client()
    invoice = issued(ada, 3000, 2000, 1000)
    payments.pay_invoice(invoice, amount=1500, actor=ACTOR)
    first, second, third = line_ids(invoice)
    invoices.remove_lines(invoice, [second], actor=ACTOR)
    assert (fresh(invoice).status, invoice.credited, invoice.amount_paid) == ("open", 2000, 1500)
    assert due_and_credit(ada) == (2500, 0)
    invoices.void_invoice(invoice, actor=ACTOR, reason="wrong client")
    invoice = fresh(invoice)
    assert (invoice.status, invoice.total, invoice.credited, invoice.amount_paid) == (
        "void", 6000, 6000, 0)  # fmt: skip
    notes = list(invoice.credit_notes.order_by("number"))
    assert [(n.number, n.total, n.reason) for n in notes] == [(1, 2000, ""),
                                                             (2, 4000, "wrong client")]  # fmt: skip
    assert [[ln.invoice_line_id for ln in n.lines.all()] for n in notes] == [
        [second], [first, third]]  # fmt: skip
    assert due_and_credit(ada) == (0, 1500)
    with pytest.raises(Conflict):
        invoices.void_invoice(invoice, actor=ACTOR)
    with pytest.raises(Conflict):  # a void invoice's lines are credited already
        invoices.remove_lines(invoice, [first], actor=ACTOR)


def test_crediting_an_open_invoice_down_to_what_was_paid_makes_it_paid(make_client):
    ada = make_client()
    invoice = issued(ada, 3000, 2000)
    payments.pay_invoice(invoice, amount=3000, actor=ACTOR)
    assert fresh(invoice).status == "open"
    invoices.remove_lines(invoice, line_ids(invoice)[1:], actor=ACTOR)
    invoice = fresh(invoice)
    assert (invoice.status, invoice.balance_due, invoice.amount_paid) == ("paid", 0, 3000)
    assert invoice.paid_at is not None
    assert due_and_credit(ada) == (0, 0)
    with pytest.raises(Conflict):  # nothing is due: no payment is taken
        payments.pay_invoice(invoice, amount=1, actor=ACTOR)


def test_drafts_are_edited_in_place_and_take_no_credit_note(company, make_client):
    ada = make_client()
    draft = invoices.create_invoice(ada, [NewLine("A", 1000), NewLine("B", 500)], actor=ACTOR)
    invoices.remove_lines(draft, line_ids(draft)[:1], actor=ACTOR)
    draft = fresh(draft)
    assert (draft.lines.count(), draft.total, draft.credited) == (1, 500, 0)
    invoices.void_invoice(draft, actor=ACTOR)
    assert (fresh(draft).status, draft.number) == ("void", None)
    other = invoices.create_invoice(ada, [NewLine("C", 100)], actor=ACTOR)
    invoices.delete_draft(other, actor=ACTOR)
    assert not CreditNote.objects.exists()
    assert not CreditNoteSequence.objects.filter(company=company, next_number__gt=1).exists()


def test_a_credit_never_leaves_an_invoice_billing_less_than_nothing(make_client):
    """A discount line goes with what it discounts: crediting the hosting alone, or the
    discount alone (a credit of less than nothing), is refused and writes nothing; voiding
    credits both."""
    ada = make_client()
    invoice = issued(ada, ("Hosting", 1000), ("Discount", -300))
    hosting, discount = line_ids(invoice)
    for refused in ([hosting], [discount]):
        with pytest.raises(Conflict):
            invoices.remove_lines(invoice, refused, actor=ACTOR)
    assert (fresh(invoice).credited, CreditNote.objects.count()) == (0, 0)
    invoices.remove_lines(invoice, [hosting, discount], actor=ACTOR)
    [note] = fresh(invoice).credit_notes.all()
    assert (note.total, invoice.credited, invoice.status) == (700, 700, "void")


def test_a_line_is_credited_once(make_client):
    ada = make_client()
    invoice = issued(ada, 1000, 500)
    line = invoice.lines.order_by("position").first()
    invoices.remove_lines(invoice, [line.pk], actor=ACTOR)
    with pytest.raises(Conflict):
        invoices.remove_lines(invoice, [line.pk], actor=ACTOR)
    note = CreditNote.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():  # the table says so too
        CreditNoteLine.objects.create(credit_note=note, invoice_line=line, description="again",
                                      unit_amount=1000, amount=1000, total=1000)  # fmt: skip


def test_a_preview_numbers_its_credit_notes_apart_and_takes_none(company, make_client):
    """A dry run takes no lock and no number: its credit notes are numbered in the preview
    band, shown as the number they would get."""
    ada = make_client()
    invoice = issued(ada, 1000)
    invoices.void_invoice(issued(ada, 500), actor=ACTOR)  # credit note 1, for real
    with transaction.atomic(), lock_objects.none_taken():
        invoices.void_invoice(invoice, actor=ACTOR)
        note = CreditNote.objects.get(invoice=invoice)
        assert (note.number, str(note)) == (PREVIEW_NUMBERS + 2, "Credit note 2")
        transaction.set_rollback(True)
    assert CreditNoteSequence.objects.get(company=company).next_number == 2
    assert fresh(invoice).status == "open"


def test_reports_and_lists_count_an_invoice_less_its_credit_notes(company, make_client):
    """Revenue, tax and ageing count what invoices still bill: a credited line is neither
    revenue nor taxed, a voided invoice not at all, and what is owed is total less credit
    notes less payments."""
    TaxRule.objects.create(company=company, level=1, name="VAT", country="DE", rate=Decimal("19"))
    ada = make_client(country="DE")

    def issue(on, *amounts):
        draft = invoices.create_invoice(ada, [NewLine(f"L{a}", a) for a in amounts], actor=ACTOR)
        return invoices.issue_invoice(draft, issued_on=on, actor=ACTOR)

    credited = issue(date(2026, 5, 10), 1000, 500)  # 11.90 + 5.95
    invoices.remove_lines(credited, line_ids(credited)[1:], actor=ACTOR)
    invoices.void_invoice(issue(date(2026, 5, 11), 2000), actor=ACTOR)
    issue(date(2026, 5, 12), 300)  # 3.57
    [eur] = reports.revenue_by_month(company, date(2026, 6, 15))
    assert eur.at(date(2026, 5, 1)) == 1000 + 300
    [group] = reports.revenue_by_group(company, date(2026, 5, 1), date(2026, 6, 1))
    assert (group.invoices, group.net, group.tax) == (2, 1300, 190 + 57)
    [tax] = reports.tax_by_rate(company, date(2026, 5, 1), date(2026, 6, 1))
    assert (tax.rate, tax.lines, tax.net, tax.tax) == (19, 2, 1300, 247)
    [ageing] = reports.ageing(company, date(2026, 6, 15))
    assert (ageing.total, ageing.amounts["31_60"]) == (1190 + 357, 1190 + 357)
    listed = queries.invoice_list(queries.InvoiceFilter(client_id=ada.pk)).get(pk=credited.pk)
    assert (listed.total, listed.balance) == (1785, 1190)


def test_an_imported_invoice_credited_here_keeps_its_lines_on_a_new_import(make_client):
    """An invoice an import made, then credited here: importing it again with other lines
    is refused (its credited lines stay), the same lines import as before."""
    ada = make_client()

    def data(*units):
        lines = tuple(imports.ImportedLine(f"Line {i}", u, 1) for i, u in enumerate(units))
        return imports.ImportedInvoice(status="open", currency="EUR", number=41,
                                       issued_on=date(2026, 11, 1), due_on=None,
                                       lines=lines)  # fmt: skip

    invoice, _ = imports.import_invoice(ada, data(1000, 500), actor=ACTOR)
    invoices.remove_lines(invoice, line_ids(invoice)[1:], actor=ACTOR)
    with pytest.raises(Conflict, match="has credit notes since it was imported"):
        imports.import_invoice(ada, data(1000, 700), actor=ACTOR, existing=fresh(invoice))
    assert imports.import_invoice(ada, data(1000, 500), actor=ACTOR, existing=fresh(invoice))
    assert (fresh(invoice).lines.count(), invoice.credited) == (2, 500)
    assert imports.settle_imported([invoice.pk]) == []  # open, nothing paid of 10.00 billed
