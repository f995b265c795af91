"""The company's outgoing webhooks: endpoints staff register with the event types they
want, and the events queued for them. An event is written as one WebhookDelivery per
subscribed endpoint, in the transaction of the change that caused it (so a rolled-back
change sends nothing), once per event id and endpoint; notices.webhook_sender POSTs it.

Every event has the same envelope (documented in the README, "Outgoing webhooks"):
`{"id", "type", "created_at", "company_id", "data": {...}}`, money in integer minor units
next to its currency. `id` is stable across retries and redeliveries: receivers
deduplicate on it."""

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from groupbill import clock
from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.companies.models import Company
from groupbill.errors import Conflict, FieldError
from groupbill.notices.models import MessageStatus, WebhookDelivery, WebhookEndpoint

EVENT_TYPES: dict[str, str] = {
    "invoice.created": "A draft invoice was created.",
    "invoice.issued": "An invoice was given its number and opened (renewals included).",
    "invoice.paid": "An invoice was paid in full.",
    "invoice.voided": "An invoice was voided; what was paid on it went back as credit.",
    "payment.succeeded": "A payment was applied to an invoice.",
    "payment.failed": "A charge was declined.",
    "payment.refunded": "A payment was refunded (in part or in full).",
    "service.created": "A service was ordered.",
    "service.suspended": "A service was suspended.",
    "service.unsuspended": "A suspended service was reactivated.",
    "service.cancelled": "A service was cancelled.",
    "client.created": "A client was added.",
    "client.changed": "A client's details were changed.",
    "engine.run_finished": "An engine run finished (what it did for this company).",
}
MAX_ENDPOINTS = 20  # per company
SECRET_PREFIX = "whsec_"
EXCERPT = 500  # characters of a response body kept


@dataclass(frozen=True)
class Event:
    company_id: int
    type: str
    id: str
    data: dict[str, Any]


# --- endpoints -----------------------------------------------------------------------------

_url_validator = URLValidator(schemes=["http", "https"])


def clean_url(value: Any) -> str:
    value = v.text(value, max_length=500, required=True)
    try:
        _url_validator(value)
    except DjangoValidationError:
        raise ValueError("must be an http:// or https:// URL") from None
    if urlsplit(value).scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    return value


