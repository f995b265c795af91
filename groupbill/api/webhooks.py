"""The company's outgoing webhook endpoints (README, "Outgoing webhooks"). The signing
secret is in the answer to the POST that creates an endpoint and nowhere else."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, WithJsonSchema

from groupbill.api.auth import actor, key_company
from groupbill.api.common import BodyId, Id, PageQuery, StrictBody, changes, paginate, referenced
from groupbill.api.fields import never_null, text
from groupbill.companies.queries import get_company
from groupbill.errors import NotFound
from groupbill.notices import webhooks
from groupbill.notices.models import MessageStatus, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])

EVENT_TYPES = {"type": "array", "minItems": 1, "uniqueItems": True,
               "items": {"type": "string", "enum": list(webhooks.EVENT_TYPES)}}  # fmt: skip
EventTypes = Annotated[list[str], WithJsonSchema(EVENT_TYPES)]
Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri", "maxLength": 500})]
DeliveryStatus = Literal[tuple(MessageStatus.values)]  # type: ignore[valid-type]


class EndpointIn(StrictBody):
    company_id: BodyId
    url: Url
    event_types: EventTypes
    description: text(200) = ""
    active: StrictBool = True


class EndpointPatch(StrictBody):
    url: never_null({"type": "string", "format": "uri", "maxLength": 500}) = None
    event_types: Annotated[list[str] | None, WithJsonSchema(EVENT_TYPES)] = None
    description: text(200) | None = None
    active: never_null({"type": "boolean"}, StrictBool) = None


class EndpointOut(Schema):
    id: int
    company_id: int
    url: str
    description: str
    event_types: list[str]
    active: bool
    created_at: datetime


class EndpointCreated(EndpointOut):
    secret: str  # only here: keep it on the receiver, it is never shown again


class EndpointList(Schema):
    items: list[EndpointOut]
    count: int


class AttemptOut(Schema):
    at: datetime
    response_code: int | None
    response_excerpt: str
    error: str
    redelivery: bool


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_type: str
    event_id: str
    status: str
    attempts: int
    response_code: int | None
    response_excerpt: str
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class DeliveryList(Schema):
    items: list[DeliveryOut]
    count: int


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"Webhook endpoint {endpoint_id} does not exist.")
    return endpoint


def _delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        **{f: getattr(delivery, f) for f in DeliveryOut.model_fields if f != "attempt_log"},
        "attempt_log": list(delivery.attempt_log.all()),
    }


@router.get("/webhook-endpoints", response=EndpointList)
def list_endpoints(request: HttpRequest, page: PageQuery, company_id: Id | None = None):
    queryset = WebhookEndpoint.objects.order_by("pk")
    if company_id is not None:
        queryset = queryset.filter(company_id=company_id)
    if key_company(request) is not None:
        queryset = queryset.filter(company_id=key_company(request))
    return paginate(queryset, page, lambda e: e)


@router.post("/webhook-endpoints", response={201: EndpointCreated})
def create_endpoint(request: HttpRequest, body: EndpointIn):
    """The answer holds the endpoint's signing `secret`: the only time it is shown."""
    company = referenced(get_company, "company_id", body.company_id)
    data = body.model_dump(exclude={"company_id"})
    endpoint, secret = webhooks.create_endpoint(company, data, actor=actor(request))
    return Status(201, {**EndpointOut.from_orm(endpoint).model_dump(), "secret": secret})


@router.get("/webhook-endpoints/{endpoint_id}", response=EndpointOut)
def read_endpoint(request: HttpRequest, endpoint_id: Id):
    return get_endpoint(endpoint_id)


@router.patch("/webhook-endpoints/{endpoint_id}", response=EndpointOut)
def update_endpoint(request: HttpRequest, endpoint_id: Id, body: EndpointPatch):
    return webhooks.update_endpoint(get_endpoint(endpoint_id), changes(body), actor=actor(request))


@router.delete("/webhook-endpoints/{endpoint_id}", response={204: None})
def delete_endpoint(request: HttpRequest, endpoint_id: Id):
    webhooks.delete_endpoint(get_endpoint(endpoint_id), actor=actor(request))
    return Status(204, None)


@router.get("/webhook-endpoints/{endpoint_id}/deliveries", response=DeliveryList)
def list_deliveries(
    request: HttpRequest, endpoint_id: Id, page: PageQuery, status: DeliveryStatus | None = None
):
    """Newest first, each with its last response and every attempt."""
    endpoint = get_endpoint(endpoint_id)
    queryset = endpoint.deliveries.order_by("-pk").prefetch_related("attempt_log")
    if status is not None:
        queryset = queryset.filter(status=status)
    return paginate(queryset, page, _delivery_out)


@router.post(
    "/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut},
)
def redeliver(request: HttpRequest, endpoint_id: Id, delivery_id: Id):
    """Queue the delivery again (pending, due now): the sender's next pass POSTs it."""
    delivery = get_endpoint(endpoint_id).deliveries.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"Delivery {delivery_id} of webhook endpoint {endpoint_id} does not exist.")
    delivery = webhooks.redeliver(delivery, actor=actor(request))
    return Status(202, _delivery_out(delivery))
