"""The automation engine. A run works at one moment (`as_of`) and reads no other clock.
It is split into shards (a company x a range of the clients that have something due,
`shards`); a shard runs every task in order for its clients: each task plans (set-based,
for the shard's clients) and applies its actions, each guarded by its idempotency key
(or a batch of them, for tasks that apply set-based), so a second run, a resumed run or
two at once never do anything twice. There is no global lock: shards are claimed one by
one, by the process that started the run and by any worker (`groupbill worker`), and a
shard whose worker died is claimed again once its heartbeat goes stale.

`execute` runs everything due in this process without recording shards (tests, the
preview and dry runs); `start` + `run` record a run and its shards."""

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from groupbill import bounds, bulk_sql, clock
from groupbill.automation import collector, queue, shards, snapshot, statistics
from groupbill.automation.effects import recorded
from groupbill.automation.models import EngineRun, EngineShard, RunStatus, ShardStatus
from groupbill.automation.plan import Action, Failed
from groupbill.automation.reports import MAX_ACTIONS_KEPT, TaskReport
from groupbill.automation.tasks import TASK_NAMES, TASKS
from groupbill.automation.view import CompanyView
from groupbill.billing import lock_objects
from groupbill.clients.models import Client
from groupbill.companies.models import Company
from groupbill.errors import FieldError, ValidationFailed
from groupbill.notices import webhooks

log = logging.getLogger("groupbill.engine")
STALE_AFTER = timedelta(minutes=2)  # a shard this long without a heartbeat is claimed again
BEAT_EVERY = 30  # seconds between heartbeats while a shard works through its actions
ABANDON_AFTER = timedelta(minutes=10)  # a run this long without a heartbeat is abandoned
# Actions applied together by a task that applies set-based: a shard's renewal day in
# one or two batches. A batch pays ~10 ms of its own (building its ~25 statements), which
# batches of 500 paid three times per shard.
BATCH = 2000
FINAL = (RunStatus.DONE, RunStatus.FAILED, RunStatus.ERROR, RunStatus.ABANDONED)

__all__ = ["MAX_ACTIONS_KEPT", "AsOf", "TaskReport", "execute", "preview", "run", "start"]


@dataclass(frozen=True)
class AsOf:
    """A moment (RFC 3339 with an offset), or a day: 12:00 in each company's time zone."""

    moment: datetime | None = None
    day: date | None = None

    @classmethod
    def parse(cls, text: str) -> "AsOf":
        text = text.strip()
        try:
            if len(text) == 10:
                return cls(day=bounds.check_date(date.fromisoformat(text), "as_of"))
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed.one(
                "as_of", "must be a date (YYYY-MM-DD) or RFC 3339 time with an offset"
            ) from None
        if moment.tzinfo is None:
            raise ValidationFailed.one("as_of", "a time needs an offset, e.g. +01:00 or Z")
        bounds.check_date(moment.date(), "as_of")
        return cls(moment=moment)

    def for_company(self, company: Company) -> datetime:
        if self.day is not None:
            return datetime.combine(self.day, clock_time(12), ZoneInfo(company.timezone))
        return self.moment

    def latest(self) -> datetime:
        if self.day is not None:  # 12:00 at UTC-12 is the latest any company gets
            return datetime.combine(self.day, clock_time(12), ZoneInfo("Etc/GMT+12"))
        return self.moment

    def __str__(self) -> str:
        return self.day.isoformat() if self.day is not None else self.moment.isoformat()


def _apply(action: Action, report: TaskReport) -> None:
    try:
        if action.atomic:
            with transaction.atomic():
                result = action.apply()
        else:
            result = action.apply()
    except Exception as exc:  # one action's failure must not stop the others
        report.record(action, "failed", error=getattr(exc, "message", None) or repr(exc))
        return
    if isinstance(result, Failed):
        report.record(action, "failed", error=result.message)
    elif result:
        report.record(action, "applied", result)
    else:
        report.record(action, "skipped")


