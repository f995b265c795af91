"""WHMCS's settings for the settings import (../shared/IMPORT.md): its global billing
settings (`tblconfiguration`, one text value per name) and a client group's two flags
(`tblclientgroups.susptermexempt`, `separateinvoices`). Booleans are "on" or "" (off),
numbers are digits.

WHMCS's names do not map one to one: two of them make one key (AutoSuspension with
AutoSuspensionDays), a number may change its sign (SendInvoiceReminderDays N: N days
before the due date). So each Groupbill key WHMCS has a counterpart for is declared once
below, with the WHMCS names it reads and how; the keys themselves are the catalogue's
(each declaration names a catalogue key, checked at import). WHMCS names with no place in
Groupbill are listed with the reason, for the report; any other name is not a billing
setting (tblconfiguration holds the whole install's configuration) and is not read."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from groupbill.settings_catalog.catalog import CATALOG
from groupbill.settings_catalog.types import InvalidValue

ON, OFF = "on", ""


def _flag(values: dict[str, str], name: str) -> bool:
    text = values[name].strip()
    if text.lower() not in (ON, OFF, "off"):
        raise InvalidValue('must be "on" or "" (off)')
    return text.lower() == ON


def _days(values: dict[str, str], name: str) -> int:
    text = values[name].strip()
    if not text.isdigit():
        raise InvalidValue("must be a whole number of days (0 or more)")
    return int(text)


@dataclass(frozen=True)
class Rule:
    """One Groupbill key from WHMCS's names: `reads` (the first is the one a refusal
    names unless `convert` says otherwise); `convert` gets the level's values by WHMCS
    name (only when the first is present) and returns the key's value."""

    key: str
    reads: tuple[str, ...]
    convert: Callable[[dict[str, str]], Any]
    meaning: str


def _suspend(v: dict[str, str]) -> Any:
    if not _flag(v, "AutoSuspension"):
        return "never"
    if "AutoSuspensionDays" not in v:
        raise InvalidValue("is on but AutoSuspensionDays is missing")
    return _days(v, "AutoSuspensionDays")


def _notice(name: str, sign: int) -> Callable[[dict[str, str]], Any]:
    def convert(v: dict[str, str]) -> Any:
        days = _days(v, name) if v[name].strip() else 0
        return None if days == 0 else sign * days

    return convert


# Company level: tblconfiguration.
COMPANY_RULES: tuple[Rule, ...] = (
    Rule("invoice_days_before_renewal", ("CreateInvoiceDaysBefore",),
         lambda v: _days(v, "CreateInvoiceDaysBefore"), "days"),
    Rule("autodebit_days_before_due", ("CCProcessDaysBefore",),
         lambda v: _days(v, "CCProcessDaysBefore"), "days"),
    Rule("autodebit_attempts", ("CCAttemptOnlyOnce",),
         lambda v: 1 if _flag(v, "CCAttemptOnlyOnce") else _KEEP, '"on": one attempt'),
    Rule("suspend_services_days_after_due", ("AutoSuspension", "AutoSuspensionDays"),
         _suspend, 'AutoSuspension "on": AutoSuspensionDays; off: "never"'),
    Rule("send_payment_notices", ("SendReminder",), lambda v: _flag(v, "SendReminder"), "flag"),
    Rule("notice_first_days", ("SendInvoiceReminderDays",),
         _notice("SendInvoiceReminderDays", -1), "N days before the due date; 0: off"),
    Rule("notice_second_days", ("SendFirstOverdueInvoiceReminder",),
         _notice("SendFirstOverdueInvoiceReminder", 1), "N days after the due date; 0: off"),
    Rule("notice_third_days", ("SendSecondOverdueInvoiceReminder",),
         _notice("SendSecondOverdueInvoiceReminder", 1), "N days after the due date; 0: off"),
    Rule("auto_apply_credits", ("NoAutoApplyCredit",),
         lambda v: not _flag(v, "NoAutoApplyCredit"), '"on": credit is not applied'),
    Rule("void_invoices_on_cancel", ("CancelInvoiceOnCancellation",),
         lambda v: _flag(v, "CancelInvoiceOnCancellation"), "flag"),
    Rule("prorate_downgrade_credits", ("CreditOnDowngrade",),
         lambda v: _flag(v, "CreditOnDowngrade"), "flag"),
    Rule("client_can_cancel_services", ("ShowCancellationButton",),
         lambda v: _flag(v, "ShowCancellationButton"), "flag"),
)  # fmt: skip

