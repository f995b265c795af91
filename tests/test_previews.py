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


def test_a_writer_goes_on_while_a_sixty_day_preview_runs(company, make_client):
    book.build(company, make_client)
    _, key = create_api_key("writer", actor=ACTOR)
    before = book.snapshot(company)
    last = book.START + timedelta(days=59)
    preview = processes.groupbill("simulate", "--from", str(book.START), "--to", str(last),
                                  "--json")  # fmt: skip
    try:
        with processes.served() as server:
            time.sleep(1.0)  # the preview is under way
            assert preview.poll() is None
            started = time.monotonic()
            status, created = server.api("POST", "/clients", {
                "company_id": company.pk, "first_name": "Wanda", "last_name": "Writer",
                "email": "wanda@example.com",
            }, key)  # fmt: skip
            seconds = time.monotonic() - started
            assert preview.poll() is None, "the preview ended before the write: not a test"
        out, err = preview.communicate(timeout=300)
    finally:
        if preview.poll() is None:
            processes.kill(preview)
    assert status == 201, created
    assert seconds < 1.0, f"the write waited {seconds:.2f} s"
    assert preview.returncode in (0, 1), err
    assert len([line for line in out.splitlines() if line.startswith("{")]) >= 59
    assert Client.objects.filter(contacts__first_name="Wanda").exists()
    assert book.snapshot(company) == before  # the preview wrote nothing
