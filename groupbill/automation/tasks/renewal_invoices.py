"""renewal_invoices: invoice every service period (and recurring invoice period) whose
start is at most `invoice_days_before_renewal` days away, catching up missed periods one
invoice per period. `invoice_services_together` puts a client's services renewing on the
same day (and in the same currency) on one invoice. With `invoice_suspended_services` off,
periods starting while a service is suspended are recorded as skipped, never billed: the
decision waits for the period's start (a service unsuspended before then is billed), and a
caught-up period that began before the suspension is billed.

The unique (service, period) row written with each invoice is the idempotency guard."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q

from groupbill import bulk_sql
from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE
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

    def __init__(self, pk, package_id, pricing_id, quantity, status, suspended_at,
                 anchor_date, next_period, renew_date):  # fmt: skip
        # Spelled out: a loop of setattr over FIELDS costs more, a hundred thousand times.
        self.pk, self.package_id, self.pricing_id = pk, package_id, pricing_id
        self.quantity, self.status, self.suspended_at = quantity, status, suspended_at
        self.anchor_date, self.next_period, self.renew_date = anchor_date, next_period, renew_date


def _options(service_ids) -> dict[int, prices.OptionChoice]:
    choices: dict[int, prices.OptionChoice] = defaultdict(dict)
    for service_id, option_id, value_id, quantity in ServiceOption.objects.filter(
        service_id__one_of=service_ids
    ).values_list("service_id", "option_id", "value_id", "quantity"):
        choices[service_id][option_id] = (value_id, quantity)
    return choices


def _last_periods(service_ids) -> dict[int, int]:
    """service id -> the number of its last billed period. A billed period's number goes
    on from the service's last one. It is the anchored index `n` until a term change
    re-anchors the service (its index starts again at 0, and reusing that number would hit
    the unique row of a period billed long ago)."""
    return dict(
        BilledPeriod.objects.filter(service_id__one_of=service_ids)
        .order_by()  # the default ordering (by service) would join the services
        .values("service_id")
        .annotate(last=Max("period"))
        .values_list("service_id", "last")
    )


@dataclass
class _Loaded:
    """What invoicing the batches reads: the clients locked, then their services (in the
    one order), and what a few queries load for all of them. `last` and `changed` follow
    the services as their periods are billed."""

    services: dict[int, _Due]
    packages: dict[int, Package]
    pricings: dict[int, PackagePrice]
    languages: dict[int, str]  # client id -> its language
    options: dict[int, prices.OptionChoice]
    catalog: prices.OptionCatalog
    last: dict[int, int]
    changed: dict[int, _Due] = field(default_factory=dict)
    priced: dict[tuple, list[prices.Part]] = field(default_factory=dict)

    def parts_of(self, service: _Due) -> list[prices.Part]:
        """The service's priced parts; services configured alike share them."""
        options = self.options.get(service.pk, {})
        key = (service.package_id, service.pricing_id, service.quantity, *sorted(options.items()))
        if key not in self.priced:
            self.priced[key] = prices.parts(self.packages[service.package_id],
                                            self.pricings[service.pricing_id], service.quantity,
                                            options, self.catalog)  # fmt: skip
        return self.priced[key]


def _load(client_ids: list[int], service_ids: list[int]) -> _Loaded:
    lock_objects.clients(client_ids)
    services = {row[0]: _Due(*row) for row in locks.service_rows(service_ids, _Due.FIELDS)}
    # A few packages and prices serve the whole batch.
    packages = Package.objects.in_bulk({s.package_id for s in services.values()})
    pricings = PackagePrice.objects.in_bulk({s.pricing_id for s in services.values()})
    languages = dict(Client.objects.filter(pk__one_of=client_ids).values_list("pk", "language"))
    options = _options(service_ids)
    catalog = prices.OptionCatalog.load(list(options.values()))
    return _Loaded(services, packages, pricings, languages, options, catalog,
                   _last_periods(service_ids))  # fmt: skip


def _skipped(view: CompanyView, service: _Due, start) -> bool:
    """A period of a suspended service is skipped only if it started while suspended, i.e.
    the suspension is older than the period's first day: a caught-up period that began
    before it is billed."""
    return service.suspended_at is None or (
        local_date(service.suspended_at, view.company.timezone) < start
    )


