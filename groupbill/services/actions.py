"""The service use cases, as API, UI, CLI and engine call them: order, lifecycle
(provision, suspend, unsuspend, cancel), changes with proration, and renewals. Each lives
in a module of its own; this is their one front door.

Every status change is written to the service's history with who and why. Module calls
are recorded before they are made, made outside any transaction, and booked after
(`module_calls`), under a key that stays the same until the effect succeeds, so a retry
after a refusal or a crash never doubles it. An importer brings a service over as another
system has it (`import_service`): its status and dates, with no module call and no invoice.
"""

from groupbill.services.changes import apply_queued_change, cancel_queued_change, change_service
from groupbill.services.imports import ImportedService, import_service
from groupbill.services.lifecycle import (
    cancel,
    provision,
    suspend,
    unschedule_cancellation,
    unsuspend,
    unsuspend_cleared,
)
from groupbill.services.ordering import add_service
from groupbill.services.renewal import (
    clear_renewal_failed,
    flag_renewal_failed,
    renew,
    retry_renewal,
)

__all__ = [
    "ImportedService",
    "add_service",
    "apply_queued_change",
    "cancel",
    "cancel_queued_change",
    "change_service",
    "clear_renewal_failed",
    "flag_renewal_failed",
    "import_service",
    "provision",
    "renew",
    "retry_renewal",
    "suspend",
    "unschedule_cancellation",
    "unsuspend",
    "unsuspend_cleared",
]
