"""The engine as a whole: the same result however often it runs, after a crash at any
point, and never anything durable from a dry run; its command-line contract and its lock."""

import io
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from groupbill.automation import engine
from groupbill.automation.engine import AsOf, execute
from groupbill.automation.models import EngineRun
from groupbill.automation.tasks import TASK_NAMES, TASKS
from groupbill.billing.models import Invoice
from groupbill.catalog.models import Package
from tests import book

DAYS = 60
BERLIN = ZoneInfo("Europe/Berlin")


def simulate(company, runs_per_day: int, days: int = DAYS, start: date = book.START) -> None:
    hours = {1: [12], 2: [9, 17], 5: [7, 10, 12, 15, 20]}[runs_per_day]
    for offset in range(days):
        day = start + timedelta(days=offset)
        for hour in hours:
            moment = datetime.combine(day, time(hour), BERLIN)
            execute(AsOf(moment=moment), companies=[company], tasks=TASKS)


def final_state(company, make_client, runs_per_day: int) -> dict:
    with book.rolled_back():
        book.build(company, make_client)
        simulate(company, runs_per_day)
        state = book.snapshot(company)
    return state


def test_running_once_twice_or_five_times_a_day_ends_the_same(company, make_client):
    once = final_state(company, make_client, 1)
    assert once["invoices"] and once["messages"] and once["transactions"]
    # The book did things worth comparing: renewals, a suspension, a disabled card...
    assert any(s[2] == "suspended" for s in once["services"])
    assert any("disabled for auto debit" in n for n in once["notes"])
    assert final_state(company, make_client, 2) == once
    assert final_state(company, make_client, 5) == once


class Crash(BaseException):
    """A kill: not an Exception, so nothing on the way catches it."""


def test_a_run_killed_at_any_action_boundary_resumes_without_duplicates(
    company, make_client, monkeypatch
):
    reference = final_state(company, make_client, 1)
    # The boundaries: each action applied alone, and each batch a task applies set-based.
    real = {"_apply": engine._apply, "_apply_batch": engine._apply_batch}

    def counting(seen, crash_at=None):
        for name, function in real.items():

            def wrapper(*args, function=function):
                if seen["n"] == crash_at:
                    raise Crash()
                seen["n"] += 1
                function(*args)

            monkeypatch.setattr(engine, name, wrapper)

    # Find the busiest day of the simulation: that run is killed at each of its boundaries.
    per_day: dict[date, int] = {}
    with book.rolled_back():
        book.build(company, make_client)
        for offset in range(DAYS):
            day = book.START + timedelta(days=offset)
            seen = {"n": 0}
            counting(seen)
            execute(AsOf(day=day), companies=[company], tasks=TASKS)
            per_day[day] = seen["n"]
    monkeypatch.undo()
    crash_day = max(per_day, key=per_day.get)
    busy = per_day[crash_day]
    assert busy >= 6  # boundaries: single actions, and batches applied set-based
    before = (crash_day - book.START).days

    for crash_after in range(busy):
        with book.rolled_back():
            book.build(company, make_client)
            simulate(company, 1, days=before)
            counting({"n": 0}, crash_at=crash_after)
            with pytest.raises(Crash):
                execute(AsOf(day=crash_day), companies=[company], tasks=TASKS)
            monkeypatch.undo()
            # Started again: the same day, then the rest of the simulation.
            simulate(company, 1, days=DAYS - before, start=crash_day)
            assert book.snapshot(company) == reference, f"crash after {crash_after} actions"


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_previews_everything_and_writes_nothing(company, make_client):
    book.build(company, make_client)
    before = book.snapshot(company)
    out = io.StringIO()
    with pytest.raises(SystemExit) as done:
        call_command("run", "--as-of", "2026-03-02", "--dry-run", "--json", stdout=out)
    assert done.value.code == 0
    doc = json.loads(out.getvalue())
    assert doc["as_of"] == "2026-03-02" and doc["dry_run"] is True
    assert [t["name"] for t in doc["tasks"]] == list(TASK_NAMES)
    renewals = next(t for t in doc["tasks"] if t["name"] == "renewal_invoices")
    assert renewals["applied"] >= 5
    assert all({"key", "summary", "outcome"} <= set(a) for a in renewals["actions"])
    assert any(a.get("amount") for a in renewals["actions"])
    assert book.snapshot(company) == before
    run = EngineRun.objects.get()
    assert (run.dry_run, run.status) == (True, "done")


