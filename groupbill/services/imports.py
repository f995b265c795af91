"""Services brought over from another billing system, as they stand there: their status,
dates and period, written directly. Nothing else happens: no module is called, no invoice
is made, no signal is sent; the service's history says it was imported. The engine takes
over from `renew_date` (the start of the first period the source has not invoiced yet).

Callers (the importers) hold the transaction and validated the source row; this checks only
what would break the ledger's or the engine's assumptions."""

from dataclasses import dataclass
from datetime import date, datetime

from groupbill.catalog.models import PackagePrice
from groupbill.clients.models import Client
from groupbill.errors import ValidationFailed
from groupbill.services.models import Service, ServiceStatus
from groupbill.services.shared import MAX_QUANTITY, record_event

IMPORTED_FIELDS = (
    "package_id",
    "pricing_id",
    "parent_id",
    "quantity",
    "status",
    "anchor_date",
    "next_period",
    "renew_date",
    "last_renewed_on",
    "suspension_reason",
    "suspended_by",
    "suspended_at",
    "cancel_at",
    "canceled_at",
)


@dataclass(frozen=True)
class ImportedService:
    """A service as the source has it. `renew_date`: the start of the next period not yet
    invoiced (None: nothing more to invoice, e.g. one-time or cancelled)."""

    pricing: PackagePrice
    status: str
    quantity: int = 1
    parent: Service | None = None
    renew_date: date | None = None
    last_renewed_on: date | None = None
    suspension_reason: str = ""
    suspended_at: datetime | None = None
    cancel_at: date | None = None  # a cancellation scheduled for that day
    canceled_at: datetime | None = None


def _values(client: Client, data: ImportedService) -> dict:
    errors = []
    if data.status not in ServiceStatus.values:
        errors.append(("status", f"must be one of {', '.join(ServiceStatus.values)}"))
    if not 1 <= data.quantity <= MAX_QUANTITY:
        errors.append(("quantity", f"must be from 1 to {MAX_QUANTITY}"))
    if data.pricing.package.company_id != client.company_id:
        errors.append(("pricing", "is a price of another company's package"))
    if data.parent is not None and data.parent.client_id != client.pk:
        errors.append(("parent", "is another client's service"))
    if errors:
        raise ValidationFailed.one(*errors[0])
    renew = data.renew_date if data.pricing.recurring else None
    suspended = data.status == ServiceStatus.SUSPENDED
    return {
        "package_id": data.pricing.package_id,
        "pricing_id": data.pricing.pk,
        "parent_id": data.parent.pk if data.parent else None,
        "quantity": data.quantity,
        "status": data.status,
        # Period 0 starts at the renewal date: the source invoiced everything before it.
        "anchor_date": renew,
        "next_period": 0,
        "renew_date": renew,
        "last_renewed_on": data.last_renewed_on,
        "suspension_reason": data.suspension_reason[:255] if suspended else "",
        "suspended_by": "staff" if suspended else "",
        "suspended_at": data.suspended_at if suspended else None,
        "cancel_at": data.cancel_at,
        "canceled_at": data.canceled_at if data.status == ServiceStatus.CANCELED else None,
    }


def import_service(
    client: Client, data: ImportedService, *, actor: str, existing: Service | None = None
) -> tuple[Service, bool]:
    """Create the service (or bring `existing`, made by an earlier import, up to date) as
    the source has it. Returns the service and whether anything was written."""
    values = _values(client, data)
    if existing is None:
        service = Service.objects.create(client=client, **values)
        record_event(service, actor, "import", service.status, "imported with its dates")
        return service, True
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changed:
        return existing, False
    old_status = existing.status
    for name, value in changed.items():
        setattr(existing, name, value)
    existing.save(update_fields=sorted(changed))
    existing.status = old_status  # the history entry names the change of status
    record_event(existing, actor, "import", values["status"], "updated by a new import")
    existing.status = values["status"]
    return existing, True
