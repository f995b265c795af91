"""Runs as of earlier days, after later ones (a late cron, a mistaken --as-of), change
nothing and send nothing: every decision the engine made as of a later moment stands."""

from datetime import timedelta

from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS
from tests import book


def _days(first, last):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_rerunning_earlier_days_after_later_ones_changes_and_sends_nothing(company, make_client):
    """Seventy days of the book (renewals, charges and declines, notices, suspensions,
    the recurring invoice), then every one of those days again: the invoices, lines,
    transactions, messages, services and periods are as they were."""
    book.build(company, make_client)
    last = book.START + timedelta(days=70)
    for day in _days(book.START, last):
        execute(AsOf(day=day), companies=[company], tasks=TASKS)
    after_the_last_day = book.snapshot(company)
    assert len(after_the_last_day["messages"]) > 10  # a book that did things: a real test

    for day in _days(book.START, last):
        execute(AsOf(day=day), companies=[company], tasks=TASKS)
    assert book.snapshot(company) == after_the_last_day
