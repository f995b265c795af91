"""What the service use cases share: the check of a reason, the history entry every status
change writes, and a service's current price parts."""

from typing import Any

from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.errors import ValidationFailed
from groupbill.services import pricing as prices
from groupbill.services.models import Service, ServiceEvent

MAX_QUANTITY = 100_000  # units of one service


def clean_reason(reason: Any) -> str:
    """Why, as the history keeps it (PostgreSQL cannot store NUL)."""
    try:
        return v.text(reason, max_length=1000)
    except ValueError as exc:
        raise ValidationFailed.one("reason", str(exc)) from None


def record_event(service: Service, actor: str, event: str, to_status: str | None = None, reason=""):
    """The service's history entry, and the same change in the audit log."""
    to_status = to_status or service.status
    ServiceEvent.objects.create(
        service=service,
        actor=actor,
        event=event,
        from_status=service.status,
        to_status=to_status,
        reason=reason,
    )
    record(
        subject=service,
        actor=actor,
        action=f"service.{event}",
        key="status",
        old=wrap(service.status),
        new=wrap(to_status if not reason else {"status": to_status, "reason": reason}),
    )


def options_of(service: Service) -> prices.OptionChoice:
    return {o.option_id: (o.value_id, o.quantity) for o in service.options.all()}


def priced(service: Service) -> list[prices.Part]:
    return prices.parts(service.package, service.pricing, service.quantity, options_of(service))
