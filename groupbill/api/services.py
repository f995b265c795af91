"""Services: ordering (with the first invoice), their lifecycle, changes and history.

Each lifecycle action is a POST on a sub-resource that answers the service. The day an
action counts as "today" (`start_on`, `today`) defaults to the company's local date.
`client_id` names the client the service is for: unknown, it is a 404 like an id in the
path. Other ids in a body (`pricing_id`, `parent_id`) are 422 on their field. `options`
maps option ids to the chosen value: `{"7": {"value_id": 21, "quantity": 2}}`.
"""

import contextlib
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictStr

from groupbill.api.auth import actor, key_company
from groupbill.api.common import BodyId, Id, PageQuery, StrictBody, paginate, referenced
from groupbill.api.fields import Day, WholeNumber, whole_number
from groupbill.bounds import check_date
from groupbill.catalog.queries import get_price
from groupbill.clients.queries import get_client
from groupbill.clock import frozen_at, now
from groupbill.companies.queries import company_today
from groupbill.listing import filtered
from groupbill.services import actions
from groupbill.services.models import Service, ServiceChange, ServiceStatus
from groupbill.services.queries import changes, get_change, get_service, services
from groupbill.services.shared import MAX_QUANTITY

router = Router(tags=["services"])

StatusValue = Literal[tuple(ServiceStatus.values)]  # type: ignore[valid-type]


Units = whole_number(1, MAX_QUANTITY)


class OptionChoiceIn(StrictBody):
    value_id: BodyId
    quantity: WholeNumber = 1


Options = dict[Id, OptionChoiceIn]  # option id (a JSON key, so text) -> the value chosen


class ServiceIn(StrictBody):
    client_id: BodyId
    pricing_id: BodyId
    quantity: Units = 1
    options: Options = {}
    parent_id: BodyId | None = None
    start_on: Day | None = None


class SuspendIn(StrictBody):
    reason: StrictStr
    today: Day | None = None


class UnsuspendIn(StrictBody):
    reason: StrictStr = ""
    today: Day | None = None


class CancelIn(StrictBody):
    when: Literal["now", "end_of_term"]
    reason: StrictStr = ""
    today: Day | None = None


class ChangeIn(StrictBody):
    """What to change; what is left out stays. `options` replaces the whole choice."""

    pricing_id: BodyId | None = None
    quantity: Units | None = None
    options: Options | None = None
    today: Day | None = None


class ChangeCancelIn(StrictBody):
    reason: StrictStr


class PricingOut(Schema):
    id: int
    unit: str
    count: int
    currency: str
    price: int


class ServiceOptionOut(Schema):
    option_id: int
    option: str
    value_id: int
    value: str
    quantity: int


class ServiceOut(Schema):
    id: int
    client_id: int
    package_id: int
    package_name: str
    pricing: PricingOut
    parent_id: int | None
    quantity: int
    status: str
    anchor_date: date | None
    renew_date: date | None
    last_renewed_on: date | None
    suspension_reason: str
    suspended_by: str
    cancel_at: date | None
    canceled_at: datetime | None
    renewal_failed: bool
    renewal_attempts: int
    options: list[ServiceOptionOut]


class ServiceOrdered(ServiceOut):
    first_invoice_id: int


class ServiceList(Schema):
    items: list[ServiceOut]
    count: int


class ChosenOptionOut(Schema):
    option_id: int
    value_id: int
    quantity: int


class ConfigurationOut(Schema):
    package_id: int
    pricing_id: int
    quantity: int
    options: list[ChosenOptionOut]


class ChangeOut(Schema):
    id: int
    service_id: int
    status: str
    old: ConfigurationOut
    new: ConfigurationOut
    invoice_id: int | None
    credit_amount: int
    currency: str
    actor: str
    created_at: datetime
    resolved_at: datetime | None


class ChangeList(Schema):
    items: list[ChangeOut]
    count: int


class EventOut(Schema):
    id: int
    at: datetime
    actor: str
    event: str
    from_status: str
    to_status: str
    reason: str


class EventList(Schema):
    items: list[EventOut]
    count: int