def _apply_batch(task, view: CompanyView, actions: list[Action], report: TaskReport) -> None:
    """A task that applies set-based does a whole batch in one transaction; if the batch
    fails, its actions are applied one by one, so one bad action fails alone. Its actions
    without a payload (a recurring invoice among renewals) are applied alone, after: in
    the batch's transaction they would lock their client after the batch's services."""
    alone = [a for a in actions if a.payload is None]
    actions = [a for a in actions if a.payload is not None]
    if actions:
        _apply_together(task, view, actions, report)
    for action in alone:
        _apply(action, report)


def _apply_together(task, view: CompanyView, actions: list[Action], report: TaskReport):
    try:
        with transaction.atomic():
            bulk_sql.commit_without_waiting()
            results = task.apply_batch(view, actions)
    except Exception:
        log.warning("%s: a batch of %d failed; applying them one by one", task.NAME,
                    len(actions), exc_info=True)  # fmt: skip
        report.batches_one_by_one += 1
        for action in actions:
            _apply(action, report)
        return
    for action, result in zip(actions, results, strict=True):
        report.record(action, "applied" if result else "skipped", result)


def _apply_all(
    task, view: CompanyView, actions: list[Action], report: TaskReport, beat=None
) -> None:
    if getattr(task, "apply_batch", None) is None:
        for action in actions:
            _apply(action, report)
            if beat is not None:
                beat()  # actions that wait on gateways or webhooks may take a while
        return
    for i in range(0, len(actions), BATCH):
        _apply_batch(task, view, actions[i : i + BATCH], report)
        if beat is not None:
            beat()


def now_and_then(beat: Callable[[], None], every: float = BEAT_EVERY) -> Callable[[], None]:
    """`beat`, done at most once every `every` seconds however often it is called: a
    heartbeat is two writes, and a shard has thousands of moments to give one."""
    last = time.monotonic()

    def maybe() -> None:
        nonlocal last
        if time.monotonic() - last > every:
            beat()
            last = time.monotonic()

    return maybe


def run_tasks(
    company: Company,
    moment: datetime,
    clients: tuple[int, int] | None,
    tasks,
    reports: list[TaskReport],
    beat: Callable[[], None] | None = None,
) -> None:
    """Every task in order for the clients in the range (all the company's for None)."""
    run_view_tasks(CompanyView.load(company, moment, clients), tasks, reports, beat)


def run_view_tasks(
    view: CompanyView, tasks, reports: list[TaskReport], beat: Callable[[], None] | None = None
) -> None:
    with collector.paused():
        for task, report in zip(tasks, reports, strict=True):
            with report.timed():
                actions = task.plan(view)
                report.planned += len(actions)
                _apply_all(task, view, actions, report, beat)
            if beat is not None:
                beat()


def execute(as_of: AsOf, *, companies, tasks, shard_size: int | None = None):
    """Everything due, in this process, shard after shard; returns a report per task."""
    statistics.for_planning()
    reports = [TaskReport(t.NAME) for t in tasks]
    for company in companies:
        moment = as_of.for_company(company)
        with clock.frozen_at(moment):
            view = CompanyView.load(company, moment)
            for first, last, _ in shards.ranges(view, tasks, shard_size):
                run_view_tasks(view.narrowed((first, last)), tasks, reports)
    return reports


def previewed(days: list[AsOf], *, companies, tasks) -> list[list[TaskReport]]:
    """A dry run of consecutive days (later days see what earlier ones did); each day's
    reports. Clients are independent, so a batch of them is previewed over all the days
    at once, in a transaction rolled back at its end. It takes no explicit locks and
    leaves the invoice numbers untaken; the rows it changes (a batch's invoices and
    services) stay locked for one batch, so a writer waits a moment at most."""
    statistics.for_planning()
    reports = [[TaskReport(t.NAME) for t in tasks] for _ in days]
    with lock_objects.none_taken():
        _preview_batches(days, companies, tasks, reports)
    return reports


