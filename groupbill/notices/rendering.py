"""The default subject and plain-text body of each message the engine queues, rendered in
Jinja2's sandbox over the message's context plus the company and client names.

Editable per-company templates (issue 5, item 1) will override these defaults; until then
this dict is the one place a message's wording lives.
"""

from dataclasses import dataclass
from typing import Any

from babel.numbers import format_currency
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from groupbill import money

_INVOICE_FOOTER = (
    "\n\nInvoice {{ number }}: total {{ total|money(currency) }}, "
    "balance due {{ balance_due|money(currency) }}, due on {{ due_on }}.\n\n{{ company_name }}\n"
)

DEFAULTS: dict[str, tuple[str, str]] = {
    "invoice_unpaid": (
        "Invoice {{ number }} from {{ company_name }}",
        "Hello {{ client_name }},\n\nyour new invoice {{ number }} is ready. Please pay "
        "{{ balance_due|money(currency) }} by {{ due_on }}." + _INVOICE_FOOTER,
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
        "notice before your services may be suspended." + _INVOICE_FOOTER,
    ),
    "autodebit_pending": (
        "Upcoming automatic payment: invoice {{ number }}",
        "Hello {{ client_name }},\n\nwe will charge {{ balance_due|money(currency) }} for "
        "invoice {{ number }} to your payment account on file shortly." + _INVOICE_FOOTER,
    ),
    "renewal_failed": (
        "Renewal failed: service #{{ service_id }} ({{ package }})",
        "The renewal of service #{{ service_id }} ({{ package }}) for {{ client_name }} "
        "failed after {{ attempts }} attempt(s) for the period starting {{ period_start }}.\n"
        'The service is flagged "renewal failed"; please check it.\n\n{{ company_name }}\n',
    ),
}


class RenderError(Exception):
    """The message cannot be rendered (unknown template, missing variable, sandbox refusal)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _money(minor: Any, currency: str, locale: str = "en") -> str:
    return format_currency(money.to_decimal(int(minor), currency), currency, locale=locale)


def _environment(locale: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined,
                               keep_trailing_newline=True)  # fmt: skip
    env.filters["money"] = lambda minor, currency: _money(minor, currency, locale)
    return env


def render(
    template: str,
    context: dict[str, Any],
    *,
    company_name: str,
    client_name: str = "",
    locale: str = "en",
) -> Rendered:
    """Subject and body of `template`; RenderError names what went wrong."""
    if template not in DEFAULTS:
        raise RenderError(f"no message template named {template!r}")
    subject_src, body_src = DEFAULTS[template]
    values = {**context, "company_name": company_name, "client_name": client_name}
    env = _environment(locale)
    try:
        subject = env.from_string(subject_src).render(values)
        body = env.from_string(body_src).render(values)
    except (TemplateError, ValueError, TypeError, ArithmeticError) as exc:
        raise RenderError(f"template {template!r}: {exc}") from exc
    # A header never spans lines.
    return Rendered(subject=" ".join(subject.split()), body=body)