_FIELDS = ("id", "client_id", "package_id", "parent_id", "quantity", "status", "anchor_date",
           "renew_date", "last_renewed_on", "suspension_reason", "suspended_by", "cancel_at",
           "canceled_at", "renewal_failed", "renewal_attempts")  # fmt: skip


def service_out(service: Service) -> dict[str, Any]:
    pricing = service.pricing
    return {
        **{f: getattr(service, f) for f in _FIELDS},
        "package_name": service.package.name,
        "pricing": {f: getattr(pricing, f) for f in ("id", "unit", "count", "currency", "price")},
        "options": [
            {
                "option_id": o.option_id,
                "option": o.option.name,
                "value_id": o.value_id,
                "value": o.value.name,
                "quantity": o.quantity,
            }
            for o in service.options.all()
        ],
    }


def _configuration(snapshot: dict[str, Any]) -> dict[str, Any]:
    chosen = sorted((int(k), v) for k, v in snapshot["options"].items())
    return {
        "package_id": snapshot["package_id"],
        "pricing_id": snapshot["pricing_id"],
        "quantity": snapshot["quantity"],
        "options": [{"option_id": k, "value_id": v[0], "quantity": v[1]} for k, v in chosen],
    }


def change_out(change: ServiceChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "service_id": change.service_id,
        "status": change.status,
        "old": _configuration(change.old),
        "new": _configuration(change.new),
        "invoice_id": change.invoice_id,
        "credit_amount": change.credit_amount,
        "currency": change.service.pricing.currency,
        "actor": change.actor,
        "created_at": change.created_at,
        "resolved_at": change.resolved_at,
    }


def _options(options: dict[int, OptionChoiceIn] | None):
    if options is None:
        return None
    return {option_id: (c.value_id, c.quantity) for option_id, c in options.items()}


def _today(service: Service, day: date | None) -> date:
    return day or company_today(service.client.company)


def _on_day(service: Service, day: date | None):
    """The action counts as done on `day` (the company's local date): the clock reads that
    day at the present local time of day, so `suspended_at` and what the engine later
    reckons from it follow. Today, or none given: the clock is left alone."""
    company = service.client.company
    today = company_today(company)
    if day is None or day == today:
        return contextlib.nullcontext()
    check_date(day, "today")
    zone = ZoneInfo(company.timezone)
    local = now().astimezone(zone)
    return frozen_at(datetime.combine(day, local.time(), tzinfo=zone))


@router.get("/services", response=ServiceList)
def list_services(
    request: HttpRequest,
    page: PageQuery,
    client_id: Id | None = None,
    status: StatusValue | None = None,
):
    queryset = filtered(services(), (("client_id", client_id), ("status", status)))
    if key_company(request) is not None:
        queryset = queryset.filter(client__company_id=key_company(request))
    return paginate(queryset, page, service_out)


@router.post("/services", response={201: ServiceOrdered})
def order_service(request: HttpRequest, body: ServiceIn):
    """Order a service: it starts pending, with an issued invoice for its first period (and
    setup fees); provision it once that is settled."""
    client = get_client(body.client_id)
    pricing = referenced(get_price, "pricing_id", body.pricing_id)
    parent = referenced(get_service, "parent_id", body.parent_id) if body.parent_id else None
    service = actions.add_service(
        client,
        pricing=pricing,
        start_on=body.start_on or company_today(client.company),
        actor=actor(request),
        quantity=body.quantity,
        options=_options(body.options),
        parent=parent,
    )
    out = service_out(get_service(service.pk))
    return Status(201, out | {"first_invoice_id": service.first_invoice.pk})


@router.get("/services/{service_id}", response=ServiceOut)
def read_service(request: HttpRequest, service_id: Id):
    return service_out(get_service(service_id))


@router.post("/services/{service_id}/provision", response=ServiceOut)
def provision_service(request: HttpRequest, service_id: Id):
    actions.provision(get_service(service_id), actor=actor(request))
    return service_out(get_service(service_id))


@router.post("/services/{service_id}/suspend", response=ServiceOut)
def suspend_service(request: HttpRequest, service_id: Id, body: SuspendIn):
    """Suspend by staff; `today` (default the company's date) is the day it counts from."""
    service = get_service(service_id)
    with _on_day(service, body.today):
        actions.suspend(service, actor=actor(request), reason=body.reason)
    return service_out(get_service(service_id))


