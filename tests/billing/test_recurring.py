from datetime import date

import pytest

from groupbill.billing import recurring
from groupbill.clients.notes import add_note
from groupbill.errors import Conflict, ValidationFailed
from tests.conftest import ACTOR

LINES = [{"description": "Support retainer", "unit_amount": 5000},
         {"description": "Monitoring", "unit_amount": 1000, "quantity": 3}]  # fmt: skip


def test_a_recurring_invoice_is_issued_period_by_period_anchored(make_client):
    client = make_client()
    template = recurring.create_recurring(
        client, {"unit": "month", "start_on": "2028-01-31"}, LINES, actor=ACTOR
    )
    first = recurring.issue_period(template, 0, today=date(2028, 1, 26), actor=ACTOR)
    second = recurring.issue_period(template, 1, today=date(2028, 2, 24), actor=ACTOR)
    assert (first.number, first.total, first.due_on) == (1, 8000, date(2028, 1, 31))
    assert second.due_on == date(2028, 2, 29)  # month end, leap year
    assert [ln.period_end for ln in second.lines.all()] == [date(2028, 3, 31)] * 2
    assert template.renew_date == date(2028, 3, 31) and template.next_period == 2
    with pytest.raises(Conflict):  # a period is issued once
        recurring.issue_period(template, 1, today=date(2028, 2, 25), actor=ACTOR)


def test_a_caught_up_period_is_due_on_its_start(make_client):
    template = recurring.create_recurring(
        make_client(), {"unit": "week", "count": 2, "start_on": "2026-01-05"}, LINES, actor=ACTOR
    )
    late = recurring.issue_period(template, 0, today=date(2026, 1, 20), actor=ACTOR)
    assert (late.issued_on, late.due_on) == (date(2026, 1, 20), date(2026, 1, 5))


def test_recurring_templates_are_validated(make_client):
    with pytest.raises(ValidationFailed) as refused:
        recurring.create_recurring(
            make_client(), {"unit": "onetime", "count": 0}, [{"unit_amount": "5"}], actor=ACTOR
        )
    fields = {e.field for e in refused.value.errors}
    assert {"unit", "count", "start_on", "lines.0.description", "lines.0.unit_amount"} <= fields


def test_keyed_notes_are_written_once(make_client):
    client = make_client()
    first = add_note(client, "Card 0002 disabled for auto debit", actor="engine", key="k1")
    again = add_note(client, "Card 0002 disabled for auto debit", actor="engine", key="k1")
    assert first.pk == again.pk and client.notes.count() == 1
    with pytest.raises(ValidationFailed):
        add_note(client, "   ", actor=ACTOR)
