"""The default subject and plain-text body of each message, the context documented for each
template key, and rendering in Jinja2's sandbox over the message's context plus the company
and client names.

A company may override a key's subject, text and HTML (`MessageTemplate`, edited on the
Message templates page; saving is validated against `CONTEXTS` in notices/templates.py);
otherwise the default below is used. This module is the one place the defaults live.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from groupbill import money

_INVOICE_FOOTER = (
    "\n\nInvoice {{ number }}: total {{ total|money(currency) }}, "
    "balance due {{ balance_due|money(currency) }}, due on {{ due_on|date }}."
    "\n\n{{ company_name }}\n"
)

DEFAULTS: dict[str, tuple[str, str]] = {
    "invoice_unpaid": (
        "Invoice {{ number }} from {{ company_name }}",
        "Hello {{ client_name }},\n\nyour new invoice {{ number }} is ready. Please pay "
        "{{ balance_due|money(currency) }} by {{ due_on|date }}." + _INVOICE_FOOTER,
    ),
    "invoice_paid": (
        "Invoice {{ number }} from {{ company_name }} (paid)",
        "Hello {{ client_name }},\n\nyour invoice {{ number }} of {{ total|money(currency) }} "
        "is paid. Thank you." + _INVOICE_FOOTER,
    ),
    "notice_first": (
        "Payment reminder: invoice {{ number }}",
        "Hello {{ client_name }},\n\nthis is a friendly reminder that invoice {{ number }} "
        "is unpaid." + _INVOICE_FOOTER,
    ),
    "notice_second": (
        "Second payment reminder: invoice {{ number }}",
        "Hello {{ client_name }},\n\ninvoice {{ number }} is still unpaid. Please pay "
        "{{ balance_due|money(currency) }} as soon as possible." + _INVOICE_FOOTER,
    ),
    "notice_third": (
        "Final payment notice: invoice {{ number }}",
        "Hello {{ client_name }},\n\ninvoice {{ number }} remains unpaid. This is the final "
        "notice{% if suspends|default(true) %} before your services may be suspended{% endif %}."
        + _INVOICE_FOOTER,
    ),
    "autodebit_pending": (
        "Upcoming automatic payment: invoice {{ number }}",
        "Hello {{ client_name }},\n\nwe will charge {{ balance_due|money(currency) }} for "
        "invoice {{ number }} to your payment account on file shortly." + _INVOICE_FOOTER,
    ),
    "payment_received": (
        "Payment received: invoice {{ number }}",
        "Hello {{ client_name }},\n\nwe received your payment of {{ amount|money(currency) }} "
        "on {{ paid_on|date }}. Thank you." + _INVOICE_FOOTER,
    ),
    "payment_declined": (
        "Payment declined: invoice {{ number }}",
        "Hello {{ client_name }},\n\nyour payment of {{ amount|money(currency) }} for invoice "
        "{{ number }} was declined ({{ reason }}). Please pay another way or update your "
        "payment account." + _INVOICE_FOOTER,
    ),
    "payment_action_required": (
        "Please confirm your payment: invoice {{ number }}",
        "Hello {{ client_name }},\n\nyour bank asks you to confirm the payment of "
        "{{ amount|money(currency) }} for invoice {{ number }} (3-D Secure). Until you do, "
        "nothing is charged. Confirm it at {{ authenticate_url }}." + _INVOICE_FOOTER,
    ),
    "payment_account_disabled": (
        "Automatic payment disabled for {{ account }}",
        "Hello {{ client_name }},\n\nyour payment account {{ account }} is no longer used for "
        "automatic payments ({{ reason }}). Please add or update a payment account.\n\n"
        "{{ company_name }}\n",
    ),
    "service_suspended": (
        "Service suspended: {{ package }}",
        "Hello {{ client_name }},\n\nyour service #{{ service_id }} ({{ package }}) is "
        "suspended: {{ reason }}.\n\n{{ company_name }}\n",
    ),
    "service_unsuspended": (
        "Service active again: {{ package }}",
        "Hello {{ client_name }},\n\nyour service #{{ service_id }} ({{ package }}) is active "
        "again.\n\n{{ company_name }}\n",
    ),
    "service_change_cancelled": (
        "Service change cancelled: {{ package }}",
        "Hello {{ client_name }},\n\nthe scheduled change to your service #{{ service_id }} "
        "({{ package }}) was cancelled: {{ change }}.\n\n{{ company_name }}\n",
    ),
    "password_reset": (
        "Reset your password at {{ company_name }}",
        "Hello {{ client_name }},\n\nto choose a new password, open {{ reset_url }} within "
        "{{ valid_hours }} hours. If you did not ask for this, ignore this message.\n\n"
        "{{ company_name }}\n",
    ),
    "payment_disputed": (
        "Payment disputed: {{ client_name }}",
        "{{ client_name }} disputed payment #{{ transaction_id }} with their bank: "
        "{{ amount|money(currency) }}, reason {{ reason }} (dispute {{ dispute }}).\n"
        "Answer the dispute at the payment gateway before its deadline.\n\n"
        "{{ company_name }}\n",
    ),
    "renewal_failed": (
        "Renewal failed: service #{{ service_id }} ({{ package }})",
        "The renewal of service #{{ service_id }} ({{ package }}) for {{ client_name }} "
        "failed after {{ attempts }} attempt(s) for the period starting {{ period_start|date }}.\n"
        'The service is flagged "renewal failed"; please check it.\n\n{{ company_name }}\n',
    ),
}

# The variables each template may use (name -> description), shown on the edit page; saving a
# company template that uses anything else is refused.
_ALWAYS = {
    "company_name": "the company's name",
    "client_name": "the client's primary contact (or company) name",
}
_INVOICE = {
    **_ALWAYS,
    "invoice_id": "the invoice's internal id",
    "number": "the invoice number",
    "currency": "the invoice currency (ISO code, e.g. EUR)",
    "total": "the invoice total in minor units; show it with |money(currency)",
    "balance_due": "what is still owed, in minor units; show it with |money(currency)",
    "issued_on": "the issue date (YYYY-MM-DD; |date formats it for the client)",
    "due_on": "the due date (YYYY-MM-DD; |date formats it for the client)",
}
_SERVICE = {**_ALWAYS, "service_id": "the service's id", "package": "the package name"}
CONTEXTS: dict[str, dict[str, str]] = {
    "invoice_unpaid": _INVOICE,
    "invoice_paid": _INVOICE,
    "notice_first": _INVOICE,
    "notice_second": _INVOICE,
    "notice_third": {
        **_INVOICE,
        "suspends": "true when unpaid invoices suspend this client's services (its group does "
        "not say never, the client is not exempt)",
    },
    "autodebit_pending": _INVOICE,
    "payment_received": {
        **_INVOICE,
        "amount": "the payment amount in minor units; show it with |money(currency)",
        "paid_on": "the payment date (YYYY-MM-DD; |date formats it for the client)",
    },
    "payment_declined": {
        **_INVOICE,
        "amount": "the declined amount in minor units; show it with |money(currency)",
        "reason": "why the payment was declined",
    },
    "payment_action_required": {
        **_INVOICE,
        "amount": "the amount waiting for confirmation, in minor units; show it with "
        "|money(currency)",
        "authenticate_url": "the portal page where the card holder confirms the payment",
    },
    "payment_account_disabled": {
        **_ALWAYS,
        "account": "the payment account's label (e.g. Visa ending 4242)",
        "reason": "why it is no longer used for automatic payments",
    },
    "service_suspended": {**_SERVICE, "reason": "why the service is suspended"},
    "service_unsuspended": _SERVICE,
    "service_change_cancelled": {**_SERVICE, "change": "the change that was cancelled"},
    "password_reset": {
        **_ALWAYS,
        "reset_url": "the link that sets a new password",
        "valid_hours": "how many hours the link works",
    },
    "payment_disputed": {
        **_ALWAYS,
        "transaction_id": "the disputed payment's id",
        "amount": "the disputed amount in minor units; show it with |money(currency)",
        "currency": "the disputed amount's currency (ISO code, e.g. EUR)",
        "reason": "the reason the bank gave (e.g. fraudulent)",
        "dispute": "the gateway's id of the dispute",
    },
    "renewal_failed": {
        **_SERVICE,
        "attempts": "how many renewal attempts failed",
        "period_start": "the first day of the period that could not be renewed (YYYY-MM-DD)",
    },
}

# Values for a preview when there is no real invoice (and for the non-invoice variables).
SAMPLE: dict[str, Any] = {
    "company_name": "Example Company",
    "client_name": "Ada Lovelace",
    "invoice_id": 0,
    "number": 1001,
    "currency": "EUR",
    "total": 11900,
    "balance_due": 11900,
    "issued_on": "2026-03-01",
    "due_on": "2026-03-15",
    "amount": 11900,
    "paid_on": "2026-03-10",
    "reason": "insufficient funds",
    "account": "Visa ending 4242",
    "service_id": 7,
    "package": "VPS S",
    "change": "upgrade to VPS M",
    "reset_url": "https://example.com/reset/abc123",
    "authenticate_url": "https://example.com/portal/payments/42/authenticate/",
    "valid_hours": 24,
    "attempts": 3,
    "period_start": "2026-03-01",
    "transaction_id": 42,
    "dispute": "dp_1Example",
    "suspends": True,
}


class RenderError(Exception):
    """The message cannot be rendered (unknown template, missing variable, sandbox refusal)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str = ""


