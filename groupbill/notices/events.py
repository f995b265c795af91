"""Messages that actions queue when something happens to a client: written to the outbox
in the action's own transaction, once per event (the key names the event)."""

from typing import Any

from django.conf import settings
from django.urls import reverse

from groupbill.notices import outbox
from groupbill.notices.models import MessageStatus


def invoice_context(invoice) -> dict[str, Any]:
    """What every invoice message may use (documented in rendering.CONTEXTS)."""
    return {
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "currency": invoice.currency,
        "total": invoice.total,
        "balance_due": invoice.balance_due,
        "issued_on": invoice.issued_on.isoformat() if invoice.issued_on else None,
        "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
    }


def invoice_message(
    invoice, *, key: str, template: str, recipients, status: str = MessageStatus.PENDING
) -> dict[str, Any]:
    """An invoice's own message as the outbox row's values, not yet saved (for
    `outbox.queue_many`, which writes thousands without building model instances)."""
    return {"key": key, "company_id": invoice.company_id, "client_id": invoice.client_id,
            "invoice_id": invoice.pk, "template": template, "recipients": recipients,
            "context": invoice_context(invoice), "status": status}  # fmt: skip


def queue_invoice_message(
    invoice,
    *,
    key: str,
    template: str,
    recipients: list[dict[str, str]],
    status: str = MessageStatus.PENDING,
) -> bool:
    """An invoice's own message (delivery, payment notice) to recipients the engine looked
    up for many clients at once; False when this key was queued before."""
    return outbox.queue(**invoice_message(invoice, key=key, template=template,
                                          recipients=recipients, status=status))  # fmt: skip


def _queue(key: str, template: str, client, context: dict[str, Any], invoice=None) -> bool:
    return outbox.queue(
        key=key,
        company_id=client.company_id,
        client_id=client.pk,
        invoice_id=invoice.pk if invoice is not None else None,
        template=template,
        recipients=outbox.recipients_for([client.pk])[client.pk],
        context=context,
    )


def payment_received(txn, invoice, paid_on) -> None:
    invoice.refresh_from_db()
    context = invoice_context(invoice) | {"amount": txn.amount, "paid_on": paid_on.isoformat()}
    _queue(f"payment:{txn.pk}:received", "payment_received", txn.client, context, invoice)


def payment_declined(txn, invoice, reason: str) -> None:
    context = invoice_context(invoice) | {"amount": txn.amount, "reason": reason}
    _queue(f"payment:{txn.pk}:declined", "payment_declined", txn.client, context, invoice)


def authenticate_link(txn) -> str:
    """Where the card holder authenticates a payment: the portal's page for the attempt (on
    GROUPBILL_PORTAL_URL; without it, the way there in words)."""
    path = reverse("portal:payment_authenticate", kwargs={"attempt_id": txn.pk})
    base = settings.PORTAL_BASE_URL
    return f"{base}{path}" if base else "your client portal (the invoice's page)"


def payment_action_required(txn, invoice) -> None:
    """Once per attempt, however often the gateway says it still waits."""
    context = invoice_context(invoice) | {"amount": txn.amount,
                                          "authenticate_url": authenticate_link(txn)}  # fmt: skip
    _queue(f"payment:{txn.pk}:action_required", "payment_action_required", txn.client, context,
           invoice)  # fmt: skip


def account_disabled(account, reason: str, key: str) -> None:
    context = {"account": str(account), "reason": reason}
    _queue(f"{key}:message", "payment_account_disabled", account.client, context)


def payment_disputed(txn, dispute: str, amount: int, currency: str, reason: str, key: str) -> None:
    """To the company's staff address (the client is not written to): once per dispute."""
    company = txn.client.company
    outbox.queue(
        key=f"{key}:staff",
        company_id=company.pk,
        client_id=txn.client_id,
        template="payment_disputed",
        recipients=[{"name": company.name, "email": company.notify_email}]
        if company.notify_email
        else [],
        context={"transaction_id": txn.pk, "dispute": dispute, "amount": amount,
                 "currency": currency, "reason": reason or "not given"},
    )  # fmt: skip


def service_suspended(service, reason: str, cause: str | int) -> None:
    """Once per cause: the invoice past due, or the nth suspension by staff."""
    context = {"service_id": service.pk, "package": service.package.name, "reason": reason}
    _queue(f"service:{service.pk}:suspended:{cause}", "service_suspended", service.client, context)


def service_unsuspended(service, occurrence: int) -> None:
    context = {"service_id": service.pk, "package": service.package.name}
    _queue(
        f"service:{service.pk}:unsuspended:{occurrence}",
        "service_unsuspended",
        service.client,
        context,
    )


def change_cancelled(change, reason: str) -> None:
    service = change.service
    context = {"service_id": service.pk, "package": service.package.name, "change": reason}
    _queue(f"change:{change.pk}:cancelled", "service_change_cancelled", service.client, context)
