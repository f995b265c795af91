"""The catalogue of client-group settings: every key declared exactly once.

Storage validation, the resolver, the REST API, the admin forms and the docs all read
`CATALOG`; adding a key here is the whole job of adding a setting (the engine that obeys
it aside). Semantics live in ../shared/SETTINGS.md; `legacy_key` is the source platform's
spelling, kept for the settings import/export.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from groupbill.clients.contact_fields import CONTACT_FIELD_NAMES
from groupbill.settings_catalog.types import Bool, Choice, ChoiceSet, Int, SettingType


class Section(StrEnum):
    INVOICE_AND_CHARGE = "Invoice and Charge Options"
    INVOICE_DELIVERY = "Invoice Delivery"
    PAYMENT_NOTICES = "Payment Due Notices"
    REQUIRED_CONTACT_FIELDS = "Required Contact Fields"


class Source(StrEnum):
    DEFAULT = "default"
    COMPANY = "company"
    GROUP = "group"
    CLIENT = "client"


@dataclass(frozen=True)
class Setting:
    key: str
    type: SettingType
    default: Any
    label: str
    help: str
    section: Section
    legacy_key: str
    client: bool = False  # may a client override it?

    def clean(self, value: Any) -> Any:
        return self.type.clean(value)


DELIVERY_METHODS = ("email", "paper")
_DAYS_NOTICE = Int(-60, 120, nullable=True, unit="days", relative_to="the due date")
_S = Section

_DECLARATIONS: tuple[Setting, ...] = (
    # --- Invoice and Charge Options -------------------------------------------------
    Setting("invoice_days_before_renewal", Int(0, 60, unit="days"), 5,
            "Invoice days before renewal",
            "Days before a service or recurring invoice renews to generate its invoice.",
            _S.INVOICE_AND_CHARGE, "inv_days_before_renewal"),
    Setting("invoice_services_together", Bool(), True,
            "Invoice services together",
            "One invoice per client, currency and renew day for every service renewing that "
            "day; off: a separate invoice for each service.",
            _S.INVOICE_AND_CHARGE, "inv_group_services"),
    Setting("invoice_suspended_services", Bool(), True,
            "Invoice suspended services",
            "Keep invoicing suspended services at renewal; off: periods that start while "
            "suspended are skipped and never billed later.",
            _S.INVOICE_AND_CHARGE, "inv_suspended_services"),
    Setting("show_option_date_ranges", Bool(), False,
            "Show date ranges for configurable options",
            "Configurable option lines show the service period too.",
            _S.INVOICE_AND_CHARGE, "inv_lines_verbose_option_dates"),
    Setting("autodebit_enabled", Bool(), True,
            "Enable auto debit",
            "Auto debit may charge the client's auto-debit payment account when payment is due.",
            _S.INVOICE_AND_CHARGE, "autodebit", client=True),
    Setting("autodebit_days_before_due", Int(0, 60, unit="days"), 1,
            "Auto debit days before due date",
            "Open invoices are auto debited this many days before they are due, then retried "
            "daily while they stay open.",
            _S.INVOICE_AND_CHARGE, "autodebit_days_before_due"),
    Setting("autodebit_attempts", Int(1, 30, unit="declines"), 3,
            "Auto debit attempts",
            "Declines in a row before the payment account is disabled for auto debit (a note "
            "is added to the client).",
            _S.INVOICE_AND_CHARGE, "autodebit_attempts"),
    Setting("suspend_services_days_after_due", Int(1, 60, word="never", unit="days"), 7,
            "Suspend services days after due",
            "Days an invoice for a service may be past due before the service is suspended.",
            _S.INVOICE_AND_CHARGE, "suspend_services_days_after_due"),
    Setting("service_renewal_attempts", Int(1, 30, unit="attempts"), 24,
            "Service renewal attempts",
            "Failed renewal attempts before the service is flagged \"renewal failed\" and staff "
            "are told.",
            _S.INVOICE_AND_CHARGE, "service_renewal_attempts"),
    Setting("renewal_spacing_threshold_1", Int(1, 30, unit="attempts"), 6,
            "1st renewal attempt spacing threshold",
            "Failed attempts after which renewal attempts are spaced by the 1st spacing.",
            _S.INVOICE_AND_CHARGE, "first_renewal_attempt_threshold"),
    Setting("renewal_spacing_hours_1", Int(1, 168, unit="hours"), 1,
            "1st renewal attempt spacing",
            "Hours between renewal attempts once the 1st threshold is passed.",
            _S.INVOICE_AND_CHARGE, "first_renewal_attempt_spacing"),
    Setting("renewal_spacing_threshold_2", Int(1, 30, unit="attempts"), 12,
            "2nd renewal attempt spacing threshold",
            "Failed attempts after which renewal attempts are spaced by the 2nd spacing; must "
            "be greater than the 1st threshold.",
            _S.INVOICE_AND_CHARGE, "second_renewal_attempt_threshold"),
    Setting("renewal_spacing_hours_2", Int(1, 168, unit="hours"), 24,
            "2nd renewal attempt spacing",
            "Hours between renewal attempts once the 2nd threshold is passed.",
            _S.INVOICE_AND_CHARGE, "second_renewal_attempt_spacing"),
    Setting("cancel_service_changes_days_after_due", Int(1, 30, unit="days"), 7,
            "Cancel service changes days after due",
            "Days a queued service change (upgrade, downgrade, term change) may stay unpaid "
            "before it is cancelled and its invoice voided.",
            _S.INVOICE_AND_CHARGE, "cancel_service_changes_days"),
    Setting("queue_service_changes_until_paid", Bool(), False,
            "Queue service changes until paid",
            "Provision upgrades and downgrades only once their invoice is paid; off: at once.",
            _S.INVOICE_AND_CHARGE, "process_paid_service_changes"),
    Setting("client_can_set_invoice_method", Bool(), True,
            "Allow client to set invoice method",
            "Clients may choose their invoice delivery method among the offered methods.",
            _S.INVOICE_AND_CHARGE, "client_set_invoice"),
    Setting("client_can_cancel_services", Bool(), False,
            "Allow clients to cancel services",
            "Clients may cancel their own services, now or at the end of the term.",
            _S.INVOICE_AND_CHARGE, "clients_cancel_services"),
    Setting("synchronize_addons", Bool(), True,
            "Synchronize addons with their parent services",
            "Prorate new addons with the parent's monthly or yearly term to renew on the "
            "parent's renew date.",
            _S.INVOICE_AND_CHARGE, "synchronize_addons"),
    Setting("client_can_create_addons", Bool(), True,
            "Allow clients to create addons",
            "Clients may order addons for their existing services that support them.",
            _S.INVOICE_AND_CHARGE, "client_create_addons"),
    Setting("client_can_change_term", Bool(), False,
            "Allow clients to change service terms",
            "Clients may change the term of their recurring services.",
            _S.INVOICE_AND_CHARGE, "client_change_service_term"),
    Setting("client_can_change_package", Bool(), False,
            "Allow clients to change service package",
            "Clients may upgrade or downgrade the package of their recurring services.",
            _S.INVOICE_AND_CHARGE, "client_change_service_package"),
    Setting("prorate_downgrade_credits", Bool(), False,
            "Prorate credits for downgrades",
            "A mid-term downgrade of a package or configurable option credits the unused part "
            "of the price difference.",
            _S.INVOICE_AND_CHARGE, "client_prorate_credits"),
    Setting("auto_apply_credits", Bool(), True,
            "Automatically apply loose credits",
            "Apply loose credit to open invoices automatically, oldest due first.",
            _S.INVOICE_AND_CHARGE, "auto_apply_credits"),
    Setting("auto_provision_paid_pending", Bool(), True,
            "Automatically provision paid pending services",
            "Provision and activate pending services whose invoice is paid.",
            _S.INVOICE_AND_CHARGE, "auto_paid_pending_services"),
    Setting("void_invoices_on_cancel", Bool(), True,
            "Void invoices of cancelled services",
            "Void a cancelled service's open invoices; invoices that also bill other services "
            "only lose its lines.",
            _S.INVOICE_AND_CHARGE, "void_invoice_canceled_service"),
    Setting("void_on_cancel_max_days_past_due", Int(0, 60, word="any", unit="days"), 0,
            "Void on cancel: max days past due",
            "Only invoices at most this many days past due are voided on cancellation (0: only "
            "invoices not yet past due; \"any\": no limit).",
            _S.INVOICE_AND_CHARGE, "void_inv_canceled_service_days"),
    Setting("show_tax_id_field", Bool(), True,
            "Show the Tax ID field in the client portal",
            "Clients see and may edit their Tax ID in the portal.",
            _S.INVOICE_AND_CHARGE, "show_client_tax_id"),
    # --- Invoice Delivery -------------------------------------------------------------
    Setting("delivery_methods", ChoiceSet(DELIVERY_METHODS, always=("email",)), ["email"],
            "Invoice delivery methods",
            "Methods offered for invoice delivery; email is always offered. Paper invoices wait "
            "in a print queue.",
            _S.INVOICE_DELIVERY, "delivery_methods"),
    Setting("invoice_method", Choice(DELIVERY_METHODS), "email",
            "Invoice delivery method",
            "How invoices are delivered; must be one of the offered methods. Falls back to "
            "email when the method is no longer offered.",
            _S.INVOICE_DELIVERY, "inv_method", client=True),
    # --- Payment Due Notices ----------------------------------------------------------
    Setting("send_payment_notices", Bool(), True,
            "Send payment notices",
            "Master switch for the payment due notices below.",
            _S.PAYMENT_NOTICES, "send_payment_notices", client=True),
    Setting("notice_first_days", _DAYS_NOTICE, -1,
            "First notice",
            "Days relative to the due date (negative: before) to send the first notice; "
            "off (null): not sent.",
            _S.PAYMENT_NOTICES, "notice1"),
    Setting("notice_second_days", _DAYS_NOTICE, 3,
            "Second notice",
            "Days relative to the due date to send the second notice; off (null): not sent.",
            _S.PAYMENT_NOTICES, "notice2"),
    Setting("notice_third_days", _DAYS_NOTICE, 7,
            "Third notice",
            "Days relative to the due date to send the third notice; off (null): not sent.",
            _S.PAYMENT_NOTICES, "notice3"),
    Setting("notice_autodebit_pending_days", Int(1, 60, nullable=True, unit="days"), 1,
            "Auto-debit pending notice",
            "Days before an auto debit to tell the client their account will be charged; "
            "off (null): not sent.",
            _S.PAYMENT_NOTICES, "notice_pending_autodebit"),
    # --- Required Contact Fields ------------------------------------------------------
    Setting("required_contact_fields", ChoiceSet(CONTACT_FIELD_NAMES), [],
            "Required contact fields",
            "Fields that must be filled when a contact is added and that an edit may not "
            "empty.",
            _S.REQUIRED_CONTACT_FIELDS, "required_contact_fields"),
)  # fmt: skip

CATALOG: dict[str, Setting] = {s.key: s for s in _DECLARATIONS}
CLIENT_KEYS: frozenset[str] = frozenset(k for k, s in CATALOG.items() if s.client)
DEFAULTS: dict[str, Any] = {k: s.default for k, s in CATALOG.items()}
# The same declarations under the source platform's (Blesta's) names, for the import.
BY_LEGACY_KEY: dict[str, Setting] = {s.legacy_key: s for s in _DECLARATIONS}
assert len(BY_LEGACY_KEY) == len(CATALOG), "two settings share a legacy_key"


def by_section() -> list[tuple[Section, list[Setting]]]:
    return [(sec, [s for s in _DECLARATIONS if s.section == sec]) for sec in Section]


# --- Cross-key rules ---------------------------------------------------------------------
# Checked on the effective values of the level changed and of every level inheriting from it.


@dataclass(frozen=True)
class Rule:
    keys: tuple[str, ...]
    check: Callable[[dict[str, Any]], str | None]  # effective values -> problem or None


def _named(key: str, value: Any) -> str:
    """A key as people read it: its label and its value shown ("First notice (1 day
    before the due date)"), never the raw key."""
    setting = CATALOG[key]
    return f"{setting.label} ({setting.type.display(value)})"


