"""Services: what a client has, its anchored periods, its status history and changes."""

from datetime import date

from django.db import models
from django.db.models import Q

from groupbill.audit.actions import Subject
from groupbill.catalog.models import ConfigOption, ConfigOptionValue, Package, PackagePrice
from groupbill.clients.models import Client
from groupbill.periods import period_start


class ServiceStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CANCELED = "canceled", "Canceled"


class SuspendedBy(models.TextChoices):
    AUTOMATIC = "automatic", "Automatically (past due)"
    STAFF = "staff", "Staff"


class Service(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="services")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="services")
    pricing = models.ForeignKey(PackagePrice, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="addons"
    )
    quantity = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=16, choices=ServiceStatus.choices, default=ServiceStatus.PENDING
    )
    # Period n starts at anchor + n terms; `renew_date` is the start of the next period not
    # yet invoiced (kept in the row so the engine can select due services in SQL).
    anchor_date = models.DateField(null=True, blank=True)
    next_period = models.IntegerField(default=0)
    renew_date = models.DateField(null=True, blank=True, db_index=True)
    last_renewed_on = models.DateField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=255, blank=True, default="")
    suspended_by = models.CharField(max_length=16, choices=SuspendedBy.choices, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    cancel_at = models.DateField(null=True, blank=True)  # scheduled cancellation
    cancel_reason = models.CharField(max_length=255, blank=True, default="")
    canceled_at = models.DateTimeField(null=True, blank=True)
    renewal_attempts = models.PositiveIntegerField(default=0)
    renewal_failed = models.BooleanField(default=False)
    last_renewal_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "renew_date"]),
            # The engine looks these up every run: pending, suspended, cancelling services.
            models.Index(fields=["status", "client"], name="service_status_client"),
            models.Index(
                fields=["cancel_at"], condition=Q(cancel_at__isnull=False), name="service_cancel_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package} #{self.pk}"

    def audit_subject(self) -> Subject:
        return Subject("service", self.client.company_id, self.pk, str(self))

    @property
    def recurring(self) -> bool:
        return self.pricing.recurring

    def period(self, n: int) -> tuple[date, date]:
        term = self.pricing.term
        return period_start(self.anchor_date, term, n), period_start(self.anchor_date, term, n + 1)


class ServiceOption(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="options")
    option = models.ForeignKey(ConfigOption, on_delete=models.PROTECT, related_name="+")
    value = models.ForeignKey(ConfigOptionValue, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "option"], name="one_value_per_option")
        ]

    def __str__(self) -> str:
        return f"{self.option}: {self.value}"


class ServiceEvent(models.Model):
    """The service's history: every status change with when, why and by whom."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=128)  # staff:NAME, apikey:NAME, client:ID, engine
    event = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.event}: {self.from_status} -> {self.to_status}"


class ChangeStatus(models.TextChoices):
    QUEUED = "queued", "Queued until paid"
    APPLIED = "applied", "Applied"
    CANCELED = "canceled", "Canceled"


class ServiceChange(models.Model):
    """A change of package, term or options. It is applied at once, or queued until its
    invoice is paid when `queue_service_changes_until_paid` holds."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="changes")
    status = models.CharField(max_length=16, choices=ChangeStatus.choices)
    old = (
        models.JSONField()
    )  # {"package_id", "pricing_id", "options": {option_id: [value_id, qty]}}
    new = models.JSONField()
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    credit_amount = models.BigIntegerField(default=0)  # prorated downgrade credit, minor units
    actor = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service"],
                condition=Q(status="queued"),
                name="one_queued_change_per_service",
            )
        ]

    def __str__(self) -> str:
        return f"Change of {self.service} ({self.status})"


class BilledPeriod(models.Model):
    """A period of a service that has been dealt with: invoiced (with the invoice) or
    skipped (suspended and not invoiced). The unique (service, period) pair is what makes a
    second invoice for a period impossible, whoever runs the engine and however often; a
    voided invoice keeps its row, so a voided period is never invoiced again."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="billed_periods")
    period = models.IntegerField()
    start = models.DateField()
    end = models.DateField()
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skipped = models.BooleanField(default=False)
    renewed_at = models.DateTimeField(null=True, blank=True)  # the module's renew succeeded
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service", "period"]
        constraints = [
            models.UniqueConstraint(fields=["service", "period"], name="one_row_per_period")
        ]
        indexes = [
            models.Index(
                fields=["service"],
                condition=Q(renewed_at__isnull=True, skipped=False),
                name="billed_period_to_renew",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} period {self.period}"


class CallStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ModuleCall(models.Model):
    """A provisioning-module call, recorded and committed before it is made. `key` is sent
    as the effect's id (receivers deduplicate on it); `params` hold what booking its answer
    needs. A call left pending by a crash is made again under the same key and booked by
    the engine's `settle_pending` task."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="module_calls")
    action = models.CharField(max_length=16)
    key = models.CharField(max_length=128)
    status = models.CharField(max_length=8, choices=CallStatus.choices, default="pending")
    params = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=128)
    message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One effect in flight per service: a second action waits for the first's answer.
            models.UniqueConstraint(
                fields=["service"], condition=Q(status="pending"), name="one_pending_call"
            )
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="pending_calls")
        ]

    def __str__(self) -> str:
        return f"{self.action} of service #{self.service_id} ({self.status})"
