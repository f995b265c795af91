"""Two `groupbill run` processes started at the same moment on PostgreSQL end in the same
state as one: no duplicate invoice, charge, suspension, note or notice, and invoice
numbers stay gap-free."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS
from groupbill.billing.models import Invoice
from tests import book

AS_OF = AsOf.parse("2026-03-02")


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _settle(company) -> None:
    """Runs at the same moment until nothing is left: a paid addon provisioned by one pass
    is invoiced by the next, whichever process got there first."""
    for _ in range(2):
        execute(AS_OF, companies=[company], tasks=TASKS)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_end_like_one(company, make_client):
    if connection.vendor != "postgresql":
        # Not a missing component: CI's PostgreSQL pass (DATABASE_URL) runs this test.
        pytest.skip("concurrent engine processes are tested on PostgreSQL (DATABASE_URL)")
    with book.rolled_back():
        book.build(company, make_client)
        _settle(company)
        one_run = book.snapshot(company)

    book.build(company, make_client)
    env = {**os.environ, "DATABASE_URL": _database_url(), "GROUPBILL_DB_CONN_MAX_AGE": "0"}
    command = [sys.executable, "-m", "groupbill.cli", "run", "--as-of", str(AS_OF), "--json"]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read().decode()) for p in processes]
    assert all(code in (0, 1) for code, _ in outcomes), outcomes
    _settle(company)
    assert book.snapshot(company) == one_run
    numbers = sorted(Invoice.objects.exclude(number=None).values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