def _bill_batch(view: CompanyView, loaded: _Loaded, client_id: int, items: Items):
    """The batch's periods still to bill, in period order: (their billed-period rows,
    skipped or not; the invoice lines of those billed; their currency). Each service moves
    on to its next period."""
    settings = view.for_client(client_id)
    show_dates = settings.value("show_option_date_ranges")
    bill_suspended = settings.value("invoice_suspended_services")
    lines, billed, currency = [], [], None
    for service_id, n in sorted(items, key=lambda i: (i[1], i[0])):
        service = loaded.services[service_id]
        if service.next_period != n:
            continue  # dealt with already
        pricing = loaded.pricings[service.pricing_id]
        start, end = period(service.anchor_date, pricing.term, n)
        suspended = service.status == ServiceStatus.SUSPENDED and not bill_suspended
        if suspended and start > view.today:
            continue  # suspended since planning: decided on the period's start
        skip = suspended and _skipped(view, service, start)
        number = loaded.last[service.pk] = loaded.last.get(service.pk, n - 1) + 1
        billed.append({"service_id": service.pk, "period": number, "start": start,
                       "end": end, "skipped": skip})  # fmt: skip
        if not skip:
            currency = pricing.currency
            parts = loaded.parts_of(service)
            lines += prices.period_lines(parts, service_id=service.pk, start=start, end=end,
                                         language=loaded.languages[client_id],
                                         show_option_dates=show_dates)  # fmt: skip
        service.next_period = n + 1
        service.renew_date = end
        loaded.changed[service.pk] = service
    return billed, lines, currency


def _write(view: CompanyView, loaded: _Loaded, drafts: list, rows: list[dict]) -> list:
    """Issue the drafts (gap-free numbers) with the billed periods, each pointing at its
    invoice, and the services' next periods: in bulk. The invoices issued."""

    def periods(invoice_ids: list[int]) -> None:
        for invoice_id, (_, billed) in zip(invoice_ids, drafts, strict=True):
            for row in billed:
                row["invoice_id"] = None if row["skipped"] else invoice_id
        # A concurrent run that billed one of these periods makes this fail as a whole
        # (invoices too): the engine then goes batch by batch.
        bulk_sql.insert_values(BilledPeriod, rows)
        moved = [(s.next_period, s.renew_date, s.pk) for s in loaded.changed.values()]
        bulk_sql.update_values(Service, ["next_period", "renew_date"], moved)

    if not drafts:  # skipped periods only
        periods([])
        return []
    return bulk.issue_drafts(view.company, [d for d, _ in drafts], actor=ENGINE, along=periods)


def _invoice_many(view: CompanyView, batches: list[tuple[int, Items]]) -> list[dict | bool]:
    """Invoice (or skip) each batch's (service id, period) pairs on one invoice of its
    client, all in one transaction and a few statements: the clients and services locked
    in the one order, invoices issued in bulk (gap-free numbers), billed periods and the
    services' next periods written in bulk. Per batch: what was done, or False when a
    run got there first."""
    client_ids = sorted({client_id for client_id, _ in batches})
    service_ids = sorted({sid for _, items in batches for sid, _ in items})
    # No savepoint of its own (two statements): a failure here fails the transaction of the
    # batch, or of the one action, that it runs in, as a whole.
    with transaction.atomic(savepoint=False):
        loaded = _load(client_ids, service_ids)
        drafts, rows, outcomes = [], [], []
        for client_id, items in batches:
            billed, lines, currency = _bill_batch(view, loaded, client_id, items)
            rows += billed
            if not billed:
                outcomes.append(False)
            elif lines:
                due = min(r["start"] for r in billed if not r["skipped"])
                drafts.append((bulk.Draft(client_id, currency, lines, view.today, due), billed))
                outcomes.append(len(drafts) - 1)
            else:
                outcomes.append({"skipped_periods": len(billed)})
        issued = _write(view, loaded, drafts, rows)
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
    """The engine's set-based path: every service batch of `actions` at once."""
    return _invoice_many(view, [(a.client_id, a.payload) for a in actions])


def _due_templates(view: CompanyView):
    horizon = view.today + timedelta(days=view.max_of("invoice_days_before_renewal"))
    return RecurringInvoice.objects.filter(
        client__company=view.company, active=True, renew_date__lte=horizon
    )


def _due_services(view: CompanyView):
    # Each group's own lead: with the largest for all, the clients of groups with a shorter
    # one looked due every day before their renewal, and were planned for nothing.
    within_lead = Q()
    for lead, group_ids in view.groups_by("invoice_days_before_renewal").items():
        within_lead |= Q(client__group_id__in=group_ids,
                         renew_date__lte=view.today + timedelta(days=lead))  # fmt: skip
    return Service.objects.filter(
        within_lead,
        client__company=view.company,
        status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED],
        renew_date__isnull=False,
    ).exclude(cancel_at__isnull=False, cancel_at__lte=F("renew_date"))


def due(view: CompanyView):
    return [_due_services(view).values("client_id"), _due_templates(view).values("client_id")]


