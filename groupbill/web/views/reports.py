"""A company's dashboard (the landing page) and its reports, each with a CSV export
(`?format=csv`). The figures come from the domain's report functions (billing.reports,
services.reports, automation.forecast); these views only arrange them into tables and
charts. Every figure is per currency."""

from datetime import date, timedelta
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from groupbill.automation import forecast
from groupbill.billing import reports as ledger_reports
from groupbill.companies.queries import companies, company_today, get_company
from groupbill.errors import DomainError
from groupbill.money import format_plain
from groupbill.services import reports as service_reports
from groupbill.ui import charts
from groupbill.ui.downloads import csv_response
from groupbill.web.views.automation import visible_runs
from groupbill.web.views.common import actor, of_my_companies, staff_required

MONTHS = 12


def _labels(months: list[date]) -> list[str]:
    """Chart labels of months: the year under the first month and under each January."""
    return [
        m.strftime("%b\n%Y") if i == 0 or m.month == 1 else m.strftime("%b")
        for i, m in enumerate(months)
    ]


def _month_rows(series) -> list:
    """Months (newest first) with each currency's amount: a chart's figures as a table."""
    if not series:
        return []
    months = series[0].months
    return [
        (month, [(s.currency, s.amounts[i]) for s in series])
        for i, month in reversed(list(enumerate(months)))
    ]


def _wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


def _queue_forecast(request, company, back: str):
    try:
        record = forecast.queue(company, company_today(company), actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Preview #{record.pk} of the next 30 days is queued.")
    return redirect(back, company_id=company.pk)


# --- Dashboard -------------------------------------------------------------------------


@staff_required
def dashboard(request, company_id: int):
    company = get_company(company_id)
    if request.method == "POST":
        return _queue_forecast(request, company, "web:company_dashboard")
    today = company_today(company)
    ledger = ledger_reports.dashboard(company, today)
    services = service_reports.summary(company, today)
    income_month = ledger.income_this_month()
    currencies = sorted(set(ledger.income_today) | set(income_month))
    upcoming = forecast.latest(company)
    last_run = forecast.last_run(company)
    context = {
        "company": company,
        "today": today,
        "income": [
            {
                "currency": c,
                "today": ledger.income_today.get(c, 0),
                "month": income_month.get(c, 0),
            }
            for c in currencies
        ],
        "income_charts": [
            charts.bars(
                f"Income by month in {s.currency}",
                _labels(s.months),
                s.amounts,
                s.currency,
            )
            for s in ledger.income
        ],
        "income_series": ledger.income,
        "income_rows": _month_rows(ledger.income),
        "ageing": ledger.ageing,
        "buckets": ledger_reports.AGEING_BUCKETS,
        "mrr": [
            {
                "currency": c,
                "mrr": services.mrr.get(c, 0),
                "change": services.month[c].net if c in services.month else 0,
            }
            for c in sorted(set(services.mrr) | set(services.month))
        ],
        "failed": ledger.failed,
        "pending_orders": service_reports.pending_orders(company),
        "forecast": upcoming,
        "forecast_totals": _forecast_totals(upcoming),
        "forecast_waiting": forecast.waiting(company),
        "last_run": last_run,
        # A run of every company opens only for who belongs to every company.
        "last_run_shown": last_run is not None
        and visible_runs(request.user).filter(pk=last_run.pk).exists(),
    }
    return render(request, "web/reports/dashboard.html", context)


def _forecast_totals(upcoming):
    if upcoming is None:
        return []
    return [(kind, upcoming.total(kind)) for kind in ("invoices", "charges", "suspensions")]


# --- Ageing -----------------------------------------------------------------------------


@staff_required
def ageing(request, company_id: int):
    company = get_company(company_id)
    today = company_today(company)
    rows = ledger_reports.ageing(company, today)
    buckets = ledger_reports.AGEING_BUCKETS
    if _wants_csv(request):
        header = ["currency", *(f"{key} amount" for key, *_ in buckets),
                  *(f"{key} invoices" for key, *_ in buckets), "total"]  # fmt: skip
        return csv_response(
            f"ageing-{company.pk}-{today}.csv",
            header,
            [
                [
                    r.currency,
                    *(format_plain(r.amounts[k], r.currency) for k, *_ in buckets),
                    *(r.counts[k] for k, *_ in buckets),
                    format_plain(r.total, r.currency),
                ]
                for r in rows
            ],
        )
    chart_list = [
        charts.bars(
            f"Receivables by days past due in {r.currency}",
            [label for _, label, *_ in buckets],
            [r.amounts[k] for k, *_ in buckets],
            r.currency,
        )
        for r in rows
    ]
    return _report(request, company, "ageing", {
        "today": today, "rows": rows, "buckets": buckets, "charts": chart_list,
    })  # fmt: skip


# --- Revenue ----------------------------------------------------------------------------


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "must be on or after the first day")
        if (
            data.get("start")
            and data.get("end")
            and data["end"] - data["start"] > timedelta(days=3660)
        ):
            self.add_error("end", "a period is at most ten years")
        return data


