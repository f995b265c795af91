"""The runs API: a run is queued (202) for a worker to carry out and is polled; bad runs are
refused."""

import time
from datetime import date

import pytest

from groupbill.billing.models import Invoice
from tests import book, processes


@pytest.mark.django_db(transaction=True)
def test_the_api_queues_a_run_for_a_worker_answers_202_and_is_polled(api, company, make_client):
    """The web process only queues the run; a worker (procrastinate on PostgreSQL, the
    queued-run loop on SQLite) carries it out."""
    book.build(company, make_client)
    response = api.post("/automation/runs", {"as_of": "2026-03-02", "dry_run": True})
    assert response.status_code == 202
    run_id = response.json()["id"]
    time.sleep(0.3)
    assert api.get(f"/automation/runs/{run_id}").json()["status"] == "queued"
    worker = processes.groupbill("worker", "--until-idle")
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    run = api.get(f"/automation/runs/{run_id}").json()
    assert run["status"] in ("done", "failed")
    names = [t["name"] for t in run["result"]["tasks"]]
    assert names[0] == "settle_pending" and names[-1] == "payment_notices"
    assert Invoice.objects.filter(company=company, issued_on=date(2026, 3, 2)).count() == 0
    listed = api.get("/automation/runs").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == run_id


def test_the_api_refuses_bad_runs(api, db):
    assert api.post("/automation/runs", {"as_of": "soon"}).status_code == 422
    r = api.post("/automation/runs", {"task": "everything"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "task"
    assert api.get("/automation/runs/999").status_code == 404