def _issue_recurring(view: CompanyView, template_id: int, client_id: int, n: int):
    with transaction.atomic():
        lock_objects.client(client_id)  # the one order: the client first
        t = RecurringInvoice.objects.select_for_update().get(pk=template_id)
        if t.next_period != n:
            return False
        invoice = recurring.issue_period(t, n, today=view.today, actor=ENGINE)
    return {"invoice": shown_number(invoice.number), "amount": invoice.total}


def _recurring(view: CompanyView) -> list[Action]:
    actions = []
    for template in view.scoped(_due_templates(view)):
        lead = view.for_client(template.client_id).value("invoice_days_before_renewal")
        n, start = template.next_period, template.renew_date
        term = recurring.term_of(template)
        while start <= view.today + timedelta(days=lead):
            summary = f"Recurring invoice #{template.pk}, period from {start}"
            actions.append(
                Action(
                    f"recurring:{template.pk}:{n}",
                    summary,
                    partial(_issue_recurring, view, template.pk, template.client_id, n),
                    template.client_id,
                    currency=template.currency,
                )
            )
            n += 1
            start = period_start(template.anchor_date, term, n)
    return actions


def _horizon(view: CompanyView, client_id: int, status: str):
    """The last day a period of this client's service may start on to be invoiced today."""
    settings = view.for_client(client_id)
    horizon = view.today + timedelta(days=settings.value("invoice_days_before_renewal"))
    if status == ServiceStatus.SUSPENDED and not settings.value("invoice_suspended_services"):
        # Only a period that *starts* while suspended is skipped: wait for its start, the
        # service may be unsuspended before (then it is invoiced, late but due as usual).
        horizon = min(horizon, view.today)
    return horizon


def _candidates(view: CompanyView) -> list[tuple]:
    """The view's services that may have a period to invoice, as (id, client id, status,
    pricing id, anchor, next period, the day it ends by): those renewing within the
    longest lead of any group (`_horizon` applies each client's own).

    By the view's clients' ids, not through a join with the clients: joined, the plan
    of a shard read every client and service of the company (a shard cost more as the
    book grew)."""
    horizon = view.today + timedelta(days=view.max_of("invoice_days_before_renewal"))
    rows = list(
        Service.objects.filter(
            client_id__one_of=sorted(view.client_group),
            status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED],
            renew_date__lte=horizon,
        )
        .exclude(cancel_at__isnull=False, cancel_at__lte=F("renew_date"))
        .order_by("pk")
        .values_list("pk", "client_id", "status", "pricing_id", "anchor_date", "next_period",
                     "cancel_at", "parent_id")
    )  # fmt: skip
    parent_ids = sorted({row[-1] for row in rows if row[-1] is not None})
    parents_end = {}
    if parent_ids:  # an addon is cancelled with its parent: it ends by the parent's end too
        parents_end = dict(
            Service.objects.filter(pk__one_of=parent_ids, cancel_at__isnull=False)
            .order_by()
            .values_list("pk", "cancel_at")
        )
    return [
        (*row[:6], min((d for d in (row[6], parents_end.get(row[7])) if d is not None),
                       default=None))
        for row in rows
    ]  # fmt: skip


def _batches(view: CompanyView) -> dict[tuple, Items]:
    """The due periods of the view's services, batched by what goes on one invoice:
    (client id, currency, period start[, service id unless `invoice_services_together`])
    -> [(service id, period index)]."""
    candidates = _candidates(view)
    # Their prices, once the rows are read: a query of its own repeated the due query.
    pricings = PackagePrice.objects.in_bulk({row[3] for row in candidates})
    batches: dict[tuple, Items] = defaultdict(list)
    for pk, client_id, status, pricing_id, anchor, n, stop in candidates:
        pricing = pricings[pricing_id]
        horizon = _horizon(view, client_id, status)
        together = view.for_client(client_id).value("invoice_services_together")
        for k, start, _ in _due_periods(anchor, pricing.term, n, horizon, stop):
            batch = (client_id, pricing.currency, start)
            if not together:
                batch = (*batch, pk)
            batches[batch].append((pk, k))
    return batches


def plan(view: CompanyView) -> list[Action]:
    actions = []
    # One action per batch, in the batches' order (their keys are unique: sorted by key).
    for (client_id, currency, start, *_), items in sorted(_batches(view).items()):
        ids = "+".join(str(sid) for sid, _ in items)
        actions.append(
            Action(
                f"renew:{client_id}:{currency}:{start}:{ids}",
                f"Invoice {len(items)} service period(s) starting {start} for client #{client_id}",
                partial(_invoice, view, client_id, items),
                client_id,
                currency=currency,
                detail={"services": [sid for sid, _ in items], "period_start": str(start)},
                payload=items,
            )
        )
    return actions + _recurring(view)
