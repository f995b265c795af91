"""Company message templates: validated saving, reset to the default, and preview.

A template is checked when saved, not only when rendered: it is parsed with the sandboxed
environment (a syntax error is refused with its line), then its syntax tree is walked and
refused when it uses a variable outside the key's documented context
(`rendering.CONTEXTS`), reaches for an attribute or item whose name starts with "_" (e.g.
`''.__class__`), or includes/imports/extends other templates. Rendering still runs in the
sandbox, so anything that slipped through stays inert.
"""

from dataclasses import dataclass
from typing import Any

from babel.core import Locale, UnknownLocaleError
from django.db import transaction
from jinja2 import TemplateSyntaxError, meta, nodes

from groupbill.audit.actions import Subject, record
from groupbill.errors import FieldError, ValidationFailed
from groupbill.notices import rendering
from groupbill.notices.models import MessageTemplate

FIELDS = ("subject", "text", "html")
MAX_LENGTH = {"subject": 500, "text": 100_000, "html": 200_000}
_FORBIDDEN_NODES = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)


def _expression(node: nodes.Node) -> str:
    """Source-like text of an expression, to name it in an error."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_expression(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_expression(node.node)}[{_expression(node.arg)}]"
    if isinstance(node, nodes.Call):
        return f"{_expression(node.node)}(...)"
    if isinstance(node, nodes.Filter):
        return f"{_expression(node.node) if node.node else '...'}|{node.name}"
    return f"<{type(node).__name__.lower()}>"


def _private(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Getattr):
        return node.attr.startswith("_")
    if isinstance(node, nodes.Getitem):
        return isinstance(node.arg, nodes.Const) and str(node.arg.value).startswith("_")
    return False


def check(key: str, field: str, source: str) -> list[str]:
    """What is wrong with one field's template source (empty when it is acceptable)."""
    allowed = rendering.CONTEXTS[key]
    env = rendering.environment(html=field == "html")
    try:
        tree = env.parse(source)
        env.from_string(source)  # compile too: an unknown filter is refused here
    except TemplateSyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.message}"]
    problems = []
    for name in sorted(meta.find_undeclared_variables(tree) - set(allowed)):
        problems.append(f"{{{{ {name} }}}} is not available to this template")
    reported: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in reported:
            continue
        # Report the outermost access of a chain that reaches for a "_" name, once.
        chain, inner = [], node
        while isinstance(inner, (nodes.Getattr, nodes.Getitem)):
            chain.append(inner)
            inner = inner.node
        if any(_private(n) for n in chain):
            reported.update(id(n) for n in chain)
            problems.append(
                f"{{{{ {_expression(node)} }}}} is refused: names starting with '_' "
                "are not accessible"
            )
    # attr('__class__'), map(attribute='__class__'), ...: the same reach through a filter.
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        arguments = [*node.args, *(kw.value for kw in node.kwargs)]
        if any(isinstance(a, nodes.Const) and str(a.value).startswith("_") for a in arguments):
            problems.append(
                f"{{{{ {_expression(node.node) if node.node else '...'}|{node.name}(...) }}}} "
                "is refused: names starting with '_' are not accessible"
            )
    for node in tree.find_all(_FORBIDDEN_NODES):
        problems.append(
            f"line {node.lineno}: {type(node).__name__.lower()} of other templates is not allowed"
        )
    return problems


def validate(key: str, data: dict[str, Any]) -> dict[str, str]:
    """The cleaned subject/text/html, or ValidationFailed naming each bad field."""
    if key not in rendering.DEFAULTS:
        raise ValidationFailed.one("key", f"no message template named {key!r}")
    cleaned = {f: str(data.get(f) or "").replace("\r\n", "\n") for f in FIELDS}
    errors: list[FieldError] = []
    for field in FIELDS:
        value = cleaned[field]
        if field != "html" and not value.strip():
            errors.append(FieldError(field, "This field is required."))
            continue
        if len(value) > MAX_LENGTH[field]:
            errors.append(FieldError(field, f"At most {MAX_LENGTH[field]} characters."))
            continue
        for problem in check(key, field, value):
            errors.append(FieldError(field, problem))
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _template_subject(company, key: str) -> Subject:
    return Subject("company", company.pk, company.pk, f"Message template {key}")


def save_template(company, key: str, data: dict[str, Any], *, actor: str) -> MessageTemplate:
    """Create or replace the company's template for `key` (audited)."""
    cleaned = validate(key, data)
    with transaction.atomic():
        row = MessageTemplate.objects.select_for_update().filter(company=company, key=key).first()
        old = {f: getattr(row, f) for f in FIELDS} if row else None
        if row is None:
            row = MessageTemplate(company=company, key=key)
        for field, value in cleaned.items():
            setattr(row, field, value)
        row.save()
        record(subject=_template_subject(company, key), actor=actor,
               action="message_template.save", key=key, old=old, new=cleaned)  # fmt: skip
    return row


def reset_template(company, key: str, *, actor: str) -> bool:
    """Back to the default wording; False when the company had no template of its own."""
    if key not in rendering.DEFAULTS:
        raise ValidationFailed.one("key", f"no message template named {key!r}")
    with transaction.atomic():
        row = MessageTemplate.objects.select_for_update().filter(company=company, key=key).first()
        if row is None:
            return False
        old = {f: getattr(row, f) for f in FIELDS}
        row.delete()
        record(subject=_template_subject(company, key), actor=actor,
               action="message_template.reset", key=key, old=old)  # fmt: skip
    return True


@dataclass(frozen=True)
class Preview:
    rendered: rendering.Rendered
    invoice: Any  # the invoice whose values were used, or None (sample values)


def preview_values(company, key: str) -> tuple[dict[str, Any], str, Any]:
    """Values for a preview: the company's latest issued invoice when the key documents
    invoice variables and there is one, else sample values. Returns (values, locale,
    invoice)."""
    from groupbill.billing.models import Invoice, InvoiceStatus
    from groupbill.clients.models import Contact, ContactRole
    from groupbill.notices.events import invoice_context

    allowed = rendering.CONTEXTS[key]
    values = {k: v for k, v in rendering.SAMPLE.items() if k in allowed}
    values["company_name"] = company.name
    locale, invoice = "en", None
    if "number" in allowed:
        invoice = (
            Invoice.objects.filter(company=company, status__in=[InvoiceStatus.OPEN,
                                                                 InvoiceStatus.PAID])
            .select_related("client")
            .order_by("-issued_on", "-number", "-pk")
            .first()
        )  # fmt: skip
    if invoice is not None:
        values.update(invoice_context(invoice))
        contact = Contact.objects.filter(client_id=invoice.client_id,
                                         role=ContactRole.PRIMARY).first()  # fmt: skip
        if contact is not None:
            values["client_name"] = contact.display_name
        language = (invoice.client.language or "en").replace("-", "_")
        try:
            Locale.parse(language)
            locale = language
        except (UnknownLocaleError, ValueError):
            locale = "en"
    return values, locale, invoice


def preview(company, key: str, data: dict[str, Any]) -> Preview:
    """Render `data` (not saved) the way it would be sent; ValidationFailed when it would be
    refused on saving or cannot be rendered."""
    cleaned = validate(key, data)
    values, locale, invoice = preview_values(company, key)
    source = rendering.Source(cleaned["subject"], cleaned["text"], cleaned["html"])
    try:
        rendered = rendering.render_source(source, values, locale=locale, name=key)
    except rendering.RenderError as exc:
        raise ValidationFailed.one("text", str(exc)) from exc
    return Preview(rendered, invoice)
