"""The outbox (messages written in the same transaction as what caused them; sending is a
separate step) and the paper print queue."""

from django.db import models

from groupbill.audit.actions import Subject


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    # Claimed by one sender (`claimed_at`); a claim older than 10 minutes means the sender
    # died mid-send: the message becomes `unknown`, never resent automatically.
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"
    # Recorded, never sent: a notice that fell due while `send_payment_notices` was off.
    SUPPRESSED = "suppressed", "Not sent (notices off)"


class OutboxMessage(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    template = models.CharField(max_length=64)  # e.g. invoice_unpaid, notice_first
    recipients = models.JSONField()  # [{"name": ..., "email": ...}]
    context = models.JSONField(default=dict)
    # What makes the message unique (invoice + kind, ...): a retried run cannot queue twice.
    key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A pending message is sent when next_attempt_at is empty or has passed (retry backoff).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"{self.template} ({self.status})"

    def audit_subject(self) -> Subject:
        return Subject("message", self.company_id, self.pk, f"Message {self.template} #{self.pk}")


class PrintStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be printed"
    PRINTED = "printed", "Printed and mailed"


class PrintJob(models.Model):
    invoice = models.OneToOneField("billing.Invoice", on_delete=models.CASCADE,
                                   related_name="print_job")  # fmt: skip
    status = models.CharField(max_length=8, choices=PrintStatus.choices,
                              default=PrintStatus.QUEUED)  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    printed_at = models.DateTimeField(null=True, blank=True)
    printed_by = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Print {self.invoice} ({self.status})"


class MessageTemplate(models.Model):
    """A company's own wording for one message (`key`, one of rendering.DEFAULTS); without
    one, the default is used. Saved only through notices.templates.save_template, which
    checks it uses nothing beyond the key's documented context."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="message_templates")  # fmt: skip
    key = models.CharField(max_length=64)
    subject = models.CharField(max_length=500)
    text = models.TextField()
    html = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="message_template_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.company_id})"


class WebhookEndpoint(models.Model):
    """A URL of the company's that is sent the events it subscribed to (notices.webhooks),
    each signed with `secret` (shown to staff once, when the endpoint is created; kept as
    the packages' provisioning webhook secrets are, since signing needs it)."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE,
                                related_name="webhook_endpoints")  # fmt: skip
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True, default="")
    secret = models.CharField(max_length=128)
    event_types = models.JSONField(default=list)  # a subset of webhooks.EVENT_TYPES
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "active"])]

    def __str__(self) -> str:
        return f"Webhook endpoint #{self.pk} {self.url}"

    def audit_subject(self) -> Subject:
        return Subject("webhook_endpoint", self.company_id, self.pk, f"Webhook endpoint {self.url}")


class WebhookDelivery(models.Model):
    """One event for one endpoint, written in the transaction that caused the event and
    sent by notices.webhook_sender like an outbox message (claim, retry with backoff,
    `unknown` after a stale claim). Once per event and endpoint."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")  # fmt: skip
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200)
    payload = models.JSONField()  # the event, as documented in the README
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    redeliver_requested = models.BooleanField(default=False)  # staff asked to send it again

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "id"]),
            models.Index(fields=["endpoint", "-id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.status})"

    def audit_subject(self) -> Subject:
        return Subject("webhook_delivery", self.company_id, self.pk,
                       f"Webhook delivery {self.event_type} #{self.pk}")  # fmt: skip


class WebhookAttempt(models.Model):
    """Each POST of a delivery and what came back (or why nothing did)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")  # fmt: skip
    at = models.DateTimeField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    redelivery = models.BooleanField(default=False)  # asked for by staff

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Attempt {self.at:%Y-%m-%d %H:%M:%S} {self.response_code or self.error}"
