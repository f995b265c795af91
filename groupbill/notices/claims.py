"""Claiming and backing off, shared by the outbox's two senders (email: notices.sender;
webhooks: notices.webhook_sender). A row with `status`, `attempts`, `next_attempt_at` and
`claimed_at` (MessageStatus) is claimed in a short transaction (PostgreSQL: `FOR UPDATE
SKIP LOCKED`; SQLite: the IMMEDIATE transaction serialises senders) that marks it
`sending`, so two senders never send the same row; a claim older than 10 minutes means its
sender died mid-send, and the row becomes `unknown`."""

from datetime import datetime, timedelta

from django.db import connection, models, transaction
from django.db.models import Q

from groupbill.notices.models import MessageStatus

CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed try: 1, 2, 4, ... minutes, at most an hour."""
    return min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)


def expire_stale_claims(model: type[models.Model], now: datetime, error: str) -> int:
    return model.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(status=MessageStatus.UNKNOWN, last_error=error)


def claim_next(model: type[models.Model], now: datetime, pk: int | None = None) -> int | None:
    """Mark the oldest due pending row (or row `pk`, if due) `sending`, for this sender
    only; its id, or None when nothing is due."""
    while True:
        with transaction.atomic():
            due = model.objects.filter(
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
                status=MessageStatus.PENDING,
            ).order_by("pk")
            if pk is not None:
                due = due.filter(pk=pk)
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            found = due.values_list("pk", flat=True).first()
            if found is None:
                return None
            # The status guard makes the claim safe even without row locks.
            claimed = model.objects.filter(pk=found, status=MessageStatus.PENDING).update(
                status=MessageStatus.SENDING, claimed_at=now
            )
        if claimed:
            return found


def retry_or_give_up(attempts: int, now: datetime, error: str) -> dict:
    """The fields that settle a temporary failure: pending again after the backoff, or
    failed after MAX_ATTEMPTS."""
    if attempts >= MAX_ATTEMPTS:
        return {"status": MessageStatus.FAILED, "next_attempt_at": None,
                "last_error": f"gave up after {attempts} attempts: {error}"}  # fmt: skip
    return {"status": MessageStatus.PENDING, "next_attempt_at": now + backoff(attempts),
            "last_error": error}  # fmt: skip