def _preview_batches(days, companies, tasks, reports) -> None:
    for company in companies:
        ids = list(
            Client.objects.filter(company=company).order_by("pk").values_list("pk", flat=True)
        )
        size = settings.PREVIEW_BATCH_CLIENTS
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            with recorded(), transaction.atomic():
                for as_of, day_reports in zip(days, reports, strict=True):
                    moment = as_of.for_company(company)
                    with clock.frozen_at(moment):
                        clients = (batch[0], batch[-1])
                        view = CompanyView.load(company, moment, clients)
                        # As in a run: a client with nothing due gets nothing that day.
                        if shards.anything_due(view, tasks, *clients):
                            run_view_tasks(view, tasks, day_reports)
                transaction.set_rollback(True)


class TimeTravelRefused(ValidationFailed):
    """A run far ahead of today where live gateways or modules would act on it."""

    def __init__(self, message: str):
        super().__init__([FieldError("as_of", message)], message)


def _live_companies(companies) -> list[str]:
    from groupbill.billing.gateways import get_gateway
    from groupbill.billing.models import PaymentAccount
    from groupbill.catalog.models import Package
    from groupbill.provisioning import get_module

    names = []
    for company in companies:
        modules = Package.objects.filter(company=company).values_list("module", flat=True)
        gateways = PaymentAccount.objects.filter(client__company=company).values_list(
            "gateway", flat=True
        )
        if any(get_module(m).live for m in set(modules)) or any(
            get_gateway(g).live for g in set(gateways)
        ):
            names.append(company.name)
    return names


def select(company_id: int | None, task: str | None):
    if task is not None and task not in TASK_NAMES:
        raise ValidationFailed.one("task", f"unknown task; one of: {', '.join(TASK_NAMES)}")
    companies = Company.objects.order_by("pk")
    if company_id is not None:
        companies = companies.filter(pk=company_id)
        if not companies.exists():
            raise ValidationFailed.one("company", f"no company {company_id}")
    return list(companies), _tasks(task)


def _tasks(task: str | None) -> list:
    """The tasks of a run (every one, or the one named), in order."""
    return [t for t in TASKS if task in (None, t.NAME)]


def start(
    *, as_of: AsOf, actor: str, company_id=None, task=None, dry_run=False, days: int = 1
) -> EngineRun:
    """Validate and record a run (queued); `run` carries it out, or a worker (`enqueue`).
    A dry run may cover several consecutive days from a day (a preview)."""
    companies, _ = select(company_id, task)
    if days != 1 and not (dry_run and as_of.day is not None and 1 <= days <= MAX_PREVIEW_DAYS):
        raise ValidationFailed.one(
            "days", f"several days (up to {MAX_PREVIEW_DAYS}) are previewed from a day only"
        )
    abandon_stale()
    if not dry_run and as_of.latest() > timezone.now() + timedelta(days=1):
        live = _live_companies(companies)
        if live:
            raise TimeTravelRefused(
                f"as_of {as_of} is more than a day ahead, and {', '.join(live)} use live "
                "gateways or modules; run it with --dry-run to preview."
            )
    return EngineRun.objects.create(
        as_of=as_of.latest() if as_of.day else as_of.moment,
        as_of_text=str(as_of),
        dry_run=dry_run,
        company_id=company_id,
        task=task or "",
        actor=actor,
        days=days,
    )


MAX_PREVIEW_DAYS = 10_000  # what the run row holds; previews of years are fine


