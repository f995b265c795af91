"""The next days as the engine itself would carry them out: read from a finished preview
(a queued dry run over consecutive days), never computed inside a page's request.

A company's forecast is its latest preview of FORECAST_DAYS days from the day after it
was queued. Per day it tells the invoices the engine would issue, the charges it would
make and the services it would suspend: counts are complete; amounts are summed per
currency from the actions the run kept (a task's report keeps at most MAX_ACTIONS_KEPT a
day), so a day whose actions were not all kept says so (`partial`).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q

from groupbill.automation import engine
from groupbill.automation.models import EngineRun, RunStatus
from groupbill.companies.models import Company

FORECAST_DAYS = 30
# What the forecast shows, by engine task.
KINDS = {
    "renewal_invoices": "invoices",
    "autodebit": "charges",
    "suspend": "suspensions",
}
FINISHED = [RunStatus.DONE, RunStatus.FAILED]


@dataclass
class Figure:
    count: int = 0
    amounts: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    partial: bool = False  # some actions' amounts were not kept


@dataclass
class Day:
    day: date
    figures: dict[str, Figure]  # kind -> figure


@dataclass
class Forecast:
    run: EngineRun
    days: list[Day]

    def total(self, kind: str) -> Figure:
        out = Figure()
        for day in self.days:
            figure = day.figures[kind]
            out.count += figure.count
            out.partial |= figure.partial
            for currency, amount in figure.amounts.items():
                out.amounts[currency] = out.amounts.get(currency, 0) + amount
        return out


def _previews(company: Company):
    return EngineRun.objects.filter(
        company=company, dry_run=True, days=FORECAST_DAYS, task=""
    ).order_by("-pk")


def latest(company: Company) -> Forecast | None:
    """The forecast of the company's latest finished 30-day preview, if any. One query."""
    run = _previews(company).filter(status__in=FINISHED).first()
    return None if run is None else read(run)


def waiting(company: Company) -> EngineRun | None:
    """A 30-day preview of the company queued or running, if any. One query."""
    return _previews(company).filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()


def queue(company: Company, today: date, *, actor: str) -> EngineRun:
    """Queue a 30-day preview for the company from tomorrow, for a worker to run."""
    record = engine.start(
        as_of=engine.AsOf(day=today + timedelta(days=1)),
        actor=actor,
        company_id=company.pk,
        dry_run=True,
        days=FORECAST_DAYS,
    )
    engine.enqueue(record)
    return record


def _figure(task: dict[str, Any]) -> Figure:
    amounts: dict[str, int] = defaultdict(int)
    kept = 0
    for action in task["actions"]:
        if action.get("outcome") != "applied":
            continue
        kept += 1
        if "amount" in action and action.get("currency"):
            amounts[action["currency"]] += action["amount"]
    return Figure(task["applied"], dict(amounts), partial=kept < task["applied"])


def read(run: EngineRun) -> Forecast:
    """A preview's days as forecast figures."""
    documents = run.result.get("days") or ([run.result] if run.result.get("tasks") else [])
    days = []
    for doc in documents:
        tasks = {t["name"]: t for t in doc["tasks"]}
        figures = {
            kind: _figure(tasks[name]) if name in tasks else Figure()
            for name, kind in KINDS.items()
        }
        days.append(Day(date.fromisoformat(doc["as_of"][:10]), figures))
    return Forecast(run, days)


def last_run(company: Company) -> EngineRun | None:
    """The latest real (not preview) run that covered the company. One query."""
    return (
        EngineRun.objects.filter(dry_run=False)
        .filter(Q(company=company) | Q(company__isnull=True))
        .order_by("-pk")
        .first()
    )