@pytest.mark.django_db(transaction=True)
def test_run_json_contract_and_exit_codes(company, make_client):
    book.build(company, make_client)
    out = io.StringIO()
    with pytest.raises(SystemExit) as done:
        call_command("run", "--as-of", "2026-03-02T12:00:00+01:00", "--json", stdout=out)
    doc = json.loads(out.getvalue())
    assert set(doc) == {"as_of", "dry_run", "tasks"}
    for task in doc["tasks"]:
        assert set(task) >= {
            "name",
            "planned",
            "applied",
            "skipped",
            "failed",
            "seconds",
            "actions",
        }
    # Client 3's card is declined: some action failed -> exit 1... or 0 when all went well.
    failed = sum(t["failed"] for t in doc["tasks"])
    assert done.value.code == (1 if failed else 0)
    # The same moment again: only what the first run's later tasks made due (a paid addon
    # provisioned after renewal invoicing ran); a third run has nothing left to do.
    applied = []
    for _ in range(2):
        out = io.StringIO()
        with pytest.raises(SystemExit):
            call_command("run", "--as-of", "2026-03-02T12:00:00+01:00", "--json", stdout=out)
        applied.append(sum(t["applied"] for t in json.loads(out.getvalue())["tasks"]))
    assert applied[0] <= 2 and applied[1] == 0
    invoices = Invoice.objects.filter(company=company).exclude(number=None)
    numbers = sorted(invoices.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))  # gap-free


@pytest.mark.parametrize("as_of", ["yesterday", "2026-13-01", "2026-03-02T12:00:00"])
def test_bad_arguments_exit_2(db, as_of, capsys):
    with pytest.raises(SystemExit) as done:
        call_command("run", "--as-of", as_of)
    assert done.value.code == 2
    assert "--as-of" in capsys.readouterr().err


def test_time_travel_is_refused_with_live_modules_unless_dry_run(company, capsys):
    Package.objects.create(
        company=company,
        name="Panel",
        module="webhook",
        webhook_url="https://example.invalid/hook",
        webhook_secret="x" * 20,
    )
    far = (date.today() + timedelta(days=30)).isoformat()
    with pytest.raises(SystemExit) as done:
        call_command("run", "--as-of", far)
    assert done.value.code == 2
    assert "more than a day ahead" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        call_command("run", "--as-of", far, "--dry-run")
    assert done.value.code == 0


def test_a_run_is_split_into_shards_of_the_clients_with_something_due(
    company, make_client, monkeypatch
):
    """Shards cover only clients with something due, in ranges of SHARD_SIZE; a shard
    whose worker died (its heartbeat stale) is claimed again and the run ends as one
    would have."""
    from groupbill.automation import shards
    from groupbill.automation.models import EngineShard

    book.build(company, make_client)
    quiet = make_client(email="quiet@example.com")  # no service, nothing due: no shard
    monkeypatch.setattr(shards, "SHARD_SIZE", 2)
    record = engine.start(as_of=AsOf(day=date(2026, 3, 2)), actor="cli")
    planned = engine.plan_shards(record)
    due = sorted({c.pk for c in company.clients.all()} - {quiet.pk})
    pairs = [due[i : i + 2] for i in range(0, len(due), 2)]
    assert [(s.first_client, s.last_client, s.clients) for s in planned] == [
        (p[0], p[-1], len(p)) for p in pairs
    ]
    first = engine.claim(record.pk)
    # Its worker dies: the shard stays "running" until its heartbeat is stale.
    EngineShard.objects.filter(pk=first.pk).update(worker="elsewhere:1")
    assert engine.claim(shard_id=first.pk) is None
    EngineShard.objects.filter(pk=first.pk).update(
        heartbeat_at=first.heartbeat_at - engine.STALE_AFTER * 2
    )
    doc = engine.run(record)
    record.refresh_from_db()
    renewals = next(t for t in doc["tasks"] if t["name"] == "renewal_invoices")
    assert record.status in ("done", "failed") and renewals["applied"] >= 5
    assert EngineShard.objects.get(pk=first.pk).attempts == 2
    assert engine.progress(record) == (len(planned), len(planned))


def test_a_quiet_day_has_no_shard(company, make_client):
    make_client()
    record = engine.start(as_of=AsOf(day=date(2026, 3, 2)), actor="cli")
    assert engine.plan_shards(record) == []
    assert engine.finish(record.pk).status == "done"


def test_simulate_prints_a_line_per_day(company, capsys):
    with pytest.raises(SystemExit) as done:
        call_command("simulate", "--from", "2026-03-01", "--to", "2026-03-03")
    assert done.value.code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == ["2026-03-01", "2026-03-02", "2026-03-03"]


def test_simulate_writes_nothing_unless_committed(company, make_client, capsys):
    """A simulation is a preview: the book is as it was. With --commit it is written, and
    the messages it queues for future days wait for their day."""
    from groupbill.notices.models import OutboxMessage

    book.build(company, make_client)
    before = book.snapshot(company)
    with pytest.raises(SystemExit):
        call_command("simulate", "--from", "2026-03-01", "--to", "2026-03-10")
    assert book.snapshot(company) == before
    assert "2026-03-10" in capsys.readouterr().out
    future = date.today() + timedelta(days=3)
    earlier = list(OutboxMessage.objects.values_list("pk", flat=True))
    with pytest.raises(SystemExit):
        call_command("simulate", "--from", str(future), "--to", str(future), "--commit")
    assert "Writing 1 days of runs to the book" in capsys.readouterr().err
    queued = OutboxMessage.objects.filter(status="pending").exclude(pk__in=earlier)
    assert queued.exists()
    assert all(m.next_attempt_at and m.next_attempt_at.date() >= future for m in queued)
