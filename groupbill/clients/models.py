from django.db import models
from django.db.models.functions import Lower

from groupbill.audit.actions import Subject
from groupbill.clients.contact_fields import CONTACT_FIELDS
from groupbill.companies.models import Company

DEFAULT_GROUP_COLOR = "#9E9E9E"


class ClientGroup(models.Model):
    """A set of clients sharing settings. The company's default group is its first group
    (lowest id); see `queries.default_group_id`."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="client_groups")
    name = models.CharField(max_length=64)
    color = models.CharField(max_length=7, default=DEFAULT_GROUP_COLOR)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                "company", Lower("name"), name="client_group_name_unique_per_company"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_subject(self) -> Subject:
        return Subject("group", self.company_id, self.pk, self.name)


class ClientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    FRAUD = "fraud", "Fraud"


class Client(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="clients")
    # PROTECT: a group is only deleted after its clients moved to the default group.
    group = models.ForeignKey(ClientGroup, on_delete=models.PROTECT, related_name="clients")
    status = models.CharField(
        max_length=16, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    autosuspend = models.BooleanField(default=True)
    suspension_delayed_until = models.DateField(null=True, blank=True)
    tax_exempt = models.BooleanField(default=False)
    tax_id = models.CharField(max_length=64, blank=True, default="")
    default_currency = models.CharField(max_length=3)
    language = models.CharField(max_length=16, default="en")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "group"])]

    def __str__(self) -> str:
        return f"Client #{self.pk}"

    def audit_subject(self) -> Subject:
        return Subject("client", self.company_id, self.pk, str(self))


class ContactRole(models.TextChoices):
    PRIMARY = "primary", "Primary"
    BILLING = "billing", "Billing"
    OTHER = "other", "Other"


ContactFieldsBase = type(
    "ContactFieldsBase",
    (models.Model,),
    {
        "__module__": __name__,
        "Meta": type("Meta", (), {"abstract": True}),
        **{
            f.name: models.CharField(max_length=f.max_length, blank=True, default="")
            for f in CONTACT_FIELDS
        },
    },
)


class Contact(ContactFieldsBase):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(max_length=16, choices=ContactRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(role="primary"),
                name="one_primary_contact_per_client",
            )
        ]

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.company or self.email or f"Contact #{self.pk}"

    def __str__(self) -> str:
        return self.display_name


class ClientHistory(models.Model):
    """What happened to a client, when, and who did it (a staff user, an API key, the
    engine, the client)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=128)
    event = models.CharField(max_length=64)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.message


class ClientNote(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="notes")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=128)
    text = models.TextField()
    # Idempotency for notes written by automation (e.g. "account disabled for auto debit").
    key = models.CharField(max_length=128, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]
