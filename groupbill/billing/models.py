"""The ledger: invoices and their lines, credit notes (what an issued invoice no longer
bills), transactions (payments, credits, refunds), the amounts applied from transactions to
invoices, and payment accounts.

Invariants (actions keep them, tests check them): an invoice's `amount_paid` is the sum of
the amounts applied to it, its `credited` the sum of its credit notes' totals, and neither
exceeds what it bills (`total - credited`, resp. `total`); a transaction never has more
applied or refunded than its amount, so a client's loose credit is never negative.
"""

from datetime import timedelta

from django.db import models
from django.db.models import F, Q

from groupbill.audit.actions import Subject
from groupbill.catalog.models import PricingUnit
from groupbill.clients.models import Client
from groupbill.companies.models import Company

# A preview's invoices are numbered in a band of their own: the same number as a real
# invoice issued meanwhile would make that writer wait on the preview's uncommitted row
# (numbers are unique per company). `shown_number` gives the number they would be issued with.
PREVIEW_NUMBERS = 10**18


def shown_number(number: int | None) -> int | None:
    """An invoice number as people read it: a preview's, as it would be issued."""
    if number is not None and number >= PREVIEW_NUMBERS:
        return number - PREVIEW_NUMBERS
    return number


def invoice_label(number: int | None, pk: int | None) -> str:
    """How an invoice is named to people (also for invoices read as tuples, not models)."""
    return f"Invoice {shown_number(number)}" if number else f"Draft invoice #{pk}"


# `Invoice.balance_due` in SQL, for invoices read as tuples.
BALANCE_DUE = F("total") - F("credited") - F("amount_paid")


class InvoiceSequence(models.Model):
    """Per-company invoice numbers, taken under a row lock inside the issuing transaction:
    a rolled-back issue gives its number back, so numbering has no gaps."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    next_number = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.company}: next {self.next_number}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(models.Model):
    # No index of their own: the first columns of `invoice_company_ageing` and of (client,
    # status, due_on) serve them, and every index is written again for each invoice the
    # engine issues or delivers.
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="invoices", db_index=False
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="invoices", db_index=False
    )
    currency = models.CharField(max_length=3)
    number = models.PositiveBigIntegerField(null=True, blank=True)  # given when issued
    status = models.CharField(
        max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    subtotal = models.BigIntegerField(default=0)
    tax_total = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    # What its credit notes credit (their totals summed): an issued invoice keeps its lines
    # and totals; what it still bills is `total - credited`.
    credited = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    delivery_method = models.CharField(max_length=16, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    recurring = models.ForeignKey(
        "RecurringInvoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recurring_period = models.IntegerField(null=True, blank=True)
    # Who sold to whom, as they were when the invoice was issued (names, addresses, VAT IDs).
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A recurring template's period is invoiced once, even if that invoice is voided.
            models.UniqueConstraint(
                fields=["recurring", "recurring_period"],
                condition=Q(recurring__isnull=False),
                name="one_invoice_per_recurring_period",
            ),
            models.UniqueConstraint(
                fields=["company", "number"],
                condition=Q(number__isnull=False),
                name="invoice_number_unique_per_company",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0), name="invoice_paid_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(credited__gte=0), name="invoice_credited_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["client", "status", "due_on"]),
            models.Index(fields=["status", "due_on"]),
            # A company's open invoices by due day, with what ageing sums: the dashboard
            # and the ageing report read them from the index alone.
            models.Index(
                fields=[
                    "company",
                    "status",
                    "due_on",
                    "currency",
                    "total",
                    "credited",
                    "amount_paid",
                ],
                name="invoice_company_ageing",
            ),
            models.Index(
                fields=["company"],
                condition=Q(delivered_at__isnull=True),
                name="invoice_to_deliver",
            ),
        ]

    def __str__(self) -> str:
        return invoice_label(self.number, self.pk)

    def audit_subject(self) -> Subject:
        return Subject("invoice", self.company_id, self.pk, str(self))

    @property
    def billed(self) -> int:
        """What the invoice still bills: its total less what its credit notes credit."""
        return self.total - self.credited

    @property
    def balance_due(self) -> int:
        return self.total - self.credited - self.amount_paid


class LineKind(models.TextChoices):
    SERVICE = "service", "Service"
    OPTION = "option", "Configurable option"
    SETUP = "setup", "Setup fee"
    PRORATION = "proration", "Proration"
    CUSTOM = "custom", "Custom"


class PricedLine(models.Model):
    """A priced and taxed line as billed (an invoice's, or a credit note's copy of one)."""

    description = models.CharField(max_length=500)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)  # exclusive
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.BigIntegerField()
    amount = models.BigIntegerField()  # quantity x unit_amount, stored as billed
    tax1_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    tax1_amount = models.BigIntegerField(default=0)
    tax2_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    tax2_amount = models.BigIntegerField(default=0)
    # amount + the taxes of exclusive rates (inclusive taxes are inside `amount`).
    total = models.BigIntegerField(default=0)
    # The tax decision as it was made (rule and why): later rates or addresses never change it.
    tax_rule = models.CharField(max_length=16, blank=True, default="")
    tax_reason = models.CharField(max_length=300, blank=True, default="")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def period_last_day(self):
        """Periods are stored half-open [start, end); people read the last day included."""
        return self.period_end - timedelta(days=1) if self.period_end else None


class InvoiceLine(PricedLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    service = models.ForeignKey(
        "services.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    kind = models.CharField(max_length=16, choices=LineKind.choices, default=LineKind.CUSTOM)
    taxable = models.BooleanField(default=True)


class CreditNoteSequence(models.Model):
    """Per-company credit note numbers, a series of their own beside the invoices', taken
    like theirs under a row lock inside the crediting transaction (no gaps)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    next_number = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.company}: next credit note {self.next_number}"


