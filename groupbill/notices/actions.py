"""Staff actions on the outbox."""

from django.db import transaction

from groupbill.audit.actions import record
from groupbill.errors import ValidationFailed
from groupbill.notices.models import MessageStatus, OutboxMessage

RESENDABLE = (MessageStatus.FAILED, MessageStatus.UNKNOWN)


def resend(message_id: int, *, actor: str) -> OutboxMessage:
    """Put a failed or unknown message back in the queue (a fresh set of attempts)."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status not in RESENDABLE:
            raise ValidationFailed.one(
                "status", f"only failed or unknown messages can be resent, not {message.status}"
            )
        old = {"status": message.status, "attempts": message.attempts,
               "last_error": message.last_error}  # fmt: skip
        message.status = MessageStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = None
        message.claimed_at = None
        message.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at"])
        record(
            subject=message,
            actor=actor,
            action="outbox.resend",
            old=old,
            new={"status": message.status},
        )
    return message
