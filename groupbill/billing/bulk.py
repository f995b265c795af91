"""Issuing many invoices at once, set-based: the engine's renewal invoicing writes a whole
batch with a few statements instead of dozens per invoice.

A batch is issued inside the caller's transaction, which holds the clients' locks: the
invoice numbers are reserved in one update of the company's sequence (gap-free, since the
reservation rolls back with the rows), invoices and lines are inserted in bulk with their
taxes computed as `invoices.create_invoice` does, and one audit entry sums the batch up
(per-invoice entries would add nothing the invoices themselves do not say).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from groupbill import bulk_sql, clock
from groupbill.audit.actions import Subject, record, wrap
from groupbill.billing import invoices, parties, taxes
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from groupbill.billing.signals import invoice_paid, invoices_issued
from groupbill.companies.models import Company
from groupbill.errors import ValidationFailed

BATCH_SIZE = 1000


class Issued(NamedTuple):
    """What a caller learns of an invoice issued in bulk (no model instance: those cost
    more than writing the row)."""

    pk: int
    number: int
    total: int


@dataclass
class Draft:
    client_id: int
    currency: str
    lines: list[NewLine]
    issued_on: date
    due_on: date


def issue_drafts(
    company: Company,
    drafts: list[Draft],
    *,
    actor: str,
    along: Callable[[list[int]], None] | None = None,
) -> list[Issued]:
    """Issue every draft as an open invoice (paid at once when its total is 0), numbered
    in the order given. Refused as a whole (ValidationFailed) if any draft has no lines or
    a negative total: the caller then issues them one by one to find which. `along`
    writes the caller's rows that go with the invoices (given their ids) before them.

    The invoices are written last: their numbers are taken under the company's sequence
    lock, held to the commit, so every other batch of the company waits from there on;
    their lines and the caller's rows are written and checked before (but their keys to
    the invoices' reserved ids, checked at the commit)."""
    if not drafts:
        return []
    rows, built = _invoice_rows(company, drafts)
    ids = bulk_sql.reserve_ids(Invoice, len(rows))
    for values, lines, invoice_id in zip(rows, built, ids, strict=True):
        values["id"] = invoice_id
        for line in lines:
            line["invoice_id"] = invoice_id
    bulk_sql.insert_values(InvoiceLine, [line for lines in built for line in lines])
    if along is not None:
        along(ids)
    bulk_sql.check_references_now(but_to=Invoice)  # before the lock, not at the commit
    first = invoices.reserve_numbers(company.pk, len(rows))
    for offset, values in enumerate(rows):
        values["number"] = first + offset
    bulk_sql.insert_values(Invoice, rows)
    totals: dict[str, int] = defaultdict(int)
    for values in rows:
        totals[values["currency"]] += values["total"]
    last = first + len(rows) - 1
    batch = Subject("invoice", company.pk, None, f"Invoices {first} to {last}")
    record(subject=batch, actor=actor, action="invoice.issue_batch",
           new=wrap({"count": len(rows), "numbers": [first, last],
                     "totals": dict(sorted(totals.items()))}))  # fmt: skip
    invoices_issued.send(sender=Invoice, company_id=company.pk, invoice_ids=ids, created=True)
    paid = [values["id"] for values in rows if values["status"] == InvoiceStatus.PAID]
    if paid:  # a total of 0, paid at once: rare enough to read back
        for invoice in Invoice.objects.filter(pk__one_of=paid).order_by("pk"):
            invoice_paid.send(sender=Invoice, invoice=invoice)
    return [Issued(values["id"], values["number"], values["total"]) for values in rows]


def _invoice_rows(company: Company, drafts: list[Draft]) -> tuple[list[dict], list[list[dict]]]:
    """Each draft's invoice row (not numbered yet) and its lines' rows, taxes computed."""
    client_ids = {d.client_id for d in drafts}
    known = parties.read(client_ids)  # for their taxes and as buyers
    tax = taxes.Taxes.load(company, client_ids, known)
    seller, buyers = parties.seller_of(company), parties.buyers_of(client_ids, known)
    now = clock.now()
    rows, built = [], []
    same_lines = _SameLines(company.rounding_mode)
    for draft in drafts:
        decision = tax.decide(draft.client_id, draft.issued_on)
        lines = [same_lines.values(line, decision, position)
                 for position, line in enumerate(draft.lines, start=1)]  # fmt: skip
        total = sum(line["total"] for line in lines)
        if not lines or total < 0:
            raise ValidationFailed.one("lines", "an invoice needs lines and a total of at least 0")
        rows.append({
            "company_id": company.pk, "client_id": draft.client_id, "currency": draft.currency,
            "status": InvoiceStatus.PAID if total == 0 else InvoiceStatus.OPEN,
            "paid_at": now if total == 0 else None,
            "issued_on": draft.issued_on, "due_on": draft.due_on,
            "seller": seller, "buyer": buyers[draft.client_id],
            "subtotal": sum(line["amount"] for line in lines),
            "tax_total": sum(line.get("tax1_amount", 0) + line.get("tax2_amount", 0)
                             for line in lines),
            "total": total,
        })  # fmt: skip
        built.append(lines)
    return rows, built


class _SameLines:
    """A batch's lines repeat: the same plan, period and taxes for many services. Each
    line's values (taxes computed and rounded) are worked out once and copied, with its
    own service."""

    def __init__(self, mode: str):
        self.mode = mode
        self.known: dict[tuple, dict] = {}

    def values(self, line: NewLine, decision: taxes.TaxDecision, position: int) -> dict:
        # The decision by identity: `Taxes.decide` gives one object per kind of buyer.
        key = (line.description, line.unit_amount, line.quantity, line.kind, line.taxable,
               line.period_start, line.period_end, id(decision), position)  # fmt: skip
        known = self.known.get(key)
        if known is None:
            known = self.known[key] = invoices.line_values(line, decision, self.mode, position)
        values = known.copy()
        values["service_id"] = line.service_id
        return values