class CreditNote(models.Model):
    """What an issued invoice no longer bills: some or all of its lines, credited once
    each (`lines`, copies of the invoice lines as they were billed, taxes and tax decision
    included). The invoice itself keeps its lines and totals; its `credited` is the sum of
    its credit notes' totals. Seller and buyer are the invoice's, as it was issued
    (`parties.of_invoice`)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="credit_notes")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    issued_on = models.DateField()
    reason = models.CharField(max_length=500, blank=True, default="")
    subtotal = models.BigIntegerField(default=0)
    tax_total = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)  # what is credited, never negative
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="credit_note_number_unique_per_company"
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0), name="credit_note_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Credit note {shown_number(self.number)}"

    def audit_subject(self) -> Subject:
        return Subject("credit_note", self.company_id, self.pk, str(self))


class CreditNoteLine(PricedLine):
    """An invoice line credited, as it was billed. A line is credited at most once."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.OneToOneField(
        InvoiceLine, on_delete=models.PROTECT, related_name="credit_line"
    )


class TransactionKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    CREDIT = "credit", "Credit"
    REFUND = "refund", "Refund"


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    ERROR = "error", "Error"
    VOID = "void", "Void"


class Transaction(models.Model):
    """Money in (payment), granted (credit) or given back (refund, of a payment).
    Approved payments and credits are the client's funds; what is not applied to invoices
    nor refunded is loose credit."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=8, choices=TransactionKind.choices)
    status = models.CharField(max_length=8, choices=TransactionStatus.choices)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()  # positive, minor units
    method = models.CharField(max_length=32)  # manual, test, credit, ...
    reference = models.CharField(max_length=128, blank=True, default="")
    # The caller's key, unique per principal (an API key, a portal account, a staff user,
    # the engine): no caller can take another's. `request_fingerprint` binds the key to
    # the request it first came with.
    principal = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # The key sent to the gateway: random, committed before the call, so the outcome of a
    # call cut off by a crash is asked for by it, never charged again.
    gateway_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    payment_account = models.ForeignKey(
        "PaymentAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    refund_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    note = models.CharField(max_length=500, blank=True, default="")
    actor = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the card holder disputed this payment with their bank (a chargeback opened): the
    # money stays booked until staff settle the dispute; the client's notes say more.
    disputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.UniqueConstraint(
                fields=["principal", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="idempotency_key_per_principal",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "currency", "status"]),
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="pending_transactions",
            ),
            # A company's transactions by time, with what income and failed charges sum:
            # the dashboard's months read them from the index alone (a narrower index
            # sends SQLite back to each row, slower than scanning the table).
            models.Index(
                fields=["company", "created_at", "kind", "status", "currency", "amount"],
                name="transaction_company_income",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"

    def audit_subject(self) -> Subject:
        return Subject(
            "transaction",
            self.company_id,
            self.pk,
            f"{self.kind} #{self.pk} of client #{self.client_id}",
        )


class Application(models.Model):
    """An amount of a transaction applied to an invoice."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="applications"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="applications")
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "invoice"], name="one_application_row"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="application_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of {self.transaction_id} to {self.invoice_id}"