def _document(as_of_text: str, dry_run: bool, reports: list[TaskReport]) -> dict[str, Any]:
    return {
        "as_of": as_of_text,
        "dry_run": dry_run,
        "tasks": [r.as_json(MAX_ACTIONS_KEPT) for r in reports],
    }


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _gone(worker: str) -> bool:
    """Whether the worker is a process of this host that no longer runs."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def plan_shards(record: EngineRun) -> list[EngineShard]:
    """Record the run's shards (and start it); a run with nothing due has none."""
    companies, tasks = select(record.company_id, record.task or None)
    as_of = AsOf.parse(record.as_of_text)
    statistics.for_planning()
    rows: list[EngineShard] = []
    for company in companies:
        moment = as_of.for_company(company)
        with clock.frozen_at(moment):
            view = CompanyView.load(company, moment)
            for first, last, count in shards.ranges(view, tasks):
                rows.append(EngineShard(run=record, company=company, position=len(rows),
                                        first_client=first, last_client=last,
                                        clients=count))  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        EngineShard.objects.bulk_create(rows)
        started = EngineRun.objects.filter(pk=record.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, started_at=now, heartbeat_at=now
        )
    if started:
        record.status, record.started_at, record.heartbeat_at = RunStatus.RUNNING, now, now
    else:
        record.refresh_from_db()
    queue.defer_shards(record, rows)
    return rows


