"""The engine's tasks, in the order they run."""

from groupbill.automation.tasks import (
    apply_credits,
    autodebit,
    deliver_invoices,
    payment_notices,
    provision_pending,
    renewal_invoices,
    renewals,
    scheduled_cancellations,
    service_changes,
    settle_pending,
    suspend,
    unsuspend,
)

TASKS = (
    settle_pending,
    renewal_invoices,
    scheduled_cancellations,
    apply_credits,
    autodebit,
    deliver_invoices,
    provision_pending,
    suspend,
    unsuspend,
    service_changes,
    renewals,
    payment_notices,
)
TASK_NAMES: tuple[str, ...] = tuple(t.NAME for t in TASKS)
