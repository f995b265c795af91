"""Recurring invoices: a staff-defined invoice (lines, client, term) that is issued every
term, anchored like services. The engine issues the due periods (`issue_due`); this module
defines the templates and what one period's invoice is."""

from datetime import date
from typing import Any

from django.db import transaction

from groupbill import bounds
from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.billing import invoices
from groupbill.billing.models import Invoice, RecurringInvoice, RecurringInvoiceLine
from groupbill.catalog.models import PricingUnit
from groupbill.clients.models import Client
from groupbill.currencies import clean_currency
from groupbill.errors import Conflict, FieldError, ValidationFailed
from groupbill.periods import Term, TermUnit, date_range, period, period_start


def _unit(value: Any) -> str:
    if value not in PricingUnit.values or value == PricingUnit.ONETIME:
        raise ValueError("must be one of day, week, month, year")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 36:
        raise ValueError("must be a whole number from 1 to 36")
    return value


def _start(value: Any) -> date:
    parsed = v.optional_date(value)
    if parsed is None:
        raise ValueError("is required")
    earliest, latest = bounds.date_window()
    if not earliest <= parsed <= latest:
        raise ValueError(f"must be within {bounds.DATE_WINDOW_YEARS} years of today")
    return parsed


CLEANERS = {
    "currency": clean_currency,
    "unit": _unit,
    "count": _count,
    "start_on": _start,
    "notes": lambda x: v.text(x, max_length=2000),
}


def create_recurring(
    client: Client, data: dict[str, Any], lines: list[dict[str, Any]], *, actor: str
) -> RecurringInvoice:
    """A template whose first period starts on `start_on`."""
    data = {"currency": client.default_currency, "count": 1, **data}
    cleaned, errors = v.collect(data, CLEANERS)
    errors += [FieldError(f, "is required") for f in ("unit", "start_on") if f not in data]
    try:
        new_lines = invoices.clean_lines(lines)
    except ValidationFailed as exc:
        errors += exc.errors
        new_lines = []
    if not lines:
        errors.append(FieldError("lines", "a recurring invoice needs at least one line"))
    v.raise_if(errors)
    start = cleaned.pop("start_on")
    with transaction.atomic():
        template = RecurringInvoice.objects.create(
            client=client, anchor_date=start, renew_date=start, next_period=0, **cleaned
        )
        RecurringInvoiceLine.objects.bulk_create(
            RecurringInvoiceLine(recurring=template, description=ln.description,
                                 quantity=ln.quantity, unit_amount=ln.unit_amount,
                                 taxable=ln.taxable, position=i)
            for i, ln in enumerate(new_lines)
        )  # fmt: skip
        record(subject=template, actor=actor, action="recurring.create",
               new=wrap({"unit": template.unit, "count": template.count}))  # fmt: skip
    return template


def deactivate(template: RecurringInvoice, *, actor: str) -> RecurringInvoice:
    if not template.active:
        raise Conflict("This recurring invoice is already stopped.")
    template.active = False
    template.save(update_fields=["active"])
    record(subject=template, actor=actor, action="recurring.stop")
    return template


def term_of(template: RecurringInvoice) -> Term:
    return Term(TermUnit(template.unit), template.count)


def issue_period(template: RecurringInvoice, n: int, *, today: date, actor: str) -> Invoice:
    """Issue period n's invoice (dated today, due on the period's start) and advance the
    template to the next period. The caller guarantees n is the template's next period."""
    if n != template.next_period:
        raise Conflict(f"Period {n} is not the next period ({template.next_period}).")
    start, end = period(template.anchor_date, term_of(template), n)
    dates = date_range(start, end, template.client.language)
    lines = [
        invoices.NewLine(f"{ln.description} ({dates})", ln.unit_amount, ln.quantity,
                         taxable=ln.taxable, period_start=start, period_end=end)
        for ln in template.lines.all()
    ]  # fmt: skip
    with transaction.atomic():
        invoice = invoices.create_invoice(
            template.client, lines, actor=actor, currency=template.currency, notes=template.notes
        )
        invoice.recurring = template
        invoice.recurring_period = n  # unique per template: a period is invoiced once
        invoice.save(update_fields=["recurring", "recurring_period"])
        # Due on the period's start, as renewals are: a caught-up period is due already.
        invoices.issue_invoice(invoice, issued_on=today, due_on=start, actor=actor)
        template.next_period = n + 1
        template.renew_date = period_start(template.anchor_date, term_of(template), n + 1)
        template.save(update_fields=["next_period", "renew_date"])
    return invoice