# Group level: tblclientgroups' flags, each set only when "on" (off: the company's value).
GROUP_RULES: tuple[Rule, ...] = (
    Rule("suspend_services_days_after_due", ("susptermexempt",),
         lambda v: "never" if _flag(v, "susptermexempt") else _KEEP,
         '"on": exempt from automatic suspension'),
    Rule("invoice_services_together", ("separateinvoices",),
         lambda v: False if _flag(v, "separateinvoices") else _KEEP,
         '"on": a separate invoice per service'),
)  # fmt: skip

# WHMCS names that are billing settings with no place in Groupbill: why, for the report.
NO_PLACE = {
    "SendThirdOverdueInvoiceReminder": "Groupbill has three notices (one before, two after "
    "the due date): the third overdue reminder has no slot",
    "CCRetryEveryWeekFor": "no counterpart (Groupbill retries daily, autodebit_attempts times)",
    "AutoTermination": "automatic termination is not a Groupbill setting",
    "AutoTerminationDays": "automatic termination is not a Groupbill setting",
    "LateFeeType": "late fees are not imported",
    "InvoiceLateFeeAmount": "late fees are not imported",
    "AddLateFeeDays": "late fees are not imported",
}
for _cycle in ("Monthly", "Quarterly", "SemiAnnually", "Annually", "Biennially", "Triennially"):
    NO_PLACE[f"CreateInvoiceDaysBefore{_cycle}"] = (
        "per-cycle invoice days: Groupbill has one invoice_days_before_renewal"
    )

_KEEP = object()  # a converter's "say nothing": the level inherits
for _rule in COMPANY_RULES + GROUP_RULES:
    assert _rule.key in CATALOG, f"{_rule.key} is not in the catalogue"
READ = {name for rule in COMPANY_RULES for name in rule.reads} | set(NO_PLACE)


@dataclass
class Reading:
    values: dict[str, Any]
    refused: list[tuple[str, str, str, Any]]  # WHMCS name, key, message, value
    unknown: list[tuple[str, str, Any]]  # WHMCS name, why ignored, value
    notes: list[tuple[str, str, str, Any]]


def read_level(raw: dict[str, Any], *, group: bool) -> Reading:
    """One level's WHMCS values as Groupbill keys, cleaned by the catalogue; a refusal
    names the WHMCS name and says what it may be."""
    rules = GROUP_RULES if group else COMPANY_RULES
    texts = {name: "" if value is None else str(value) for name, value in raw.items()}
    out = Reading({}, [], [], [])
    used: set[str] = set()
    for rule in rules:
        used.update(rule.reads)
        if rule.reads[0] not in texts:
            continue
        try:
            value = rule.convert(texts)
            if value is _KEEP:
                continue
            out.values[rule.key] = CATALOG[rule.key].clean(value)
        except InvalidValue as exc:
            name = rule.reads[0]
            if len(rule.reads) > 1 and value_of_second(rule, texts):
                name = rule.reads[1]
            message = str(exc) or "is not a value Groupbill takes"
            out.refused.append((name, rule.key, message, raw.get(name)))
    for name in sorted(set(texts) - used):
        if name in NO_PLACE and texts[name].strip() in ("", "0"):
            continue  # not in use in WHMCS: nothing is lost
        why = NO_PLACE.get(name, "not a setting Groupbill knows: ignored")
        out.unknown.append((name, why, raw[name]))
    return out


def value_of_second(rule: Rule, texts: dict[str, str]) -> bool:
    """Whether a refusal of a two-name rule lies in its second name (the first read
    well): AutoSuspension is "on", so AutoSuspensionDays is what is wrong."""
    try:
        return _flag(texts, rule.reads[0]) and rule.reads[1] in texts
    except InvalidValue:
        return False
