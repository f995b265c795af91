"""The 30-day forecast read from a preview: a company's own finished preview only, counts
complete, amounts per currency from the actions kept, and a renewing service's invoice
on the day the engine would issue it."""

from datetime import timedelta

from groupbill.automation import engine, forecast
from groupbill.automation.models import EngineRun, RunStatus
from groupbill.companies.queries import company_today
from groupbill.services import actions as services
from tests.book import ACTOR


def _day(as_of, invoices=(), omitted=0, suspended=0):
    actions = [{"key": f"k{i}", "summary": "", "outcome": "applied", "amount": amount,
                "currency": currency} for i, (amount, currency) in enumerate(invoices)]  # fmt: skip
    tasks = [
        {"name": "renewal_invoices", "planned": len(actions) + omitted,
         "applied": len(actions) + omitted, "skipped": 0, "failed": 0, "actions": actions},
        {"name": "suspend", "planned": suspended, "applied": suspended, "skipped": 0,
         "failed": 0, "actions": []},
    ]  # fmt: skip
    return {"as_of": as_of, "tasks": tasks}


def test_read_sums_amounts_per_currency_and_says_when_some_were_not_kept(company):
    run = EngineRun.objects.create(
        as_of="2026-07-01T12:00Z", as_of_text="2026-07-01", dry_run=True, days=2,
        company=company, actor=ACTOR, status=RunStatus.DONE,
        result={"days": [
            _day("2026-07-01", [(1_000, "EUR"), (500, "USD"), (250, "EUR")], suspended=2),
            _day("2026-07-02", [(4_000, "EUR")], omitted=3),
        ]},
    )  # fmt: skip
    other = EngineRun.objects.create(  # all companies' preview: not this company's forecast
        as_of="2026-07-01T12:00Z", as_of_text="2026-07-01", dry_run=True, days=30,
        actor=ACTOR, status=RunStatus.DONE, result={},
    )  # fmt: skip
    assert other.pk > run.pk and forecast.latest(company) is None
    read = forecast.read(run)
    first, second = read.days
    assert first.figures["invoices"].amounts == {"EUR": 1_250, "USD": 500}
    assert (first.figures["suspensions"].count, first.figures["charges"].count) == (2, 0)
    assert (second.figures["invoices"].count, second.figures["invoices"].partial) == (4, True)
    total = read.total("invoices")
    assert (total.count, total.amounts, total.partial) == (7, {"EUR": 5_250, "USD": 500}, True)


def test_a_queued_preview_forecasts_a_renewal_invoice(company, make_client):
    from groupbill.billing import payments
    from groupbill.catalog.models import Package, PackagePrice

    today = company_today(company)
    hosting = Package.objects.create(company=company, name="Hosting")
    monthly = PackagePrice.objects.create(
        package=hosting, unit="month", count=1, currency="EUR", price=1_000
    )
    client = make_client()
    service = services.add_service(client, pricing=monthly, start_on=today, actor=ACTOR)
    payments.pay_invoice(service.first_invoice, amount=service.first_invoice.total, actor=ACTOR)
    services.provision(service, actor=ACTOR)

    run = forecast.queue(company, today, actor=ACTOR)
    assert forecast.waiting(company) == run
    engine.work_queued()
    upcoming = forecast.latest(company)
    assert upcoming.run == run and forecast.waiting(company) is None
    assert upcoming.days[0].day == today + timedelta(days=1) and len(upcoming.days) == 30
    invoices = upcoming.total("invoices")
    # The next month's invoice is issued within the 30 days (before the renewal).
    assert invoices.count == 1 and invoices.amounts == {"EUR": 1_000}
