"""Payment reminders staff send now (the invoice list's bulk action): the first notice's
wording, queued in the outbox like the engine's notices, once per invoice and company day
(a double click, or two staff at once, queue one), audited on the invoice."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from groupbill.audit.actions import record
from groupbill.billing.models import Invoice, InvoiceStatus
from groupbill.companies.queries import company_today
from groupbill.errors import ValidationFailed
from groupbill.notices import outbox
from groupbill.notices.events import invoice_message

TEMPLATE = "notice_first"
# The most invoices one request reminds (the list's largest page).
MAX_INVOICES = 100


@dataclass
class Reminded:
    queued: list[Invoice] = field(default_factory=list)
    already: list[Invoice] = field(default_factory=list)  # reminded today before
    not_open: list[Invoice] = field(default_factory=list)  # drafts, paid or void
    no_recipient: list[Invoice] = field(default_factory=list)  # no contact with an email


def key_of(invoice: Invoice) -> str:
    return f"reminder:{invoice.pk}:{company_today(invoice.company).isoformat()}"


def send_reminders(invoice_ids: list[int], *, actor: str) -> Reminded:
    """Queue a reminder for each open invoice of these; see `Reminded` for the rest."""
    ids = sorted(set(invoice_ids))
    if not ids:
        raise ValidationFailed.one("invoices", "choose the invoices to remind")
    if len(ids) > MAX_INVOICES:
        raise ValidationFailed.one(
            "invoices", f"remind at most {MAX_INVOICES} invoices at once, not {len(ids)}"
        )
    result = Reminded()
    invoices = list(Invoice.objects.filter(pk__in=ids).select_related("company").order_by("pk"))
    open_ = [i for i in invoices if i.status == InvoiceStatus.OPEN]
    result.not_open = [i for i in invoices if i.status != InvoiceStatus.OPEN]
    recipients = outbox.recipients_for(sorted({i.client_id for i in open_}))
    messages = {}
    for invoice in open_:
        if not recipients[invoice.client_id]:
            result.no_recipient.append(invoice)
            continue
        message = invoice_message(invoice, key=key_of(invoice), template=TEMPLATE,
                                  recipients=recipients[invoice.client_id])  # fmt: skip
        messages[message["key"]] = (invoice, message)
    written = _queue([m for _, m in messages.values()], actor)
    for key, (invoice, _) in messages.items():
        (result.queued if key in written else result.already).append(invoice)
    return result


def _queue(messages: list, actor: str) -> set[str]:
    """Queue the messages, each audited; a key another request queued meanwhile is skipped
    (then one by one, as the engine does)."""
    try:
        with transaction.atomic():
            written = outbox.queue_many(messages)
            _audit([m for m in messages if m["key"] in written], actor)
        return written
    except IntegrityError:
        written = set()
        for message in messages:
            with transaction.atomic():
                if _queue_one(message):
                    written.add(message["key"])
                    _audit([message], actor)
        return written


def _queue_one(message) -> bool:
    return outbox.queue(**message)


def _audit(messages: list, actor: str) -> None:
    invoices = {i.pk: i for i in Invoice.objects.filter(pk__in=[m["invoice_id"] for m in messages])}
    for message in messages:
        record(subject=invoices[message["invoice_id"]], actor=actor, action="invoice.reminder",
               new={"template": message["template"], "key": message["key"],
                    "to": [r["email"] for r in message["recipients"]]})  # fmt: skip