@router.post("/services/{service_id}/unsuspend", response=ServiceOut)
def unsuspend_service(request: HttpRequest, service_id: Id, body: UnsuspendIn):
    """Unsuspend; `reason` goes to the service's history, `today` as for suspend."""
    service = get_service(service_id)
    with _on_day(service, body.today):
        actions.unsuspend(service, actor=actor(request), reason=body.reason)
    return service_out(get_service(service_id))


@router.post("/services/{service_id}/cancel", response=ServiceOut)
def cancel_service(request: HttpRequest, service_id: Id, body: CancelIn):
    """`now`: cancelled at once, its addons too, open invoices voided as the client's group
    says. `end_of_term`: scheduled for the end of the current period (`cancel_at`); an open
    invoice for a period after it, invoiced ahead, is voided at once by the same rule."""
    service = get_service(service_id)
    actions.cancel(service, actor=actor(request), today=_today(service, body.today),
                   when=body.when, reason=body.reason)  # fmt: skip
    return service_out(get_service(service_id))


@router.post("/services/{service_id}/unschedule-cancellation", response=ServiceOut)
def unschedule_cancellation(request: HttpRequest, service_id: Id):
    actions.unschedule_cancellation(get_service(service_id), actor=actor(request))
    return service_out(get_service(service_id))


@router.post("/services/{service_id}/renewal/retry", response=ServiceOut)
def retry_renewal(request: HttpRequest, service_id: Id):
    """Clear the "renewal failed" flag and ask the module to renew the oldest paid period
    now; the service shows whether it worked (renewal_attempts, renewal_failed)."""
    service = get_service(service_id)
    actions.retry_renewal(service, actor=actor(request), at=now(),
                          today=company_today(service.client.company))  # fmt: skip
    return service_out(get_service(service_id))


@router.post("/services/{service_id}/renewal/clear", response=ServiceOut)
def clear_renewal_failed(request: HttpRequest, service_id: Id):
    """Clear the flag and its count: the engine tries again on its next pass."""
    actions.clear_renewal_failed(get_service(service_id), actor=actor(request))
    return service_out(get_service(service_id))


@router.get("/services/{service_id}/changes", response=ChangeList)
def list_changes(request: HttpRequest, service_id: Id, page: PageQuery):
    return paginate(changes(get_service(service_id)), page, change_out)


@router.post("/services/{service_id}/changes", response={201: ChangeOut})
def change_service(request: HttpRequest, service_id: Id, body: ChangeIn):
    """Change the price (another package or term), quantity or options. The same term:
    prorated at once, or `queued` until its invoice is paid as the client's group says;
    another term: applied at the next renewal."""
    service = get_service(service_id)
    pricing = referenced(get_price, "pricing_id", body.pricing_id) if body.pricing_id else None
    change = actions.change_service(
        service,
        actor=actor(request),
        today=_today(service, body.today),
        pricing=pricing,
        quantity=body.quantity,
        options=_options(body.options),
    )
    return Status(201, change_out(get_change(change.pk)))


@router.post("/service-changes/{change_id}/apply", response=ChangeOut)
def apply_change(request: HttpRequest, change_id: Id):
    """Apply a queued change once its invoice is paid (409 before)."""
    actions.apply_queued_change(get_change(change_id), actor=actor(request))
    return change_out(get_change(change_id))


@router.post("/service-changes/{change_id}/cancel", response=ChangeOut)
def cancel_change(request: HttpRequest, change_id: Id, body: ChangeCancelIn):
    """Drop a queued change: its invoice is voided, what was paid on it becomes credit."""
    actions.cancel_queued_change(get_change(change_id), actor=actor(request), reason=body.reason)
    return change_out(get_change(change_id))


@router.get("/services/{service_id}/history", response=EventList)
def service_history(request: HttpRequest, service_id: Id, page: PageQuery):
    """Every status change and action on the service, oldest first."""
    service = get_service(service_id)
    return paginate(service.history.order_by("at", "pk"), page, lambda e: e)
