"""What services tell the domains above them (notices queue the client's message). Sent
inside the transaction that made the change."""

from django.dispatch import Signal

# A service was ordered (kwargs: service).
service_created = Signal()
# Services were cancelled, addons first (kwargs: services, reason).
services_cancelled = Signal()
# kwargs: service, reason, cause (the past-due invoice, or the nth suspension by staff)
service_suspended = Signal()
# kwargs: service, occurrence
service_unsuspended = Signal()
# A queued change was cancelled (kwargs: change, reason).
change_cancelled = Signal()