def _thresholds_increase(v: dict[str, Any]) -> str | None:
    t1, t2 = v["renewal_spacing_threshold_1"], v["renewal_spacing_threshold_2"]
    if t2 <= t1:
        return (
            f"{_named('renewal_spacing_threshold_2', t2)} must be greater than "
            f"{_named('renewal_spacing_threshold_1', t1)}"
        )
    return None


_NOTICE_KEYS = ("notice_first_days", "notice_second_days", "notice_third_days")


def _notices_increase(v: dict[str, Any]) -> str | None:
    active = [(k, v[k]) for k in _NOTICE_KEYS if v[k] is not None]
    for (k1, d1), (k2, d2) in itertools.pairwise(active):
        if d2 <= d1:
            return (
                f"{_named(k2, d2)} must be later than {_named(k1, d1)}; "
                "notices go first, second, third"
            )
    return None


RULES: tuple[Rule, ...] = (
    Rule(("renewal_spacing_threshold_1", "renewal_spacing_threshold_2"), _thresholds_increase),
    Rule(_NOTICE_KEYS, _notices_increase),
)

# Rules are checked at company and group level only; a client-overridable key in a rule
# would need client-level checks too.
assert not any(set(r.keys) & CLIENT_KEYS for r in RULES)
for _rule in RULES:
    assert _rule.check(DEFAULTS) is None, _rule.keys
