from django.conf import settings
from django.db import models

from groupbill.audit.actions import Subject
from groupbill.companies.roles import ROLE_LABELS


class RoundingMode(models.TextChoices):
    HALF_UP = "half_up", "Half up"
    HALF_EVEN = "half_even", "Half even (banker's)"


class Company(models.Model):
    name = models.CharField(max_length=128)
    timezone = models.CharField(max_length=64, default="UTC")
    default_currency = models.CharField(max_length=3, default="USD")
    notify_email = models.EmailField(blank=True, default="")
    rounding_mode = models.CharField(
        max_length=16, choices=RoundingMode.choices, default=RoundingMode.HALF_UP
    )
    # The seller, as invoices name it.
    legal_name = models.CharField(max_length=200, blank=True, default="")
    address_line1 = models.CharField(max_length=200, blank=True, default="")
    address_line2 = models.CharField(max_length=200, blank=True, default="")
    postcode = models.CharField(max_length=32, blank=True, default="")
    city = models.CharField(max_length=128, blank=True, default="")
    state = models.CharField(max_length=128, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    vat_id = models.CharField(max_length=32, blank=True, default="")
    registration_number = models.CharField(max_length=64, blank=True, default="")
    bank_details = models.TextField(blank=True, default="")  # printed for bank transfers
    # VAT by the EU's rules (domestic, reverse charge, the buyer's country's rate) instead of
    # the company's own tax rules by place.
    charges_eu_vat = models.BooleanField(default=False)
    # Staff of this company sign in with a second factor (set by an owner).
    two_factor_required = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name

    def audit_subject(self) -> Subject:
        return Subject("company", self.pk, self.pk, self.name)


class TaxRule(models.Model):
    """A tax rate by country and state at level 1 or 2. An empty state matches the whole
    country; the most specific rule of each level wins."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="tax_rules")
    level = models.PositiveSmallIntegerField(choices=[(1, "Level 1"), (2, "Level 2")])
    name = models.CharField(max_length=64)
    country = models.CharField(max_length=2)
    state = models.CharField(max_length=128, blank=True, default="")
    rate = models.DecimalField(max_digits=7, decimal_places=4)  # percent
    inclusive = models.BooleanField(default=False)  # prices already include this tax

    class Meta:
        ordering = ["level", "country", "state"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "level", "country", "state"], name="one_tax_rule_per_place"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate}% ({self.country}{'-' + self.state if self.state else ''})"


class StaffMembership(models.Model):
    """A staff user belongs to a company with a role (groupbill.companies.roles)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=16, choices=[(role.value, label) for role, label in ROLE_LABELS.items()]
    )

    class Meta:
        ordering = ["company_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="one_role_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.company}: {self.role}"


class ApiKey(models.Model):
    """A key to the REST API (groupbill.companies.api_keys makes and revokes them; only its
    hash is kept). It works in one company (None: every company) and may be read-only:
    groupbill.api.auth answers 403 to a read-only key's change and 404 to a company-bound
    key asking about another company's objects. Its table is still the API app's, where it
    began."""

    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, shown in lists so staff can tell keys apart.
    prefix = models.CharField(max_length=12)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_apikey"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def audit_subject(self) -> Subject:
        return Subject("api_key", self.company_id, self.pk, self.name)

    @property
    def actor(self) -> str:
        return f"apikey:{self.name}"
