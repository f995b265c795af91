"""The Automation page: recent runs, previews (dry runs) and failure details. A staff user
sees the runs of their companies, and the runs of every company only if they belong to
every company; they start runs and previews for the companies they may configure."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from groupbill.automation import engine
from groupbill.automation.models import EngineRun, ShardStatus
from groupbill.clock import now
from groupbill.companies.models import Company
from groupbill.companies.roles import Action, company_ids_of, company_ids_where, in_every_company
from groupbill.validation import parse_id
from groupbill.web.views.common import actor, staff_required

RUNS_PER_PAGE = 30
EVERY_COMPANY = ""


def visible_runs(user):
    """The runs a staff user may see: their companies' own, and those of every company
    when they belong to every company."""
    runs = EngineRun.objects.all()
    ids = company_ids_of(user)
    if ids is None:
        return runs
    mine = Q(company_id__in=ids)
    if in_every_company(user):
        mine |= Q(company__isnull=True)
    return runs.filter(mine)


def _targets(user) -> list[tuple[str, str]]:
    """What the user may start a run for: "Every company" when they may configure every
    company, and each company they may configure."""
    ids = company_ids_where(user, Action.CONFIGURE)
    companies = Company.objects.order_by("name")
    if ids is not None:
        companies = companies.filter(pk__in=ids)
    every = [(EVERY_COMPANY, "Every company")] if in_every_company(user, Action.CONFIGURE) else []
    return every + [(str(pk), name) for pk, name in companies.values_list("pk", "name")]


@staff_required
def automation(request):
    targets = _targets(request.user)
    if request.method == "POST":
        return _start(request, targets)
    runs = _with_progress(visible_runs(request.user).select_related("company").order_by("-pk"))
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page:
        run.totals = _totals(run.result.get("tasks", []))
    active = engine.active_run()
    if active is not None and not visible_runs(request.user).filter(pk=active.pk).exists():
        active = None
    return render(
        request,
        "web/automation/list.html",
        {"runs": page, "page": page, "active": active, "targets": targets},
    )


def _start(request, targets):
    """A preview (tomorrow, or the next 7 days) or a run now, for the chosen company or
    every company; a company the user may not configure is as unknown as a missing one."""
    chosen = request.POST.get("company", EVERY_COMPANY)
    if chosen not in dict(targets):
        raise Http404("No such company.")
    company_id = parse_id(chosen)
    action = request.POST.get("action")
    if action in ("preview_1", "preview_7"):
        tomorrow = engine.AsOf(day=now().date() + timedelta(days=1))
        days = 1 if action == "preview_1" else 7
        record = engine.start(
            as_of=tomorrow, actor=actor(request), company_id=company_id, dry_run=True, days=days
        )
        engine.enqueue(record)
        messages.success(request, f"Preview #{record.pk} is queued; a worker runs it.")
        return redirect("web:automation_run", run_id=record.pk)
    if action == "run_now":
        record = engine.start(
            as_of=engine.AsOf(moment=now()), actor=actor(request), company_id=company_id
        )
        engine.enqueue(record)
        messages.success(request, f"Run #{record.pk} is queued; a worker starts it.")
        return redirect("web:automation_run", run_id=record.pk)
    return redirect("web:automation")


def _with_progress(runs):
    finished = Q(shards__status__in=[ShardStatus.DONE, ShardStatus.FAILED])
    return runs.annotate(shards_total=Count("shards"), shards_done=Count("shards", filter=finished))


def _totals(tasks):
    return {k: sum(t[k] for t in tasks) for k in ("planned", "applied", "skipped", "failed")}


@staff_required
def automation_run(request, run_id: int):
    runs = _with_progress(visible_runs(request.user).select_related("company"))
    run = get_object_or_404(runs, pk=run_id)
    days = run.result.get("days") or ([run.result] if run.result.get("tasks") else [])
    for day in days:
        day["totals"] = _totals(day["tasks"])
        day["busy"] = [
            (t["name"], t["applied"], t["planned"]) for t in day["tasks"] if t["planned"]
        ]
        day["failures"] = [
            (t["name"], a)
            for t in day["tasks"]
            for a in t["actions"]
            if a.get("outcome") == "failed"
        ]
    return render(request, "web/automation/run.html", {"run": run, "days": days})
