"""Which services are past due (services.past_due), and since when: one query per
company."""

from datetime import date

from groupbill.automation.view import CompanyView
from groupbill.services.past_due import past_due_lines


def oldest_past_due(view: CompanyView) -> dict[int, tuple[date, int, int]]:
    """service id -> (due date, invoice number, invoice id) of its oldest past-due open
    invoice, for the view's clients."""
    lines = past_due_lines(view.today).filter(invoice__company=view.company)
    rows = view.scoped(lines, "invoice__client_id").values_list(
        "service_id", "invoice__due_on", "invoice__number", "invoice_id"
    )
    out: dict[int, tuple[date, int, int]] = {}
    for service_id, due_on, number, invoice_id in rows:
        if service_id not in out or due_on < out[service_id][0]:
            out[service_id] = (due_on, number, invoice_id)
    return out