def _presets(today: date) -> list[tuple[str, str]]:
    """Periods people ask for, as query strings: this and last month, quarter, year."""
    month = today.replace(day=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    year = month.replace(month=1)
    last_month = month - relativedelta(months=1)
    last_quarter = quarter - relativedelta(months=3)
    periods = [
        ("This month", month, today),
        ("Last month", last_month, month - timedelta(days=1)),
        ("This quarter", quarter, today),
        ("Last quarter", last_quarter, quarter - timedelta(days=1)),
        ("This year", year, today),
        ("Last year", year.replace(year=year.year - 1), year - timedelta(days=1)),
    ]
    return [(label, urlencode({"start": a, "end": b})) for label, a, b in periods]


def _period(request, today: date) -> tuple[PeriodForm, date, date]:
    """The chosen period [start, end) from the query, this month so far by default."""
    default = {"start": today.replace(day=1), "end": today}
    form = PeriodForm(request.GET if "start" in request.GET else None, initial=default)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"] + timedelta(days=1)
    return form, default["start"], default["end"] + timedelta(days=1)


@staff_required
def revenue(request, company_id: int):
    company = get_company(company_id)
    today = company_today(company)
    series = ledger_reports.revenue_by_month(company, today, MONTHS)
    form, start, end = _period(request, today)
    groups = ledger_reports.revenue_by_group(company, start, end)
    if _wants_csv(request):
        by = request.GET.get("by", "month")
        if by == "group":
            return csv_response(
                f"revenue-by-group-{company.pk}-{start}-{end - timedelta(days=1)}.csv",
                ["group", "currency", "invoices", "net", "tax", "gross"],
                [
                    [
                        g.group,
                        g.currency,
                        g.invoices,
                        format_plain(g.net, g.currency),
                        format_plain(g.tax, g.currency),
                        format_plain(g.gross, g.currency),
                    ]
                    for g in groups
                ],
            )
        return csv_response(
            f"revenue-by-month-{company.pk}-{today}.csv",
            ["month", "currency", "net"],
            [
                [m.strftime("%Y-%m"), s.currency, format_plain(a, s.currency)]
                for s in series
                for m, a in zip(s.months, s.amounts, strict=True)
            ],
        )
    chart_list = [
        charts.bars(f"Revenue by month in {s.currency} (net of tax)",
                    _labels(s.months), s.amounts, s.currency)
        for s in series
    ]  # fmt: skip
    return _report(request, company, "revenue", {
        "series": series, "month_rows": _month_rows(series), "charts": chart_list,
        "form": form, "groups": groups, "start": start, "last": end - timedelta(days=1),
        "presets": _presets(today),
        "query": request.GET.urlencode(),
    })  # fmt: skip


# --- Tax --------------------------------------------------------------------------------


@staff_required
def tax(request, company_id: int):
    company = get_company(company_id)
    today = company_today(company)
    form, start, end = _period(request, today)
    rows = ledger_reports.tax_by_rate(company, start, end)
    if _wants_csv(request):
        return csv_response(
            f"tax-{company.pk}-{start}-{end - timedelta(days=1)}.csv",
            ["currency", "country", "rate", "rule", "lines", "net", "tax"],
            [
                [
                    r.currency,
                    r.country,
                    f"{r.rate:f}",
                    r.rule,
                    r.lines,
                    format_plain(r.net, r.currency),
                    format_plain(r.tax, r.currency),
                ]
                for r in rows
            ],
        )
    return _report(request, company, "tax", {
        "form": form, "rows": rows, "start": start, "last": end - timedelta(days=1),
        "presets": _presets(today),
        "query": request.GET.urlencode(),
    })  # fmt: skip


# --- MRR and churn ----------------------------------------------------------------------


@staff_required
def mrr(request, company_id: int):
    company = get_company(company_id)
    today = company_today(company)
    months = ledger_reports.month_starts(today, MONTHS)
    now = service_reports.mrr(company)
    moves = service_reports.movements(company, months)
    if _wants_csv(request):
        return csv_response(
            f"mrr-{company.pk}-{today}.csv",
            ["month", "currency", "mrr at start", "new", "churned", "net",
             "churned services", "churn rate %"],
            [[m.month.strftime("%Y-%m"), c, format_plain(m.start, c), format_plain(m.new, c),
              format_plain(m.churned, c), format_plain(m.net, c), m.churned_services,
              _percent(m.churn_rate)]
             for c, rows in moves.items() for m in rows],
        )  # fmt: skip
    chart_list = [
        charts.line(
            f"MRR in force at the start of each month in {c}",
            _labels([m.month for m in rows]),
            [m.start for m in rows],
            c,
        )
        for c, rows in moves.items()
    ]
    for rows in moves.values():
        for m in rows:
            m.percent = _percent(m.churn_rate)
    tables = [(c, rows, now.get(c, 0)) for c, rows in moves.items()]
    return _report(request, company, "mrr", {
        "now": sorted(now.items()), "tables": tables, "charts": chart_list,
    })  # fmt: skip


def _percent(rate) -> str:
    return "" if rate is None else f"{float(rate) * 100:.1f}"


# --- Forecast ---------------------------------------------------------------------------


@staff_required
def forecast_report(request, company_id: int):
    company = get_company(company_id)
    if request.method == "POST":
        return _queue_forecast(request, company, "web:report_forecast")
    upcoming = forecast.latest(company)
    if _wants_csv(request) and upcoming is not None:
        kinds = list(forecast.KINDS.values())
        currencies = sorted({c for d in upcoming.days for f in d.figures.values()
                             for c in f.amounts})  # fmt: skip
        header = ["day", *kinds,
                  *(f"{k} {c}" for k in ("invoices", "charges") for c in currencies)]  # fmt: skip
        return csv_response(
            f"forecast-{company.pk}-run-{upcoming.run.pk}.csv",
            header,
            [
                [
                    d.day.isoformat(),
                    *(d.figures[k].count for k in kinds),
                    *(
                        format_plain(d.figures[k].amounts.get(c, 0), c)
                        for k in ("invoices", "charges")
                        for c in currencies
                    ),
                ]
                for d in upcoming.days
            ],
        )
    chart_list = []
    if upcoming is not None:
        labels = [d.day.strftime("%-d\n%b") if i == 0 or d.day.day == 1 else
                  d.day.strftime("%-d") for i, d in enumerate(upcoming.days)]  # fmt: skip
        for currency in sorted({c for d in upcoming.days for c in d.figures["invoices"].amounts}):
            amounts = [d.figures["invoices"].amounts.get(currency, 0) for d in upcoming.days]
            chart_list.append(charts.bars(f"Invoices to be issued per day in {currency}",
                                          labels, amounts, currency))  # fmt: skip
    return _report(request, company, "forecast", {
        "forecast": upcoming, "totals": _forecast_totals(upcoming), "charts": chart_list,
        "waiting": forecast.waiting(company),
    })  # fmt: skip


# --- Shared -----------------------------------------------------------------------------

REPORTS = [
    ("ageing", "Receivables ageing"),
    ("revenue", "Revenue"),
    ("tax", "Tax"),
    ("mrr", "MRR and churn"),
    ("forecast", "Next 30 days"),
]


def _report(request, company, name: str, context: dict):
    return render(request, f"web/reports/{name}.html", {
        "company": company, "report": name, "reports": REPORTS,
        "title": dict(REPORTS)[name], **context,
    })  # fmt: skip


@staff_required
def reports_home(request):
    """The nav's Reports: the one company's first report, or the list of companies."""
    mine = of_my_companies(request, companies(), "pk")
    first = mine.first()
    if first is not None and mine.count() == 1:
        return redirect("web:report_ageing", company_id=first.pk)
    return redirect("web:company_list")