@dataclass(frozen=True)
class Source:
    subject: str
    text: str
    html: str = ""


def _money(minor: Any, currency: str, locale: str = "en") -> str:
    return format_currency(money.to_decimal(int(minor), currency), currency, locale=locale)


def _date(value: Any, locale: str = "en") -> str:
    """An ISO date ("2026-03-15") as the client reads it ("Mar 15, 2026", "15.03.2026")."""
    if not value:
        return ""
    return format_date(date.fromisoformat(str(value)[:10]), format="medium", locale=locale)


def environment(locale: str = "en", *, html: bool = False) -> SandboxedEnvironment:
    """The sandbox; `html=True` autoescapes every value (the HTML part)."""
    env = SandboxedEnvironment(autoescape=html, undefined=StrictUndefined,
                               keep_trailing_newline=True)  # fmt: skip
    env.filters["money"] = lambda minor, currency: _money(minor, currency, locale)
    env.filters["date"] = lambda value: _date(value, locale)
    # No range(), lipsum(), dict(), ...: a template sees its documented context only.
    env.globals.clear()
    return env


def source_for(template: str, company: Any = None) -> Source:
    """The company's own template for `template` when it has one, else the default."""
    if template not in DEFAULTS:
        raise RenderError(f"no message template named {template!r}")
    if company is not None:
        from groupbill.notices.models import MessageTemplate

        own = MessageTemplate.objects.filter(company=company, key=template).first()
        if own is not None:
            return Source(own.subject, own.text, own.html)
    subject, text = DEFAULTS[template]
    return Source(subject, text)


def render_source(source: Source, values: dict[str, Any], *, locale: str = "en",
                  name: str = "") -> Rendered:  # fmt: skip
    try:
        subject = environment(locale).from_string(source.subject).render(values)
        body = environment(locale).from_string(source.text).render(values)
        html = ""
        if source.html.strip():
            html = environment(locale, html=True).from_string(source.html).render(values)
    except (TemplateError, ValueError, TypeError, ArithmeticError) as exc:
        raise RenderError(f"template {name!r}: {exc}") from exc
    # A header never spans lines.
    return Rendered(subject=" ".join(subject.split()), body=body, html=html)


def render(
    template: str,
    context: dict[str, Any],
    *,
    company_name: str,
    client_name: str = "",
    locale: str = "en",
    company: Any = None,
) -> Rendered:
    """Subject, body and (when the template has one) HTML of `template`, from `company`'s own
    template when it has one; RenderError names what went wrong."""
    source = source_for(template, company)
    values = {**context, "company_name": company_name, "client_name": client_name}
    return render_source(source, values, locale=locale, name=template)
