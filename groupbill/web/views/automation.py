"""The Automation page: recent runs, previews (dry runs) and failure details."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render

from groupbill.automation import engine
from groupbill.automation.models import EngineRun, ShardStatus
from groupbill.clock import now
from groupbill.web.views.common import actor, staff_required

RUNS_PER_PAGE = 30


@staff_required
def automation(request):
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("preview_1", "preview_7"):
            tomorrow = engine.AsOf(day=now().date() + timedelta(days=1))
            days = 1 if action == "preview_1" else 7
            record = engine.start(as_of=tomorrow, actor=actor(request), dry_run=True, days=days)
            engine.enqueue(record)
            messages.success(request, f"Preview #{record.pk} is queued; a worker runs it.")
            return redirect("web:automation_run", run_id=record.pk)
        if action == "run_now":
            record = engine.start(as_of=engine.AsOf(moment=now()), actor=actor(request))
            engine.enqueue(record)
            messages.success(request, f"Run #{record.pk} is queued; a worker starts it.")
            return redirect("web:automation_run", run_id=record.pk)
    page = Paginator(_with_progress(EngineRun.objects.order_by("-pk")), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for run in page:
        run.totals = _totals(run.result.get("tasks", []))
    return render(
        request,
        "web/automation/list.html",
        {"runs": page, "page": page, "active": engine.active_run()},
    )


def _with_progress(runs):
    finished = Q(shards__status__in=[ShardStatus.DONE, ShardStatus.FAILED])
    return runs.annotate(shards_total=Count("shards"), shards_done=Count("shards", filter=finished))


def _totals(tasks):
    return {k: sum(t[k] for t in tasks) for k in ("planned", "applied", "skipped", "failed")}


@staff_required
def automation_run(request, run_id: int):
    run = get_object_or_404(_with_progress(EngineRun.objects.all()), pk=run_id)
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
