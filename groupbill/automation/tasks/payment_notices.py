"""payment_notices: the first, second and third notices of an open invoice go on the day
`notice_*_days` after its due date (negative: before), once each, to the billing contacts
(else the primary contact). A missed day is caught up on the next run unless a later
notice of that invoice is due already (then only the latest goes), or the invoice was not
issued yet on that day. A notice that falls due while `send_payment_notices` (a client key)
is off is recorded as suppressed and never sent later. The auto-debit pending notice goes
`notice_autodebit_pending_days` before the invoice's auto-debit day, when the client will
be auto debited; a missed day is caught up until the charge day, unless the invoice was
not issued yet on that day (the same rule as the other notices)."""

from datetime import timedelta
from functools import partial

from django.db import transaction

from groupbill.automation.plan import Action
from groupbill.automation.tasks.autodebit import autodebit_accounts, autodebit_day
from groupbill.automation.view import CompanyView
from groupbill.billing.models import Invoice, InvoiceStatus, PaymentAccount
from groupbill.clients.models import Client
from groupbill.notices import outbox
from groupbill.notices.events import invoice_message
from groupbill.notices.models import MessageStatus, OutboxMessage

NAME = "payment_notices"
NOTICES = (
    ("notice_first_days", "notice_first"),
    ("notice_second_days", "notice_second"),
    ("notice_third_days", "notice_third"),
)


def _latest_due(view: CompanyView, invoice: Invoice) -> str | None:
    settings = view.for_client(invoice.client_id)
    latest = None
    for key, template in NOTICES:
        days = settings.value(key)
        if days is None:
            continue
        day = invoice.due_on + timedelta(days=days)
        if invoice.issued_on <= day <= view.today:
            latest = template
    return latest


def _open(view: CompanyView):
    return Invoice.objects.filter(
        company=view.company, status=InvoiceStatus.OPEN, issued_on__isnull=False
    )


def _earliest_offset(view: CompanyView) -> int:
    """The earliest day, relative to an invoice's due date, that any group sends any
    notice on (the auto-debit pending notice included)."""
    offsets = [
        days
        for group in view.groups.values()
        for days in (group[key] for key, _ in NOTICES)
        if days is not None
    ]
    leads = [g["notice_autodebit_pending_days"] for g in view.groups.values()]
    if any(lead is not None for lead in leads):
        lead = max(lead for lead in leads if lead is not None)
        offsets.append(-(view.max_of("autodebit_days_before_due") + lead))
    return min(offsets, default=None)


def _noticeable(view: CompanyView):
    """Open invoices whose earliest notice day has come (and, once due, those that stay
    open: a later notice or a caught-up one may still be due); None: notices are off."""
    earliest = _earliest_offset(view)
    if earliest is None:
        return None
    return _open(view).filter(due_on__lte=view.today - timedelta(days=earliest))


def due(view: CompanyView):
    invoices = _noticeable(view)
    return [] if invoices is None else invoices.values("client_id")


def _queue(messages: list[dict]) -> list[bool]:
    """Each message queued unless its key was (once per invoice and notice)."""
    with transaction.atomic():
        written = outbox.queue_many(messages)
    return [m["key"] in written for m in messages]


def _queue_one(message: dict) -> bool:
    return _queue([message])[0]


def apply_batch(view: CompanyView, actions: list[Action]) -> list[bool]:
    return _queue([a.payload for a in actions])


def _autodebit_pending_due(
    view: CompanyView, invoice: Invoice, accounts: dict[int, PaymentAccount]
) -> bool:
    """Is the auto-debit pending notice of this invoice due today (caught up until the
    charge day, never for a day before the invoice existed)?"""
    settings = view.for_client(invoice.client_id)
    lead = settings.value("notice_autodebit_pending_days")
    if lead is None or invoice.client_id not in accounts:
        return False
    if not settings.value("autodebit_enabled"):
        return False
    charge_day = autodebit_day(view, invoice.due_on, invoice.client_id)
    notice_day = charge_day - timedelta(days=lead)
    return invoice.issued_on <= notice_day <= view.today < charge_day


def _wanted(view: CompanyView, invoices: list[Invoice]) -> list[tuple[Invoice, str]]:
    """Each notice due today of these invoices, as (invoice, template)."""
    accounts = autodebit_accounts(view, {i.client_id for i in invoices})
    wanted: list[tuple[Invoice, str]] = []
    for invoice in invoices:
        latest = _latest_due(view, invoice)
        if latest:
            wanted.append((invoice, latest))
        if _autodebit_pending_due(view, invoice, accounts):
            wanted.append((invoice, "autodebit_pending"))
    return wanted


def _key(invoice: Invoice, template: str) -> str:
    return f"notice:{invoice.pk}:{template}"  # once per invoice and notice


def _suspends(view: CompanyView, client_id: int, autosuspend: dict[int, bool]) -> bool:
    """Would the engine suspend this client's services for an unpaid invoice? Not when its
    settings say `never` or the client is exempt (`autosuspend` off)."""
    never = view.for_client(client_id).value("suspend_services_days_after_due") == "never"
    return autosuspend.get(client_id, True) and not never


def _notice(
    view: CompanyView, invoice: Invoice, template: str, recipients: list, suspends: bool
) -> Action:
    """The action queueing this notice: to be sent, or recorded as suppressed while the
    client's `send_payment_notices` is off. The final notice says whether services may be
    suspended (`suspends`)."""
    key = _key(invoice, template)
    on = view.for_client(invoice.client_id).value("send_payment_notices")
    status = MessageStatus.PENDING if on else MessageStatus.SUPPRESSED
    message = invoice_message(invoice, key=key, template=template, status=status,
                              recipients=recipients)  # fmt: skip
    if template == "notice_third":
        message["context"]["suspends"] = suspends
    verb = "Send" if on else "Suppress (notices off)"
    return Action(
        key,
        f"{verb} {template} for {invoice}",
        partial(_queue_one, message),
        invoice.client_id,
        invoice.balance_due,
        invoice.currency,
        {"template": template, "status": status},
        payload=message,
    )


def plan(view: CompanyView) -> list[Action]:
    noticeable = _noticeable(view)
    if noticeable is None:
        return []
    invoices = list(view.scoped(noticeable).order_by("pk"))
    if not invoices:
        return []
    queued = set(
        OutboxMessage.objects.filter(invoice__in=invoices, key__startswith="notice:").values_list(
            "key", flat=True
        )
    )
    wanted = _wanted(view, invoices)
    client_ids = sorted({i.client_id for i in invoices})
    recipients = outbox.recipients_for(client_ids)
    autosuspend = dict(Client.objects.filter(pk__in=client_ids).values_list("pk", "autosuspend"))
    return [
        _notice(
            view,
            invoice,
            template,
            recipients[invoice.client_id],
            _suspends(view, invoice.client_id, autosuspend),
        )
        for invoice, template in wanted
        if _key(invoice, template) not in queued
    ]
