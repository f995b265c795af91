"""Workers on PostgreSQL (`groupbill worker`, procrastinate) share a run's shards. One is
killed with SIGKILL inside a shard, while the gateway answers a charge slowly; its shard
is run again, and the book ends exactly as one process alone would leave it: the same
invoices, lines, charges and notices, invoice numbers without gaps, nothing twice."""

from datetime import date

import pytest
from django.db import connection

from groupbill.automation import engine, shards
from groupbill.automation.engine import AsOf, execute
from groupbill.automation.models import EngineShard
from groupbill.automation.tasks import TASKS
from groupbill.billing import accounts, invoices
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Invoice, SandboxCharge
from groupbill.clients.actions import create_group
from groupbill.settings_catalog.actions import set_group_settings
from tests import book, processes
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = AsOf.parse("2026-03-02")


def _slowly_charged_client(company, make_client):
    """A client whose auto debit is due that day, on a card the gateway answers slowly."""
    group = create_group(company, {"name": "Slow cards"}, actor=ACTOR)
    set_group_settings(group, {"autodebit_days_before_due": 0}, actor=ACTOR)
    client = make_client(group=group, email="slow@example.com")
    invoice = invoices.create_invoice(client, [NewLine("Consulting", 4500)], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=date(2026, 2, 20), due_on=date(2026, 3, 2),
                           actor=ACTOR)  # fmt: skip
    accounts.add_payment_account(client, {
        "kind": "card", "gateway": "test", "reference": "tok_slow_0505", "last4": "0505",
        "is_autodebit": True,
    }, actor=ACTOR)  # fmt: skip
    return client


def _state(company) -> dict:
    return book.snapshot(company) | {"gateway_charges": SandboxCharge.objects.count()}


def test_a_worker_killed_inside_a_shard_leaves_the_book_as_one_process_would(
    company, make_client, monkeypatch, settings
):
    if connection.vendor != "postgresql":
        # Not a missing component: CI's PostgreSQL pass (DATABASE_URL) runs this test.
        pytest.skip("procrastinate workers run on PostgreSQL (DATABASE_URL)")
    monkeypatch.setattr(shards, "SHARD_SIZE", 2)
    monkeypatch.setenv("GROUPBILL_SANDBOX_SLOW_SECONDS", "0")
    with book.rolled_back():
        book.build(company, make_client)
        _slowly_charged_client(company, make_client)
        execute(AS_OF, companies=[company], tasks=TASKS)
        alone = _state(company)

    book.build(company, make_client)
    slow = _slowly_charged_client(company, make_client)
    record = engine.start(as_of=AS_OF, actor="test")
    planned = engine.plan_shards(record)  # a job per shard, for any worker
    assert len(planned) >= 3
    workers = [
        processes.groupbill("worker", "--no-schedule", GROUPBILL_SANDBOX_SLOW_SECONDS="60")
        for _ in range(2)
    ]
    try:
        slow_charge = SandboxCharge.objects.filter(account_reference="tok_slow_0505")
        processes.wait_until(slow_charge.exists, 90, "the slow card to be charged")
        shard = EngineShard.objects.get(
            run=record, status="running", first_client__lte=slow.pk, last_client__gte=slow.pk
        )
        [victim] = [w for w in workers if shard.worker.endswith(f":{w.pid}")]
        processes.kill(victim)
        # This process joins the run, as `groupbill run` does: it claims the dead worker's
        # shard at once and books the charge the gateway made (no second charge).
        settings.EFFECT_GRACE_SECONDS = 0
        engine.run(record)
    finally:
        for worker in workers:
            if worker.poll() is None:
                processes.kill(worker)
            worker.stdout.close()
            worker.stderr.close()

    assert _state(company) == alone
    numbers = sorted(Invoice.objects.exclude(number=None).values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    shard.refresh_from_db()
    assert (shard.status, shard.attempts) == ("done", 2)
    workers_seen = set(EngineShard.objects.filter(run=record).values_list("worker", flat=True))
    assert len(workers_seen) >= 2  # the run was shared


def test_a_shard_is_claimed_while_another_session_holds_its_run(company, make_client, monkeypatch):
    """A worker claims its shard while another session holds the run's row (a worker
    summing the run up after its own shard, as `finish` does): before, SKIP LOCKED skipped
    the shard with the run, its job ended, and the shard stayed queued for good (2 of 333
    shards of a 1M-service run with two workers)."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims run on PostgreSQL (DATABASE_URL)")
    import psycopg

    monkeypatch.setattr(shards, "SHARD_SIZE", 2)
    book.build(company, make_client)
    record = engine.start(as_of=AS_OF, actor="test")
    first, *_ = engine.plan_shards(record)
    settings = connection.settings_dict
    other = psycopg.connect(host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
                            dbname=settings["NAME"], autocommit=False)  # fmt: skip
    try:
        other.execute("SELECT 1 FROM automation_enginerun WHERE id = %s FOR UPDATE", [record.pk])
        claimed = engine.claim(shard_id=first.pk)
    finally:
        other.rollback()
        other.close()
    assert claimed is not None and claimed.pk == first.pk
    assert EngineShard.objects.get(pk=first.pk).status == "running"
