"""The automation engine: for each company, at the company's own `as_of`, every task
plans (set-based) and then applies its actions one by one, each in its own transaction
and each guarded by its idempotency key, so a second run, a resumed run or a concurrent
one never does anything twice. The engine reads no clock but `as_of`."""

import time
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from groupbill import clock
from groupbill.automation import locks
from groupbill.automation.effects import recorded
from groupbill.automation.models import EngineRun, RunStatus
from groupbill.automation.plan import Action, Failed
from groupbill.automation.tasks import TASK_NAMES, TASKS
from groupbill.automation.view import CompanyView
from groupbill.companies.models import Company
from groupbill.errors import ValidationFailed

MAX_ACTIONS_KEPT = 500  # per task in a stored run result; counts are always complete


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
                return cls(day=date.fromisoformat(text))
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed.one(
                "as_of", "must be a date (YYYY-MM-DD) or RFC 3339 time with an offset"
            ) from None
        if moment.tzinfo is None:
            raise ValidationFailed.one("as_of", "a time needs an offset, e.g. +01:00 or Z")
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


@dataclass
class TaskReport:
    name: str
    planned: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    actions: list[dict[str, Any]] = field(default_factory=list)

    def record(self, action: Action, outcome: str, result: Any = None, error: str = "") -> None:
        entry = action.describe() | {"outcome": outcome}
        if isinstance(result, dict):
            entry |= result
        if error:
            entry["error"] = error
        self.actions.append(entry)

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        actions = self.actions if limit is None else self.actions[:limit]
        doc = {
            "name": self.name,
            "planned": self.planned,
            "applied": self.applied,
            "skipped": self.skipped,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "actions": actions,
        }
        if len(actions) < len(self.actions):
            doc["actions_omitted"] = len(self.actions) - len(actions)
        return doc


def _apply(action: Action, report: TaskReport) -> None:
    try:
        if action.atomic:
            with transaction.atomic():
                result = action.apply()
        else:
            result = action.apply()
    except Exception as exc:  # one action's failure must not stop the others
        report.failed += 1
        report.record(action, "failed", error=getattr(exc, "message", None) or repr(exc))
        return
    if isinstance(result, Failed):
        report.failed += 1
        report.record(action, "failed", error=result.message)
    elif result:
        report.applied += 1
        report.record(action, "applied", result)
    else:
        report.skipped += 1
        report.record(action, "skipped")


def execute(as_of: AsOf, *, companies, tasks, run: EngineRun | None = None) -> list[TaskReport]:
    reports = [TaskReport(t.NAME) for t in tasks]
    for company in companies:
        moment = as_of.for_company(company)
        with clock.frozen_at(moment):
            view = CompanyView.load(company, moment)
            for task, report in zip(tasks, reports, strict=True):
                started = time.perf_counter()
                actions = task.plan(view)
                report.planned += len(actions)
                for action in actions:
                    _apply(action, report)
                report.seconds += time.perf_counter() - started
                if run is not None and not run.dry_run:
                    locks.heartbeat(run)
    return reports


class TimeTravelRefused(Exception):
    pass


def _live_companies(companies) -> list[str]:
    from groupbill.billing.gateways import get_gateway
    from groupbill.billing.models import PaymentAccount
    from groupbill.catalog.models import Package
    from groupbill.services.modules import get_module

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
    tasks = [t for t in TASKS if task in (None, t.NAME)]
    return list(companies), tasks


def start(*, as_of: AsOf, actor: str, company_id=None, task=None, dry_run=False) -> EngineRun:
    """Validate and record a run (queued); `run` carries it out."""
    companies, _ = select(company_id, task)
    if not dry_run and as_of.latest() > timezone.now() + timedelta(days=1):
        live = _live_companies(companies)
        if live:
            raise TimeTravelRefused(
                f"as_of {as_of} is more than a day ahead, and {', '.join(live)} use live "
                "gateways or modules; run it with --dry-run to preview."
            )
    return EngineRun.objects.create(
        as_of=as_of.latest() if as_of.day else as_of.moment,
        dry_run=dry_run,
        company_id=company_id,
        task=task or "",
        actor=actor,
        result={"as_of_text": str(as_of)},
    )


def run(record: EngineRun, as_of: AsOf, *, wait: float = 30.0) -> dict[str, Any]:
    """Carry out a recorded run; returns the --json document. Raises LockHeld when another
    run holds the engine past `wait` seconds (the record then says so)."""
    companies, tasks = select(record.company_id, record.task or None)
    if not record.dry_run:
        try:
            locks.acquire(record, wait)
        except locks.LockHeld as exc:
            EngineRun.objects.filter(pk=record.pk).update(status=RunStatus.ERROR, error=str(exc))
            raise
    record.status, record.started_at = RunStatus.RUNNING, timezone.now()
    record.save(update_fields=["status", "started_at"])
    try:
        if record.dry_run:
            with recorded(), transaction.atomic():
                reports = execute(as_of, companies=companies, tasks=tasks, run=record)
                transaction.set_rollback(True)
        else:
            reports = execute(as_of, companies=companies, tasks=tasks, run=record)
    except BaseException as exc:
        EngineRun.objects.filter(pk=record.pk).update(
            status=RunStatus.ERROR,
            finished_at=timezone.now(),
            error="".join(traceback.format_exception_only(exc)).strip(),
        )
        raise
    finally:
        if not record.dry_run:
            locks.release(record)
    doc = {"as_of": str(as_of), "dry_run": record.dry_run, "tasks": [r.as_json() for r in reports]}
    record.result = {
        "as_of": str(as_of),
        "dry_run": record.dry_run,
        "tasks": [r.as_json(MAX_ACTIONS_KEPT) for r in reports],
    }
    record.status = RunStatus.FAILED if any(r.failed for r in reports) else RunStatus.DONE
    record.finished_at = timezone.now()
    record.save(update_fields=["result", "status", "finished_at"])
    return doc


def preview(days: list[AsOf], *, actor: str, company_id: int | None = None) -> EngineRun:
    """A dry run over consecutive days (later days see what earlier ones did), rolled back
    as a whole; recorded as one run whose result holds a document per day."""
    companies, tasks = select(company_id, None)
    record = EngineRun.objects.create(
        as_of=days[0].latest(),
        dry_run=True,
        company_id=company_id,
        actor=actor,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
    )
    documents = []
    try:
        with recorded(), transaction.atomic():
            for as_of in days:
                reports = execute(as_of, companies=companies, tasks=tasks)
                documents.append(
                    {
                        "as_of": str(as_of),
                        "dry_run": True,
                        "tasks": [r.as_json(MAX_ACTIONS_KEPT) for r in reports],
                    }
                )
            transaction.set_rollback(True)
    except Exception as exc:
        EngineRun.objects.filter(pk=record.pk).update(
            status=RunStatus.ERROR, finished_at=timezone.now(), error=repr(exc)
        )
        raise
    failed = any(t["failed"] for d in documents for t in d["tasks"])
    record.result = {
        "as_of": str(days[0]),
        "dry_run": True,
        "days": documents,
        "tasks": documents[0]["tasks"],
    }
    record.status = RunStatus.FAILED if failed else RunStatus.DONE
    record.finished_at = timezone.now()
    record.save(update_fields=["result", "status", "finished_at"])
    return record
