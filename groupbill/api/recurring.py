"""Recurring invoices: staff-defined invoices the engine issues every term."""

from datetime import date, datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, StrictInt, StrictStr

from groupbill.api.auth import actor
from groupbill.api.common import Id, PageQuery, StrictBody, paginate
from groupbill.api.fields import (
    CurrencyCode,
    Day,
    LineAmount,
    Quantity,
    items,
    limits,
    required_text,
    text,
    whole_number,
)
from groupbill.billing import recurring
from groupbill.billing.models import RecurringInvoice
from groupbill.bounds import MAX_LINES
from groupbill.clients.queries import get_client
from groupbill.errors import NotFound

router = Router(tags=["recurring invoices"])


class RecurringLineIn(StrictBody):
    description: required_text(500)
    unit_amount: LineAmount
    quantity: Quantity = 1
    taxable: StrictBool = True


class RecurringIn(StrictBody):
    unit: Annotated[StrictStr, limits(enum=["day", "week", "month", "year"])]
    count: whole_number(1, 36) = 1
    start_on: Day
    currency: CurrencyCode | None = None
    notes: text(2000) = ""
    lines: Annotated[list[RecurringLineIn], items(1, MAX_LINES)]


class RecurringLineOut(Schema):
    description: str
    quantity: int
    unit_amount: StrictInt
    taxable: bool


class RecurringOut(Schema):
    id: int
    client_id: int
    currency: str
    unit: str
    count: int
    anchor_date: date
    renew_date: date
    next_period: int
    active: bool
    notes: str
    created_at: datetime
    lines: list[RecurringLineOut]

    @staticmethod
    def resolve_lines(obj: RecurringInvoice):
        return list(obj.lines.all())


class RecurringList(Schema):
    items: list[RecurringOut]
    count: int


def _get(recurring_id: int) -> RecurringInvoice:
    found = RecurringInvoice.objects.filter(pk=recurring_id).first()
    if found is None:
        raise NotFound(f"Recurring invoice {recurring_id} does not exist.")
    return found


@router.get("/clients/{client_id}/recurring-invoices", response=RecurringList)
def list_recurring(request: HttpRequest, client_id: Id, page: PageQuery):
    client = get_client(client_id)
    return paginate(client.recurring_invoices.order_by("pk"), page, lambda r: r)


@router.post("/clients/{client_id}/recurring-invoices", response={201: RecurringOut})
def create_recurring(request: HttpRequest, client_id: Id, body: RecurringIn):
    """The engine invoices each period `invoice_days_before_renewal` days ahead."""
    data = body.model_dump(exclude={"lines"}, exclude_none=True)
    lines = [line.model_dump() for line in body.lines]
    template = recurring.create_recurring(get_client(client_id), data, lines, actor=actor(request))
    return Status(201, template)


@router.get("/recurring-invoices/{recurring_id}", response=RecurringOut)
def read_recurring(request: HttpRequest, recurring_id: Id):
    return _get(recurring_id)


@router.post("/recurring-invoices/{recurring_id}/stop", response=RecurringOut)
def stop_recurring(request: HttpRequest, recurring_id: Id):
    return recurring.deactivate(_get(recurring_id), actor=actor(request))
