"""Money on the Automation run page and in the audit log is shown in its currency
(€25.50), never as minor units ({"total": 2550}); the audit log fits the screen."""

import html
import re
from datetime import date

from groupbill.automation import engine
from groupbill.billing import invoices
from groupbill.billing.invoices import NewLine
from tests import book
from tests.conftest import ACTOR


def test_the_audit_log_shows_an_invoice_total_in_its_currency(staff, ada):
    invoice = invoices.create_invoice(ada, [NewLine("Consulting", 2550)], actor=ACTOR)
    invoices.issue_invoice(invoice, actor=ACTOR, issued_on=date(2026, 3, 2))
    page = html.unescape(staff.get("/audit/").content.decode())
    assert '{"total": "€25.50"}' in page  # created
    assert '{"due_on": "2026-03-02", "number": 1, "total": "€25.50"}' in page  # issued
    assert "2550" not in page
    assert 'id="audit" style="table-layout:fixed; width:100%"' in page


def test_a_runs_actions_show_their_amounts_in_the_currency(staff, company, make_client):
    book.build(company, make_client)
    record = engine.start(as_of=engine.AsOf(day=date(2026, 3, 2)), actor="test")
    engine.run(record)
    page = staff.get(f"/automation/runs/{record.pk}/").content.decode()
    cells = re.findall(r'<td class="money">([^<]*)</td>', page)
    amounts = [c for c in cells if c]
    assert amounts, "the run has actions with amounts"
    assert all(re.fullmatch(r"[€$£][\d,]+\.\d\d|[A-Z]{3}[\d,.]+", a) for a in amounts), amounts
    charges = re.findall(r"Charge [^<]*? ([\d.]+) ([A-Z]{3}) for \d+ invoice", page)
    assert charges, "the run charges the book's cards"
    assert all(re.fullmatch(r"\d+\.\d\d", amount) for amount, _ in charges), charges