def clean_event_types(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a list of at least one event type")
    unknown = [t for t in value if t not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}; known: " + ", ".join(EVENT_TYPES))
    repeated = sorted({t for t in value if value.count(t) > 1})
    if repeated:
        raise ValueError(f"names {repeated[0]!r} more than once")
    return sorted(value, key=list(EVENT_TYPES).index)


_CLEANERS = {
    "url": clean_url,
    "event_types": clean_event_types,
    "description": lambda value: v.text(value, max_length=200),
    "active": v.boolean,
}


def _state(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "description": endpoint.description,
            "event_types": endpoint.event_types, "active": endpoint.active}  # fmt: skip


def create_endpoint(
    company: Company, data: dict[str, Any], *, actor: str
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret: the only time the secret is handed out."""
    cleaned, errors = v.collect(data, _CLEANERS)
    for field in ("url", "event_types"):
        if field not in data:
            errors.append(FieldError(field, "is required"))
    v.raise_if(errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        if WebhookEndpoint.objects.filter(company=company).count() >= MAX_ENDPOINTS:
            raise Conflict(f"A company has at most {MAX_ENDPOINTS} webhook endpoints.")
        endpoint = WebhookEndpoint.objects.create(company=company, secret=secret, **cleaned)
        record(subject=endpoint, actor=actor, action="webhook_endpoint.create",
               new=wrap(_state(endpoint)))  # fmt: skip
    return endpoint, secret


def update_endpoint(
    endpoint: WebhookEndpoint, changes: dict[str, Any], *, actor: str
) -> WebhookEndpoint:
    cleaned, errors = v.collect(changes, _CLEANERS)
    v.raise_if(errors)
    with transaction.atomic():
        old = _state(endpoint)
        for field, value in cleaned.items():
            setattr(endpoint, field, value)
        endpoint.save(update_fields=list(cleaned) or None)
        record(subject=endpoint, actor=actor, action="webhook_endpoint.update",
               old=wrap(old), new=wrap(_state(endpoint)))  # fmt: skip
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint, *, actor: str) -> None:
    """Its deliveries go with it (a delivery being sent just now still completes)."""
    with transaction.atomic():
        record(subject=endpoint, actor=actor, action="webhook_endpoint.delete",
               old=wrap(_state(endpoint)))  # fmt: skip
        endpoint.delete()


def redeliver(delivery: WebhookDelivery, *, actor: str) -> WebhookDelivery:
    """Send a delivery again, whatever became of it (staff asked: the receiver lost it, or
    was fixed): pending and due at once, so the sender's next pass (every minute) POSTs it;
    that attempt is logged as a redelivery."""
    with transaction.atomic():
        updated = (
            WebhookDelivery.objects.filter(pk=delivery.pk)
            .exclude(status=MessageStatus.SENDING)
            .update(
                status=MessageStatus.PENDING,
                next_attempt_at=None,
                last_error="",
                redeliver_requested=True,
            )
        )
        if not updated:
            raise Conflict("This delivery is being sent right now; try again in a moment.")
        record(subject=delivery, actor=actor, action="webhook_delivery.redeliver",
               new=wrap({"event_id": delivery.event_id}))  # fmt: skip
    delivery.refresh_from_db()
    return delivery


# --- events --------------------------------------------------------------------------------


def envelope(event: Event, created_at: str) -> dict[str, Any]:
    return {"id": event.id, "type": event.type, "created_at": created_at,
            "company_id": event.company_id, "data": event.data}  # fmt: skip


def listening(company_ids: Iterable[int]) -> bool:
    """Has any of these companies an active endpoint (to skip building unwanted events)?"""
    return WebhookEndpoint.objects.filter(company_id__in=list(company_ids), active=True).exists()


def emit(events: Iterable[Event]) -> int:
    """Queue each event for the company's active endpoints subscribed to its type, in the
    caller's transaction; an event id already queued for an endpoint is skipped. One query
    for the endpoints and one insert, however many events. Returns deliveries written."""
    events = list(events)
    if not events:
        return 0
    company_ids = {e.company_id for e in events}
    endpoints: dict[int, list[tuple[int, list[str]]]] = {}
    for pk, company_id, types in WebhookEndpoint.objects.filter(
        company_id__in=company_ids, active=True
    ).values_list("pk", "company_id", "event_types"):
        endpoints.setdefault(company_id, []).append((pk, types))
    if not endpoints:
        return 0
    # In UTC whatever zone the moment came in (an engine run's as_of is in the company's).
    created_at = clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
    wait = clock.now() if clock.now() > timezone.now() else None  # see outbox.not_before
    rows = [
        WebhookDelivery(
            endpoint_id=pk,
            company_id=event.company_id,
            event_type=event.type,
            event_id=event.id,
            payload=envelope(event, created_at),
            next_attempt_at=wait,
        )
        for event in events
        for pk, types in endpoints.get(event.company_id, [])
        if event.type in types
    ]
    # ignore_conflicts: the unique (endpoint, event_id) makes a repeated event a no-op.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def new_id() -> str:
    """For events that may happen again to the same object (suspended, changed)."""
    return f"evt_{uuid.uuid4().hex}"


def invoice_data(invoice) -> dict[str, Any]:
    return {
        "invoice": {
            "id": invoice.pk,
            "number": invoice.number,
            "client_id": invoice.client_id,
            "status": invoice.status,
            "currency": invoice.currency,
            "subtotal": invoice.subtotal,
            "tax_total": invoice.tax_total,
            "total": invoice.total,
            "credited": invoice.credited,
            "amount_paid": invoice.amount_paid,
            "balance_due": invoice.balance_due,
            "issued_on": invoice.issued_on.isoformat() if invoice.issued_on else None,
            "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        }
    }


def payment_data(txn, invoice=None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payment": {
            "id": txn.pk,
            "client_id": txn.client_id,
            "kind": txn.kind,
            "status": txn.status,
            "amount": txn.amount,
            "currency": txn.currency,
            "method": txn.method,
            "refund_of": txn.refund_of_id,
            **extra,
        }
    }
    if invoice is not None:
        data.update(invoice_data(invoice))
    return data


def service_data(service, **extra: Any) -> dict[str, Any]:
    return {
        "service": {
            "id": service.pk,
            "client_id": service.client_id,
            "package_id": service.package_id,
            "status": service.status,
            "quantity": service.quantity,
            "renew_date": service.renew_date.isoformat() if service.renew_date else None,
            **extra,
        }
    }


def client_data(client, **extra: Any) -> dict[str, Any]:
    return {
        "client": {
            "id": client.pk,
            "group_id": client.group_id,
            "status": client.status,
            "default_currency": client.default_currency,
            "language": client.language,
            **extra,
        }
    }


def run_finished(run, shard_rows: list[dict[str, Any]]) -> int:
    """`engine.run_finished` for each company that wants it (only the run's company for a
    run of one company): what the run's tasks did for that company alone, summed from its
    shards (`company_id`, `report`), since a run covers every company's book."""
    endpoints = WebhookEndpoint.objects.filter(active=True)
    if run.company_id is not None:
        endpoints = endpoints.filter(company_id=run.company_id)
    companies = {
        company_id
        for company_id, types in endpoints.values_list("company_id", "event_types")
        if "engine.run_finished" in types
    }
    counts: dict[int, dict[str, dict[str, int]]] = {c: {} for c in companies}
    for row in shard_rows:
        tasks = counts.get(row["company_id"])
        if tasks is None:
            continue
        for doc in row["report"].get("tasks", []):
            task = tasks.setdefault(doc["name"], dict.fromkeys(_COUNTS, 0))
            for name in _COUNTS:
                task[name] += doc.get(name, 0)
    return emit(
        Event(company_id, "engine.run_finished", f"engine.run_finished.{run.pk}.{company_id}",
              {"run": _run(run, tasks)})
        for company_id, tasks in sorted(counts.items())
    )  # fmt: skip


def _run(run, tasks: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "as_of": run.as_of.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "tasks": [{"name": name, **c} for name, c in tasks.items()],
    }


_COUNTS = ("planned", "applied", "skipped", "failed")