class ChargeTarget(models.Model):
    """An invoice a charge attempt pays, and what it owed when the charge was decided: the
    attempt's approved money goes to its targets in `position` order. While the attempt is
    pending, no other charge may be started for these invoices."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="targets")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="charge_targets")
    amount = models.BigIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "invoice"], name="one_target_row"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of attempt {self.transaction_id} for invoice {self.invoice_id}"


class AccountKind(models.TextChoices):
    CARD = "card", "Card"
    BANK = "bank", "Bank account"


class PaymentAccount(models.Model):
    """A tokenised card or bank account: the gateway's reference and the last digits only,
    never a full number."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="payment_accounts")
    kind = models.CharField(max_length=8, choices=AccountKind.choices)
    gateway = models.CharField(max_length=32)
    reference = models.CharField(max_length=128)
    last4 = models.CharField(max_length=4)
    label = models.CharField(max_length=64, blank=True, default="")
    expires_on = models.DateField(null=True, blank=True)
    is_autodebit = models.BooleanField(default=False)
    failure_count = models.PositiveIntegerField(default=0)
    autodebit_disabled = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(is_autodebit=True), name="one_autodebit_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ending {self.last4}"

    def audit_subject(self) -> Subject:
        return Subject(
            "payment_account",
            self.client.company_id,
            self.pk,
            f"{self} of client #{self.client_id}",
        )


class RecurringInvoice(models.Model):
    """A staff-defined invoice the engine issues every term (anchored like services)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="recurring_invoices")
    currency = models.CharField(max_length=3)
    unit = models.CharField(max_length=8, choices=PricingUnit.choices)
    count = models.PositiveSmallIntegerField(default=1)
    anchor_date = models.DateField()
    next_period = models.IntegerField(default=0)
    renew_date = models.DateField(db_index=True)
    active = models.BooleanField(default=True)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Recurring invoice #{self.pk}"

    def audit_subject(self) -> Subject:
        return Subject(
            "recurring_invoice", self.client.company_id, self.pk, f"Recurring invoice #{self.pk}"
        )


class RecurringInvoiceLine(models.Model):
    recurring = models.ForeignKey(RecurringInvoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=500)
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.BigIntegerField()
    taxable = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description


class SandboxCharge(models.Model):
    """What the `test` gateway has done, by idempotency key: the same key never charges
    twice, and the outcome of a key can be asked for after a crash."""

    idempotency_key = models.CharField(max_length=128, unique=True)
    operation = models.CharField(max_length=8)  # charge | refund
    account_reference = models.CharField(max_length=128, blank=True, default="")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    outcome = models.CharField(max_length=8)  # approved | declined | error
    reference = models.CharField(max_length=64)
    message = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.operation} {self.idempotency_key}: {self.outcome}"


class GatewayCustomer(models.Model):
    """The gateway's own record of a client (a Stripe customer), which its saved cards are
    attached to: one per client and gateway."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    gateway = models.CharField(max_length=32)
    reference = models.CharField(max_length=128)  # e.g. cus_...
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "gateway"], name="one_customer_per_gateway")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} customer {self.reference} of client #{self.client_id}"


class GatewayEvent(models.Model):
    """A webhook event a gateway sent, recorded once handled: the same event delivered again
    is answered without being handled twice."""

    gateway = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    handled = models.BooleanField(default=True)  # False: a type Groupbill ignores
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="one_gateway_event")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} event {self.event_id} ({self.type})"


class VatRate(models.Model):
    """A member state's standard VAT rate from a day on: rates are data, and a change is a
    new row, so invoices made before it keep the rate they were made with."""

    country = models.CharField(max_length=2)
    rate = models.DecimalField(max_digits=7, decimal_places=4)  # percent
    valid_from = models.DateField()

    class Meta:
        ordering = ["country", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["country", "valid_from"], name="one_vat_rate_a_day")
        ]

    def __str__(self) -> str:
        return f"VAT {self.country} {self.rate}% from {self.valid_from}"
