"""renewal_invoices: invoice every service period (and recurring invoice period) whose
start is at most `invoice_days_before_renewal` days away, catching up missed periods one
invoice per period. `invoice_services_together` puts a client's services renewing on the
same day (and in the same currency) on one invoice. With `invoice_suspended_services` off,
periods starting while a service is suspended are recorded as skipped, never billed: the
decision waits for the period's start (a service unsuspended before then is billed), and a
caught-up period that began before the suspension is billed.

The unique (service, period) row written with each invoice is the idempotency guard."""

from collections import defaultdict
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max

from groupbill import bulk_sql
from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE, client_groups
from groupbill.automation.view import CompanyView
from groupbill.billing import bulk, lock_objects, recurring
from groupbill.billing.models import RecurringInvoice, shown_number
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.models import Client
from groupbill.periods import local_date, period, period_start
from groupbill.services import locks
from groupbill.services import pricing as prices
from groupbill.services.models import BilledPeriod, Service, ServiceOption, ServiceStatus

NAME = "renewal_invoices"


def _due_periods(anchor, term, n, horizon, stop):
    """(n, start, end) of every period from n on that starts by `horizon`."""
    while True:
        start, end = period(anchor, term, n)
        if start > horizon or (stop is not None and start >= stop):
            return
        yield n, start, end
        n += 1


Items = list[tuple[int, int]]  # (service id, period index) on one invoice


class _Due:
    """What invoicing a period needs of a service (read as a tuple, not a model)."""

    FIELDS = ("pk", "package_id", "pricing_id", "quantity", "status", "suspended_at",
              "anchor_date", "next_period", "renew_date")  # fmt: skip
    __slots__ = FIELDS

    def __init__(self, *values):
        for name, value in zip(self.FIELDS, values, strict=True):
            setattr(self, name, value)


def _options(service_ids) -> dict[int, prices.OptionChoice]:
    choices: dict[int, prices.OptionChoice] = defaultdict(dict)
    for service_id, option_id, value_id, quantity in ServiceOption.objects.filter(
        service_id__in=service_ids
    ).values_list("service_id", "option_id", "value_id", "quantity"):
        choices[service_id][option_id] = (value_id, quantity)
    return choices


def _invoice_many(view: CompanyView, batches: list[tuple[int, Items]]) -> list[dict | bool]:
    """Invoice (or skip) each batch's (service id, period) pairs on one invoice of its
    client, all in one transaction and a few statements: the clients and services locked
    in the one order, invoices issued in bulk (gap-free numbers), billed periods and the
    services' next periods written in bulk. Per batch: what was done, or False when a
    run got there first."""
    client_ids = sorted({client_id for client_id, _ in batches})
    service_ids = sorted({sid for _, items in batches for sid, _ in items})
    with transaction.atomic():
        lock_objects.clients(client_ids)
        services = {row[0]: _Due(*row) for row in locks.service_rows(service_ids, _Due.FIELDS)}
        # A few packages and prices serve the whole batch.
        packages = Package.objects.in_bulk({s.package_id for s in services.values()})
        pricings = PackagePrice.objects.in_bulk({s.pricing_id for s in services.values()})
        clients = Client.objects.in_bulk(client_ids)
        options = _options(service_ids)
        catalog = prices.OptionCatalog.load(list(options.values()))
        # A billed period's number goes on from the service's last one. It is the anchored
        # index `n` until a term change re-anchors the service (its index starts again at 0,
        # and reusing that number would hit the unique row of a period billed long ago).
        last = dict(
            BilledPeriod.objects.filter(service_id__in=service_ids)
            .values("service_id")
            .annotate(last=Max("period"))
            .values_list("service_id", "last")
        )
        drafts, rows, outcomes, changed = [], [], [], {}
        for client_id, items in batches:
            client = clients[client_id]
            show_dates = view.value("show_option_date_ranges", client.group_id)
            bill_suspended = view.value("invoice_suspended_services", client.group_id)
            lines, billed, currency = [], [], None
            for service_id, n in sorted(items, key=lambda i: (i[1], i[0])):
                service = services[service_id]
                if service.next_period != n:
                    continue  # dealt with already
                pricing = pricings[service.pricing_id]
                start, end = period(service.anchor_date, pricing.term, n)
                suspended = service.status == ServiceStatus.SUSPENDED and not bill_suspended
                if suspended and start > view.today:
                    continue  # suspended since planning: decided on the period's start
                # Skipped only if it started while suspended, i.e. the suspension is older
                # than the period's first day: a caught-up period that began before it is
                # billed.
                skip = suspended and (
                    service.suspended_at is None
                    or local_date(service.suspended_at, view.company.timezone) < start
                )
                number = last[service.pk] = last.get(service.pk, n - 1) + 1
                billed.append(BilledPeriod(service_id=service.pk, period=number, start=start,
                                           end=end, skipped=skip))  # fmt: skip
                if not skip:
                    currency = pricing.currency
                    parts = prices.parts(packages[service.package_id], pricing, service.quantity,
                                         options.get(service.pk, {}), catalog)  # fmt: skip
                    lines += prices.period_lines(parts, service_id=service.pk, start=start,
                                                 end=end, language=client.language,
                                                 show_option_dates=show_dates)  # fmt: skip
                service.next_period = n + 1
                service.renew_date = end
                changed[service.pk] = service
            rows += billed
            if not billed:
                outcomes.append(False)
            elif lines:
                due = min(r.start for r in billed if not r.skipped)
                drafts.append((bulk.Draft(client_id, currency, lines, view.today, due), billed))
                outcomes.append(len(drafts) - 1)
            else:
                outcomes.append({"skipped_periods": len(billed)})
        issued = bulk.issue_drafts(view.company, [d for d, _ in drafts], actor=ENGINE)
        for invoice, (_, billed) in zip(issued, drafts, strict=True):
            for row in billed:
                row.invoice_id = None if row.skipped else invoice.pk
        # A concurrent run that billed one of these periods makes this fail as a whole
        # (numbers too): the engine then goes batch by batch.
        bulk_sql.insert(BilledPeriod, rows)
        bulk_sql.update(Service, list(changed.values()), ["next_period", "renew_date"])
    return [
        {"invoice": shown_number(issued[o].number), "amount": issued[o].total}
        if isinstance(o, int)
        else o
        for o in outcomes
    ]


