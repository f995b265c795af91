"""The Automation page: previews write nothing, runs are recorded with their per-task
counts and failure details."""

from datetime import date, timedelta

from groupbill.automation import engine
from groupbill.automation.models import EngineRun
from groupbill.billing.models import Invoice
from tests import book


def test_previewing_seven_days_shows_each_day_and_writes_nothing(staff, company, make_client):
    book.build(company, make_client)
    invoices = Invoice.objects.count()
    response = staff.post("/automation/", {"action": "preview_7"}, follow=True)
    assert "is queued" in response.content.decode()
    engine.work_queued()  # what the scheduler or a worker does with a queued run
    run = EngineRun.objects.get()
    page = staff.get(f"/automation/runs/{run.pk}/").content.decode()
    assert run.dry_run and len(run.result["days"]) == 7
    tomorrow = date.today() + timedelta(days=1)
    assert str(tomorrow) in page and str(tomorrow + timedelta(days=6)) in page
    assert Invoice.objects.count() == invoices


def test_a_run_with_failures_lists_them(staff, company, make_client):
    book.build(company, make_client)
    from groupbill.automation import engine

    record = engine.start(as_of=engine.AsOf(day=date(2026, 3, 2)), actor="test")
    engine.run(record)
    page = staff.get(f"/automation/runs/{record.pk}/").content.decode()
    # Client 3's card ends in 0002: the sandbox declines it.
    assert "Failures" in page and "declined" in page
    listing = staff.get("/automation/").content.decode()
    assert f"#{record.pk}" in listing
