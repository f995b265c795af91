"""Two `groupbill run` processes started at the same moment end in the same state as one
(on SQLite and PostgreSQL): no duplicate invoice, charge, suspension, note or notice, and
invoice numbers stay gap-free."""

import pytest

from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS
from groupbill.billing.models import Invoice
from tests import book, processes

AS_OF = AsOf.parse("2026-03-02")


def _settle(company) -> None:
    """Runs at the same moment until nothing is left: a paid addon provisioned by one pass
    is invoiced by the next, whichever process got there first."""
    for _ in range(2):
        execute(AS_OF, companies=[company], tasks=TASKS)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_end_like_one(company, make_client):
    with book.rolled_back():
        book.build(company, make_client)
        _settle(company)
        one_run = book.snapshot(company)

    book.build(company, make_client)
    runs = [processes.groupbill("run", "--as-of", str(AS_OF), "--json") for _ in range(2)]
    outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in runs]
    assert all(code in (0, 1) for _, code in outcomes), outcomes
    _settle(company)
    assert book.snapshot(company) == one_run
    numbers = sorted(Invoice.objects.exclude(number=None).values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