def _invoice(view: CompanyView, client_id: int, items: Items) -> dict | bool:
    """One batch alone: when another run billed some of its periods first, nothing."""
    try:
        with transaction.atomic():
            return _invoice_many(view, [(client_id, items)])[0]
    except IntegrityError:
        return False


def apply_batch(view: CompanyView, actions: list[Action]) -> list:
    """The engine's set-based path: every service batch of `actions` at once (recurring
    templates one by one, in the same transaction)."""
    batched = [a for a in actions if a.payload is not None]
    done = dict(
        zip(
            (a.key for a in batched),
            _invoice_many(view, [(a.client_id, a.payload) for a in batched]),
            strict=True,
        )
    )
    return [done[a.key] if a.key in done else a.apply() for a in actions]


def _due_templates(view: CompanyView):
    horizon = view.today + timedelta(days=view.max_of("invoice_days_before_renewal"))
    return RecurringInvoice.objects.filter(
        client__company=view.company, active=True, renew_date__lte=horizon
    )


def _due_services(view: CompanyView):
    horizon_max = view.today + timedelta(days=view.max_of("invoice_days_before_renewal"))
    return Service.objects.filter(
        client__company=view.company,
        status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED],
        renew_date__isnull=False,
        renew_date__lte=horizon_max,
    ).exclude(cancel_at__isnull=False, cancel_at__lte=F("renew_date"))


def due(view: CompanyView):
    return [_due_services(view).values("client_id"), _due_templates(view).values("client_id")]


def _recurring(view: CompanyView, groups: dict[int, int]) -> list[Action]:
    actions = []
    for template in view.scoped(_due_templates(view)):
        lead = view.value("invoice_days_before_renewal", groups[template.client_id])
        n, start = template.next_period, template.renew_date
        term = recurring.term_of(template)
        while start <= view.today + timedelta(days=lead):

            def apply(template_id=template.pk, client_id=template.client_id, n=n) -> bool:
                with transaction.atomic():
                    lock_objects.client(client_id)  # the one order: the client first
                    t = RecurringInvoice.objects.select_for_update().get(pk=template_id)
                    if t.next_period != n:
                        return False
                    invoice = recurring.issue_period(t, n, today=view.today, actor=ENGINE)
                return {"invoice": shown_number(invoice.number), "amount": invoice.total}

            summary = f"Recurring invoice #{template.pk}, period from {start}"
            actions.append(
                Action(
                    f"recurring:{template.pk}:{n}",
                    summary,
                    apply,
                    template.client_id,
                    currency=template.currency,
                )
            )
            n += 1
            start = period_start(template.anchor_date, term, n)
    return actions


def plan(view: CompanyView) -> list[Action]:
    groups = client_groups(view)
    candidates = view.scoped(_due_services(view)).order_by("pk")
    pricings = PackagePrice.objects.in_bulk(
        candidates.order_by().values_list("pricing_id", flat=True).distinct()
    )
    batches: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for pk, client_id, status, pricing_id, anchor, n, cancel_at, parent_cancel_at in (
        candidates.values_list("pk", "client_id", "status", "pricing_id", "anchor_date",
                               "next_period", "cancel_at", "parent__cancel_at")
    ):  # fmt: skip
        pricing = pricings[pricing_id]
        group_id = groups[client_id]
        horizon = view.today + timedelta(days=view.value("invoice_days_before_renewal", group_id))
        if status == ServiceStatus.SUSPENDED and not view.value(
            "invoice_suspended_services", group_id
        ):
            # Only a period that *starts* while suspended is skipped: wait for its start, the
            # service may be unsuspended before (then it is invoiced, late but due as usual).
            horizon = min(horizon, view.today)
        together = view.value("invoice_services_together", group_id)
        # An addon is cancelled with its parent, so it ends by the parent's scheduled end too.
        stop = min((d for d in (cancel_at, parent_cancel_at) if d is not None), default=None)
        for k, start, _ in _due_periods(anchor, pricing.term, n, horizon, stop):
            batch = (client_id, pricing.currency, start)
            if not together:
                batch = (*batch, pk)
            batches[batch].append((pk, k))
    actions = []
    for (client_id, currency, start, *_), items in sorted(batches.items(), key=lambda b: b[0]):
        ids = "+".join(str(sid) for sid, _ in items)
        actions.append(
            Action(
                f"renew:{client_id}:{currency}:{start}:{ids}",
                f"Invoice {len(items)} service period(s) starting {start} for client #{client_id}",
                lambda client_id=client_id, items=items: _invoice(view, client_id, items),
                client_id,
                currency=currency,
                detail={"services": [sid for sid, _ in items], "period_start": str(start)},
                payload=items,
            )
        )
    return actions + _recurring(view, groups)
