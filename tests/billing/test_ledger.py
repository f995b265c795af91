"""Invoices, payments, credits and refunds: figures to the minor unit, and the ledger's
invariants under random sequences of operations."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groupbill.billing import invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import (
    Application,
    CreditNote,
    Invoice,
    InvoiceStatus,
    Transaction,
)
from groupbill.companies.models import TaxRule
from groupbill.errors import Conflict, DomainError, ValidationFailed
from tests.conftest import ACTOR

D = date(2026, 11, 24)


@pytest.fixture
def german_client(make_client):
    return make_client(country="DE")


def issued(client, *amounts, due_on=D, currency=None):
    inv = invoices.create_invoice(
        client, [NewLine(f"Line {i}", a) for i, a in enumerate(amounts)], actor=ACTOR,
        currency=currency,
    )  # fmt: skip
    return invoices.issue_invoice(inv, issued_on=D, due_on=due_on, actor=ACTOR)


def credit_of(client, currency="EUR"):
    rows = payments.balances([client.pk])[client.pk]
    return next((b.credit for b in rows if b.currency == currency), 0)


def test_numbers_are_given_at_issue_and_have_no_gaps(german_client):
    draft = invoices.create_invoice(german_client, [NewLine("Hosting", 1000)], actor=ACTOR)
    assert draft.number is None and draft.status == InvoiceStatus.DRAFT
    empty = invoices.create_invoice(german_client, [], actor=ACTOR)
    with pytest.raises(ValidationFailed):
        invoices.issue_invoice(empty, issued_on=D, actor=ACTOR)  # refused: takes no number
    first = invoices.issue_invoice(draft, issued_on=D, actor=ACTOR)
    second = issued(german_client, 500)
    assert (first.number, second.number) == (1, 2)
    with pytest.raises(Conflict):
        invoices.issue_invoice(first, issued_on=D, actor=ACTOR)


def test_exclusive_inclusive_and_two_level_taxes(company, make_client):
    TaxRule.objects.create(company=company, level=1, name="VAT", country="DE", rate=Decimal("19"))
    TaxRule.objects.create(company=company, level=1, name="GST", country="CA", rate=Decimal("5"))
    TaxRule.objects.create(
        company=company, level=2, name="PST", country="CA", state="BC", rate=Decimal("7")
    )
    TaxRule.objects.create(
        company=company, level=1, name="MwSt", country="AT", rate=Decimal("20"), inclusive=True
    )
    german = issued(make_client(country="DE"), 1999, 1001)
    assert (german.subtotal, german.tax_total, german.total) == (3000, 380 + 190, 3570)

    bc = issued(make_client(country="CA", state="bc"), 10000)
    assert [(ln.tax1_amount, ln.tax2_amount) for ln in bc.lines.all()] == [(500, 700)]
    assert bc.total == 11200
    ontario = issued(make_client(country="CA", state="ON"), 10000)
    assert (ontario.tax_total, ontario.total) == (500, 10500)

    austrian = issued(make_client(country="AT"), 12000)  # price includes 20%
    assert (austrian.subtotal, austrian.tax_total, austrian.total) == (12000, 2000, 12000)

    exempt = issued(make_client(country="DE", tax_exempt=True), 1999)
    assert (exempt.tax_total, exempt.total) == (0, 1999)


def test_partial_full_and_excess_payments(german_client):
    inv = issued(german_client, 10000)
    payments.pay_invoice(inv, amount=4000, actor=ACTOR)
    inv.refresh_from_db()
    assert (inv.status, inv.amount_paid, inv.balance_due) == ("open", 4000, 6000)
    payments.pay_invoice(inv, amount=7000, actor=ACTOR)
    inv.refresh_from_db()
    assert (inv.status, inv.amount_paid) == ("paid", 10000)
    assert credit_of(german_client) == 1000
    with pytest.raises(Conflict):
        payments.pay_invoice(inv, amount=1, actor=ACTOR)


def test_loose_credit_goes_to_the_oldest_due_invoice_first(german_client):
    later = issued(german_client, 3000, due_on=date(2026, 12, 20))
    sooner = issued(german_client, 2000, due_on=date(2026, 12, 1))
    payments.add_credit(german_client, amount=2500, currency="EUR", actor=ACTOR, note="goodwill")
    assert payments.apply_credit(german_client, "EUR", actor=ACTOR) == 2500
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert (sooner.status, later.amount_paid) == ("paid", 500)
    assert credit_of(german_client) == 0


def test_voiding_returns_payments_as_credit(german_client):
    inv = issued(german_client, 5000)
    payments.pay_invoice(inv, amount=5000, actor=ACTOR)
    invoices.void_invoice(inv, actor=ACTOR, reason="duplicate")
    inv.refresh_from_db()
    assert (inv.status, inv.amount_paid) == ("void", 0)
    assert credit_of(german_client) == 5000
    with pytest.raises(Conflict):
        invoices.void_invoice(inv, actor=ACTOR)


def test_removing_lines_gives_back_what_exceeds_the_new_total(german_client):
    inv = issued(german_client, 3000, 2000)
    payments.pay_invoice(inv, amount=4000, actor=ACTOR)
    first, second = inv.lines.order_by("position")
    invoices.remove_lines(inv, [second.pk], actor=ACTOR, reason="service cancelled")
    inv.refresh_from_db()
    # The invoice keeps its lines and total; a credit note credits the removed line.
    assert (inv.total, inv.credited, inv.amount_paid, inv.status) == (5000, 2000, 3000, "paid")
    assert inv.lines.count() == 2
    assert credit_of(german_client) == 1000
    with pytest.raises(Conflict):  # a line is credited once
        invoices.remove_lines(inv, [second.pk], actor=ACTOR)
    # A paid invoice's last line credited: the invoice is void, its payment credit again.
    invoices.remove_lines(inv, [first.pk], actor=ACTOR)
    inv.refresh_from_db()
    assert (inv.total, inv.credited, inv.amount_paid, inv.status) == (5000, 5000, 0, "void")
    assert credit_of(german_client) == 4000


def test_an_invoice_that_loses_every_line_is_voided(german_client):
    inv = issued(german_client, 3000)
    payments.pay_invoice(inv, amount=1000, actor=ACTOR)
    invoices.remove_lines(inv, [inv.lines.get().pk], actor=ACTOR)
    inv.refresh_from_db()
    assert (inv.status, inv.amount_paid) == ("void", 0)
    assert credit_of(german_client) == 1000


def test_refunds_only_of_what_is_not_applied(german_client):
    inv = issued(german_client, 1000)
    payment = payments.pay_invoice(inv, amount=1500, actor=ACTOR)
    with pytest.raises(ValidationFailed):
        payments.refund(payment, amount=501, actor=ACTOR)
    payments.refund(payment, amount=500, actor=ACTOR)
    assert credit_of(german_client) == 0


@pytest.mark.parametrize(("currency", "amount"), [("JPY", 1250), ("BHD", 12345)])
def test_zero_and_three_decimal_currencies(make_client, currency, amount):
    c = make_client(default_currency=currency)
    inv = issued(c, amount, currency=currency)
    payments.pay_invoice(inv, amount=amount, actor=ACTOR)
    inv.refresh_from_db()
    assert (inv.currency, inv.total, inv.status) == (currency, amount, "paid")


# --- Properties --------------------------------------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.lists(st.integers(1, 50_000), min_size=1, max_size=3)),
        st.tuples(st.just("pay"), st.integers(0, 9), st.integers(1, 60_000)),
        st.tuples(st.just("credit"), st.integers(1, 30_000)),
        st.tuples(st.just("apply_credit")),
        st.tuples(st.just("unapply"), st.integers(0, 9)),
        st.tuples(st.just("void"), st.integers(0, 9)),
        st.tuples(st.just("credit_line"), st.integers(0, 9), st.integers(0, 2)),
        st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 30_000)),
    ),
    max_size=25,
)


def _run(client, op):
    kind, *args = op
    invs = list(Invoice.objects.filter(client=client).order_by("pk"))
    pays = list(Transaction.objects.filter(client=client, kind="payment").order_by("pk"))
    try:
        if kind == "invoice":
            issued(client, *args[0])
        elif kind == "credit":
            payments.add_credit(client, amount=args[0], currency="EUR", actor=ACTOR)
        elif kind == "apply_credit":
            payments.apply_credit(client, "EUR", actor=ACTOR)
        elif kind == "pay" and invs:
            payments.pay_invoice(invs[args[0] % len(invs)], amount=args[1], actor=ACTOR)
        elif kind == "unapply" and invs:
            payments.unapply(invs[args[0] % len(invs)], actor=ACTOR)
        elif kind == "void" and invs:
            invoices.void_invoice(invs[args[0] % len(invs)], actor=ACTOR)
        elif kind == "credit_line" and invs:
            inv = invs[args[0] % len(invs)]
            lines = list(inv.lines.order_by("pk"))
            invoices.remove_lines(inv, [lines[args[1] % len(lines)].pk], actor=ACTOR)
        elif kind == "refund" and pays:
            payments.refund(pays[args[0] % len(pays)], amount=args[1], actor=ACTOR)
    except DomainError:
        pass  # a refused operation changes nothing; the invariants below still hold


def _check_invariants(client):
    for inv in Invoice.objects.filter(client=client):
        applied = Application.objects.filter(invoice=inv).aggregate(s=Sum("amount"))["s"] or 0
        assert inv.amount_paid == applied
        # What credit notes credit: their totals, the credited lines' totals, never more
        # than the invoice's total, all of it once the invoice is void.
        notes = inv.credit_notes.aggregate(s=Sum("total"))["s"] or 0
        credited_lines = inv.lines.filter(credit_line__isnull=False)
        assert inv.credited == notes == (credited_lines.aggregate(s=Sum("total"))["s"] or 0)
        assert 0 <= inv.credited <= inv.total
        assert inv.lines.count() >= 1  # an issued invoice keeps every line
        if inv.status == InvoiceStatus.VOID:
            assert applied == 0
            assert inv.credited == inv.total and credited_lines.count() == inv.lines.count()
        elif inv.status == InvoiceStatus.PAID:
            assert applied == inv.total - inv.credited
        elif inv.status == InvoiceStatus.OPEN:
            assert applied < inv.total - inv.credited
    numbers = sorted(CreditNote.objects.filter(client=client).values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))  # one client, one company: no gaps
    funds_in = paid_out = 0
    for txn in Transaction.objects.filter(client=client):
        if txn.kind == "refund":
            paid_out += txn.amount
            continue
        funds_in += txn.amount
        used = (txn.applications.aggregate(s=Sum("amount"))["s"] or 0) + (
            txn.refunds.aggregate(s=Sum("amount"))["s"] or 0
        )
        assert used <= txn.amount
    credit = credit_of(client)
    assert credit >= 0
    applied_total = Application.objects.filter(invoice__client=client).aggregate(s=Sum("amount"))
    assert funds_in == (applied_total["s"] or 0) + paid_out + credit


PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(ops)
def test_ledger_invariants_hold_after_any_operations(make_client, operations):
    with transaction.atomic():
        client = make_client()
        for op in operations:
            _run(client, op)
            _check_invariants(client)
        transaction.set_rollback(True)


@PROPERTY
@given(ops, st.integers(0, 9))
def test_unapply_then_reapply_restores_balances(make_client, operations, pick):
    with transaction.atomic():
        client = make_client()
        for op in operations:
            _run(client, op)
        open_invoices = list(Invoice.objects.filter(client=client, status="open"))
        if open_invoices:
            before = payments.balances([client.pk])
            target = open_invoices[pick % len(open_invoices)]
            taken = payments.unapply(target, actor=ACTOR)
            payments.apply_credit(client, "EUR", actor=ACTOR, invoice_ids=[target.pk])
            target.refresh_from_db()
            assert target.amount_paid >= taken
            if target.amount_paid == taken:
                assert payments.balances([client.pk]) == before
        transaction.set_rollback(True)
