"""A long preview never stops the book from being written: on SQLite it runs against a
snapshot in a process of its own (the live database's write lock stays free), on
PostgreSQL in a transaction that is rolled back, which other writers do not wait on."""

import time
from datetime import timedelta

import pytest

from groupbill.api.actions import create_api_key
from groupbill.clients.models import Client
from tests import book, processes
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db(transaction=True)


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_writer_goes_on_while_a_sixty_day_preview_runs(company, make_client):
    """The writes touch what the preview changes too: a client of the book gets an invoice
    issued (the company's next number) and paid."""
    book.build(company, make_client)
    booked = Client.objects.filter(company=company).order_by("pk").first()
    _, key = create_api_key("writer", actor=ACTOR)
    before = book.snapshot(company)
    last = book.START + timedelta(days=59)
    # One client per batch: the book is small, and a batch is what a writer may wait for.
    preview = processes.groupbill("simulate", "--from", str(book.START), "--to", str(last),
                                  "--json", GROUPBILL_PREVIEW_BATCH_CLIENTS="1")  # fmt: skip
    waits = {}
    try:
        with processes.served() as server:
            time.sleep(3.0)  # the preview is under way, some days into its invoices
            assert preview.poll() is None
            (status, created), waits["new client"] = _timed(lambda: server.api("POST", "/clients", {
                "company_id": company.pk, "first_name": "Wanda", "last_name": "Writer",
                "email": "wanda@example.com",
            }, key))  # fmt: skip
            assert status == 201, created
            line = {"description": "Extra work", "unit_amount": 5000}
            (status, draft), waits["draft"] = _timed(
                lambda: server.api(
                    "POST", "/invoices", {"client_id": booked.pk, "lines": [line]}, key
                )
            )
            assert status == 201, draft
            (status, issued), waits["issue"] = _timed(
                lambda: server.api("POST", f"/invoices/{draft['id']}/issue", {}, key)
            )
            assert status == 200, issued
            payment = {"client_id": booked.pk, "kind": "payment", "amount": 100,
                       "currency": issued["currency"]}  # fmt: skip
            (status, paid), waits["payment"] = _timed(
                lambda: server.api("POST", "/transactions", payment, key)
            )
            assert status == 201, paid
            assert preview.poll() is None, "the preview ended before the writes: not a test"
        out, err = preview.communicate(timeout=600)
    finally:
        if preview.poll() is None:
            processes.kill(preview)
    assert max(waits.values()) < 1.0, f"writes waited: {waits}"
    assert preview.returncode in (0, 1), err
    assert len([line for line in out.splitlines() if line.startswith("{")]) >= 59
    assert Client.objects.filter(contacts__first_name="Wanda").exists()
    after = book.snapshot(company)
    assert after != before  # our writes
