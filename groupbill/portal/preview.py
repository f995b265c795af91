"""The price effect of a self-service action, shown before the client confirms: the action
itself runs inside a transaction that is rolled back, with gateways and modules replaced by
recorders, so the preview is exactly what confirming would do (taxes, proration, credits,
voids) and nothing leaves the database."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum

from groupbill.automation.effects import recorded
from groupbill.billing import payments
from groupbill.billing.models import Invoice, InvoiceStatus, TransactionKind
from groupbill.clients.models import Client
from groupbill.settings_catalog.effective import ClientSettings


@dataclass(frozen=True)
class Line:
    description: str
    amount: int
    tax: int


@dataclass(frozen=True)
class NewInvoice:
    currency: str
    lines: list[Line]
    subtotal: int
    tax_total: int
    total: int
    paid_by_credit: int  # by the engine's next run, when credits are applied automatically
    due_on: date | None

    @property
    def left_to_pay(self) -> int:
        return self.total - self.paid_by_credit


@dataclass(frozen=True)
class Reduced:
    """An open invoice the action voids (`voided`) or takes lines off: a credit note
    credits them. Its totals are what it bills (its total less its credit notes)."""

    number: int | None
    currency: str
    total_before: int
    total_after: int
    voided: bool
    returned_as_credit: int

    @property
    def credited(self) -> int:
        """What the action's credit note credits."""
        return self.total_before - self.total_after


@dataclass(frozen=True)
class Due:
    """An open invoice the action leaves to pay (a cancelled service's, not voided)."""

    number: int | None
    currency: str
    balance_due: int


@dataclass(frozen=True)
class Effect:
    outcome: str
    invoices: list[NewInvoice] = field(default_factory=list)
    reduced: list[Reduced] = field(default_factory=list)
    credits: dict[str, int] = field(default_factory=dict)  # new loose credit per currency
    still_due: list[Due] = field(default_factory=list)


def _open_invoices(client: Client) -> dict[int, tuple[int, int]]:
    return {
        pk: (total - credited, paid)
        for pk, total, credited, paid in Invoice.objects.filter(
            client=client, status=InvoiceStatus.OPEN
        ).values_list("pk", "total", "credited", "amount_paid")
    }


def _new_invoice(inv: Invoice) -> NewInvoice:
    lines = [Line(x.description, x.amount, x.tax1_amount + x.tax2_amount) for x in inv.lines.all()]
    return NewInvoice(inv.currency, lines, inv.subtotal, inv.tax_total, inv.total,
                      inv.amount_paid, inv.due_on)  # fmt: skip


@dataclass(frozen=True)
class _Before:
    """Where the client's invoices and transactions stood before the action."""

    last_invoice: int
    last_transaction: int
    open_invoices: dict[int, tuple[int, int]]  # pk: (total less credited, amount paid)

    @classmethod
    def of(cls, client: Client) -> "_Before":
        return cls(
            client.invoices.aggregate(m=Max("pk"))["m"] or 0,
            client.transactions.aggregate(m=Max("pk"))["m"] or 0,
            _open_invoices(client),
        )


def dry_run(
    client: Client,
    action: Callable[[], Any],
    describe: Callable[[Any], str],
    service_ids: list[int] = (),
) -> Effect:
    """Run `action` for real and roll it back; `describe(result)` words its outcome (called
    before the rollback, so it may read the database). Open invoices still billing
    `service_ids` afterwards are reported as still due. Domain errors pass through."""
    before = _Before.of(client)
    with recorded(), transaction.atomic():
        outcome = describe(action())
        _pay_from_credit_as_the_engine_will(client, before)
        new = _created(client, before)
        reduced = _reduced(before)
        credits = _credits(client, before, reduced)
        still_due = _still_due(client, before, service_ids)
        transaction.set_rollback(True)
    return Effect(outcome, new, reduced, credits, still_due)


def _pay_from_credit_as_the_engine_will(client: Client, before: _Before) -> None:
    """The engine's next run pays open invoices from loose credit (oldest first) when the
    client's `auto_apply_credits` holds: apply it to the new invoices' currencies now, to
    show what that leaves to pay."""
    new_currencies = set(
        client.invoices.filter(pk__gt=before.last_invoice, status=InvoiceStatus.OPEN).values_list(
            "currency", flat=True
        )
    )
    if new_currencies and ClientSettings.of(client.pk).value("auto_apply_credits"):
        for currency in sorted(new_currencies):
            payments.apply_credit(client, currency, actor="preview")


def _created(client: Client, before: _Before) -> list[NewInvoice]:
    """The invoices the action created (and did not void)."""
    created = (
        client.invoices.filter(pk__gt=before.last_invoice)
        .exclude(status=InvoiceStatus.VOID)
        .prefetch_related("lines")
        .order_by("pk")
    )
    return [_new_invoice(inv) for inv in created]


def _reduced(before: _Before) -> list[Reduced]:
    """The open invoices the action voided or took lines off (credited), with what was
    paid on them and went back as credit."""
    old = before.open_invoices
    return [
        Reduced(
            number=inv.number,
            currency=inv.currency,
            total_before=old[inv.pk][0],
            total_after=0 if inv.status == InvoiceStatus.VOID else inv.billed,
            voided=inv.status == InvoiceStatus.VOID,
            returned_as_credit=old[inv.pk][1] - inv.amount_paid,
        )
        for inv in Invoice.objects.filter(pk__in=old).order_by("pk")
        if inv.status == InvoiceStatus.VOID or inv.billed != old[inv.pk][0]
    ]


def _credits(client: Client, before: _Before, reduced: list[Reduced]) -> dict[str, int]:
    """New loose credit per currency: the credit transactions the action added, and what
    the reduced invoices gave back."""
    credits = dict(
        client.transactions.filter(pk__gt=before.last_transaction, kind=TransactionKind.CREDIT)
        .values("currency")
        .annotate(s=Sum("amount"))
        .values_list("currency", "s")
    )
    for r in reduced:
        if r.returned_as_credit:
            credits[r.currency] = credits.get(r.currency, 0) + r.returned_as_credit
    return credits


def _still_due(client: Client, before: _Before, service_ids: list[int]) -> list[Due]:
    """Invoices from before the action that are still open and bill one of `service_ids`
    (a line of it no credit note credits)."""
    return [
        Due(inv.number, inv.currency, inv.balance_due)
        for inv in Invoice.objects.filter(
            client=client,
            status=InvoiceStatus.OPEN,
            lines__service_id__in=service_ids,
            lines__credit_line__isnull=True,  # one same line: of theirs, not credited
        )
        .exclude(pk__gt=before.last_invoice)
        .distinct()
        .order_by("pk")
    ]
