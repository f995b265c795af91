"""Queueing messages in the outbox, in the caller's transaction, once per key."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from groupbill import bulk_sql, clock
from groupbill.clients.models import Contact, ContactRole
from groupbill.notices.models import MessageStatus, OutboxMessage


def recipients_for(client_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Each client's billing contacts with an email, else its primary contact: one query."""
    billing: dict[int, list[dict[str, str]]] = defaultdict(list)
    primary: dict[int, list[dict[str, str]]] = defaultdict(list)
    for client_id, role, first, last, email in (
        Contact.objects.filter(client_id__one_of=client_ids, role__in=[ContactRole.BILLING,
                                                                   ContactRole.PRIMARY])
        .exclude(email="")
        .order_by("pk")
        .values_list("client_id", "role", "first_name", "last_name", "email")
    ):  # fmt: skip
        entry = {"name": f"{first} {last}".strip(), "email": email}
        (billing if role == ContactRole.BILLING else primary)[client_id].append(entry)
    return {cid: billing.get(cid) or primary.get(cid, []) for cid in client_ids}


def not_before() -> datetime | None:
    """When a message queued now may go: an engine run as of a future day (a simulation
    written for real) queues messages that wait for that day; otherwise at once."""
    moment = clock.now()
    return moment if moment > timezone.now() else None


def queue(
    *,
    key: str,
    company_id: int,
    template: str,
    recipients: list[dict[str, str]],
    context: dict[str, Any],
    client_id: int | None = None,
    invoice_id: int | None = None,
    status: str = MessageStatus.PENDING,
) -> bool:
    """Queue one message; False when this key was queued before (nothing written)."""
    if OutboxMessage.objects.filter(key=key).exists():
        return False
    try:
        with transaction.atomic():
            OutboxMessage.objects.create(
                key=key,
                company_id=company_id,
                client_id=client_id,
                invoice_id=invoice_id,
                template=template,
                recipients=recipients,
                context=context,
                status=status,
                next_attempt_at=not_before(),
            )
    except IntegrityError:
        return False
    return True


def queue_many(messages: list[dict[str, Any]]) -> set[str]:
    """Queue many messages (each the outbox row's values) at once, skipping keys queued
    before; returns the keys written. Inside the caller's transaction: a key another
    process writes meanwhile makes the insert fail as a whole (the engine then applies its
    actions one by one)."""
    keys = [m["key"] for m in messages]
    queued = set(OutboxMessage.objects.filter(key__in=keys).values_list("key", flat=True))
    wait = not_before()
    fresh = [m | {"next_attempt_at": m.get("next_attempt_at") or wait}
             for m in messages if m["key"] not in queued]  # fmt: skip
    bulk_sql.insert_values(OutboxMessage, fresh)
    return {m["key"] for m in fresh}