def claim(run_id: int | None = None, shard_id: int | None = None) -> EngineShard | None:
    """Take the next shard to run (that one, of this run, or of any): a queued one, or one
    whose worker went silent. SKIP LOCKED on PostgreSQL: workers never wait on each other."""
    now = timezone.now()
    claimable = Q(status=ShardStatus.QUEUED) | Q(
        status=ShardStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    with transaction.atomic():
        # With its run and company: `work` needs both (two queries a shard otherwise).
        shards = EngineShard.objects.select_related("run", "company")
        rows = shards.filter(claimable, run__status=RunStatus.RUNNING)
        if run_id is not None:
            rows = rows.filter(run_id=run_id)
        if shard_id is not None:
            rows = rows.filter(pk=shard_id)
        if connection.features.has_select_for_update_skip_locked:
            # The shard row alone: locking the joined run too made a worker skip every
            # shard while another worker claimed one or summed the run up (`finish`
            # locks it), and a skipped shard's job ended leaving it queued for good.
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        shard = rows.order_by("run_id", "position").first()
        if shard is None:
            # A worker on this host that was killed is known dead at once.
            running = shards.filter(status=ShardStatus.RUNNING, run__status=RunStatus.RUNNING)
            if run_id is not None:
                running = running.filter(run_id=run_id)
            if shard_id is not None:
                running = running.filter(pk=shard_id)
            shard = next((s for s in running if _gone(s.worker)), None)
            if shard is None:
                return None
        shard.status = ShardStatus.RUNNING
        shard.attempts += 1
        shard.worker = _worker_name()
        shard.started_at = shard.heartbeat_at = now
        shard.save(update_fields=["status", "attempts", "worker", "started_at", "heartbeat_at"])
    return shard


def _heartbeat(shard: EngineShard) -> None:
    now = timezone.now()
    EngineShard.objects.filter(pk=shard.pk).update(heartbeat_at=now)
    EngineRun.objects.filter(pk=shard.run_id).update(heartbeat_at=now)


def work(shard: EngineShard) -> EngineShard:
    """Run a claimed shard's tasks for its clients, record what they did, and finish the
    run when it was the last."""
    _work(shard)
    shard.refresh_from_db()
    return shard


def _work(shard: EngineShard) -> EngineRun | None:
    """`work`, answering what `finish` did after the shard (the run, once it is over)."""
    record = shard.run
    tasks = _tasks(record.task or None)
    moment = AsOf.parse(record.as_of_text).for_company(shard.company)
    reports = [TaskReport(t.NAME) for t in tasks]
    status, error = ShardStatus.DONE, ""
    try:
        with clock.frozen_at(moment):
            run_tasks(shard.company, moment, (shard.first_client, shard.last_client), tasks,
                      reports, beat=now_and_then(partial(_heartbeat, shard)))  # fmt: skip
    except Exception as exc:  # recorded on the shard; the other shards go on
        status, error = ShardStatus.FAILED, "".join(traceback.format_exception_only(exc)).strip()
    EngineShard.objects.filter(pk=shard.pk).update(
        status=status,
        error=error,
        report={"tasks": [r.as_json() for r in reports]},
        finished_at=timezone.now(),
    )
    if statistics.written_doubled(shard.position, sum(r.applied for r in reports)):
        statistics.refresh()
    return finish(record.pk)


def finish(run_id: int) -> EngineRun | None:
    """Sum the shards up into the run once none is left to run; None while some is."""
    with transaction.atomic():
        record = EngineRun.objects.select_for_update().get(pk=run_id)
        if record.status in FINAL:
            return record
        # Asked after every shard: the reports are read only once, by the last one.
        if record.shards.filter(status__in=[ShardStatus.QUEUED, ShardStatus.RUNNING]).exists():
            return None
        reports = [TaskReport(t.NAME) for t in _tasks(record.task or None)]
        counts, errors = [], []  # each shard's counts, without its sample of actions
        shard_rows = record.shards.values("company_id", "status", "report", "error")
        # A shard's report holds up to MAX_ACTIONS_KEPT actions per task: read a few at
        # a time, never all of a large run's at once.
        for row in shard_rows.iterator(chunk_size=20):
            docs = row["report"].get("tasks", [])
            for report, doc in zip(reports, docs, strict=False):
                report.merge(doc)
            if row["status"] == ShardStatus.FAILED:
                errors.append(row["error"])
            slim = [{k: v for k, v in doc.items() if k != "actions"} for doc in docs]
            counts.append({"company_id": row["company_id"], "report": {"tasks": slim}})
        record.result = _document(record.as_of_text, record.dry_run, reports)
        if errors:
            record.status, record.error = RunStatus.ERROR, errors[0]
        elif any(r.failed for r in reports):
            record.status = RunStatus.FAILED
        else:
            record.status = RunStatus.DONE
        record.finished_at = timezone.now()
        record.save(update_fields=["result", "status", "error", "finished_at"])
        webhooks.run_finished(record, counts)
    if sum(r.applied for r in reports) >= statistics.REFRESH_AFTER:
        statistics.refresh()
    return record


def abandon_stale() -> list[int]:
    """Runs whose processes are gone are marked abandoned (their unfinished shards
    failed): every running shard's worker a process of this host that no longer runs, or
    no heartbeat for ABANDON_AFTER. Their work is left to the next run, which the keys make
    safe. A run whose shards all ended but that was not summed up yet is finished."""
    now, abandoned = timezone.now(), []
    for record in EngineRun.objects.filter(status=RunStatus.RUNNING, dry_run=False):
        left = list(record.shards.filter(status__in=[ShardStatus.QUEUED, ShardStatus.RUNNING]))
        if not left:
            finish(record.pk)
            continue
        running = [s for s in left if s.status == ShardStatus.RUNNING]
        beat = record.heartbeat_at or record.started_at or record.created_at
        if not (running and all(_gone(s.worker) for s in running)) and beat > now - ABANDON_AFTER:
            continue
        why = f"its process stopped (no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC)"
        with transaction.atomic():
            EngineShard.objects.filter(pk__in=[s.pk for s in left]).update(
                status=ShardStatus.FAILED, error=f"abandoned: {why}", finished_at=now
            )
            EngineRun.objects.filter(pk=record.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.ABANDONED, error=f"Abandoned: {why}.", finished_at=now
            )
        abandoned.append(record.pk)
    return abandoned


def progress(record: EngineRun) -> tuple[int, int]:
    """(shards finished, shards) of a run."""
    counts = record.shards.values_list("status", flat=True)
    statuses = list(counts)
    return sum(s in (ShardStatus.DONE, ShardStatus.FAILED) for s in statuses), len(statuses)


def run(
    record: EngineRun, *, progress_to: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Carry out a recorded run in this process, sharing its shards with any worker that
    claims some, until every shard is done; returns the --json document."""
    if record.dry_run:
        return _dry_run(record)
    if record.status == RunStatus.QUEUED:
        plan_shards(record)
    while True:
        shard = claim(record.pk)
        # A shard's work ends with `finish`: asked again only when there was none.
        finished = _work(shard) if shard is not None else finish(record.pk)
        if progress_to is not None:
            progress_to(*progress(record))
        if finished is not None:
            return finished.result
        if shard is None:
            time.sleep(0.2)  # the rest is being run by other workers


def _preview_days(record: EngineRun) -> list[AsOf]:
    first = AsOf.parse(record.as_of_text)
    if record.days == 1:
        return [first]
    return [AsOf(day=first.day + timedelta(days=i)) for i in range(record.days)]


def _preview_documents(record: EngineRun, days: list[AsOf]) -> list[dict[str, Any]]:
    if snapshot.wanted():  # a copy of the book, in a process of its own (SQLite)
        if record.days == 1:
            args = ["run", "--dry-run", "--json", "--as-of", record.as_of_text]
            args += ["--task", record.task] if record.task else []
        else:
            args = ["simulate", "--json", "--from", str(days[0]), "--to", str(days[-1])]
        args += ["--company", str(record.company_id)] if record.company_id else []
        return snapshot.documents(*args)
    companies, tasks = select(record.company_id, record.task or None)
    reports = previewed(days, companies=companies, tasks=tasks)
    return [_document(str(d), True, r) for d, r in zip(days, reports, strict=True)]


def _dry_run(record: EngineRun) -> dict[str, Any]:
    days = _preview_days(record)
    EngineRun.objects.filter(pk=record.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    try:
        documents = _preview_documents(record, days)
    except BaseException as exc:
        EngineRun.objects.filter(pk=record.pk).update(
            status=RunStatus.ERROR,
            finished_at=timezone.now(),
            error="".join(traceback.format_exception_only(exc)).strip(),
        )
        raise
    if record.days == 1:
        record.result = documents[0]
    else:
        first = documents[0]
        record.result = {**first, "days": documents}
    failed = any(t["failed"] for d in documents for t in d["tasks"])
    record.status = RunStatus.FAILED if failed else RunStatus.DONE
    record.finished_at = timezone.now()
    record.save(update_fields=["result", "status", "finished_at"])
    return record.result


def enqueue(record: EngineRun) -> None:
    """Hand a recorded run to the workers: a procrastinate job on PostgreSQL; on SQLite
    it waits, queued, for `groupbill scheduler` to pick it up."""
    queue.defer_run(record)


def active_run() -> EngineRun | None:
    """A run still going (its heartbeat fresh), if any."""
    fresh = Q(heartbeat_at__gte=timezone.now() - STALE_AFTER) | Q(heartbeat_at__isnull=True)
    return (
        EngineRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING], dry_run=False)
        .filter(fresh)
        .order_by("pk")
        .first()
    )


def work_queued() -> int:
    """What a worker without procrastinate does (the scheduler on SQLite): plan queued
    runs, then run every shard there is to claim. Returns the shards run."""
    for record in EngineRun.objects.filter(status=RunStatus.QUEUED).order_by("pk"):
        if record.dry_run:
            _dry_run(record)
        else:
            plan_shards(record)
            finish(record.pk)
    count = 0
    while (shard := claim()) is not None:
        work(shard)
        count += 1
    return count


def preview(days: list[AsOf], *, actor: str, company_id: int | None = None) -> EngineRun:
    """A dry run over consecutive days, carried out now in this process (the CLI's
    `simulate`); pages and the API queue theirs (`start` with `days`, then `enqueue`)."""
    record = start(as_of=days[0], actor=actor, company_id=company_id, dry_run=True,
                   days=len(days))  # fmt: skip
    run(record)
    record.refresh_from_db()
    return record
