"""What a company sells: packages, their prices per term and currency, and configurable
options with prices of their own."""

from django.db import models

from groupbill.audit.actions import Subject
from groupbill.companies.models import Company
from groupbill.periods import Term, term_of


class PricingUnit(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    YEAR = "year", "Year"
    ONETIME = "onetime", "One time"


class TermPriced(models.Model):
    """A price for one term (unit x count) in one currency, plus a setup fee."""

    unit = models.CharField(max_length=8, choices=PricingUnit.choices)
    count = models.PositiveSmallIntegerField(default=1)
    currency = models.CharField(max_length=3)
    price = models.BigIntegerField()  # minor units
    setup_fee = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def recurring(self) -> bool:
        return self.unit != PricingUnit.ONETIME

    @property
    def term(self) -> Term | None:
        return term_of(self.unit, self.count) if self.recurring else None

    def term_label(self) -> str:
        return "one time" if not self.recurring else str(self.term)


class Package(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="packages")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True, default="")
    # Provisioning module: none | test | webhook (see groupbill/provisioning).
    module = models.CharField(max_length=32, default="none")
    webhook_url = models.URLField(blank=True, default="")
    webhook_secret = models.CharField(max_length=128, blank=True, default="")
    # Packages this one can be added to as an addon.
    addon_of = models.ManyToManyField("self", symmetrical=False, related_name="addons", blank=True)
    client_can_order_as_addon = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def audit_subject(self) -> Subject:
        return Subject("package", self.company_id, self.pk, self.name)


class PackagePrice(TermPriced):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="prices")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "unit", "count", "currency"], name="one_package_price_per_term"
            )
        ]

    def __str__(self) -> str:
        return f"{self.package} {self.term_label()} {self.currency}"


class OptionKind(models.TextChoices):
    SELECT = "select", "Select one value"
    QUANTITY = "quantity", "Quantity (price per unit)"


class ConfigOption(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=OptionKind.choices, default=OptionKind.SELECT)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ConfigOptionValue(models.Model):
    option = models.ForeignKey(ConfigOption, on_delete=models.CASCADE, related_name="values")
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.option}: {self.name}"


class ConfigOptionPrice(TermPriced):
    """Price of one option value (per unit for quantity options) for a term and currency."""

    value = models.ForeignKey(ConfigOptionValue, on_delete=models.CASCADE, related_name="prices")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["value", "unit", "count", "currency"], name="one_option_price_per_term"
            )
        ]

    def __str__(self) -> str:
        return f"{self.value} {self.term_label()} {self.currency}"
