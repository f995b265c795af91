"""The company's webhook events for what billing, services and clients report by signal:
queued (notices.webhooks.emit) in the transaction of the change, once per event id and
endpoint. Events that may happen again to the same object get a fresh id each time."""

from groupbill.billing.models import Invoice
from groupbill.notices import webhooks
from groupbill.notices.webhooks import Event


def invoice_created(sender, invoice, **kwargs) -> None:
    webhooks.emit([_invoice("invoice.created", invoice)])


def invoices_issued(sender, company_id, invoice_ids, created=False, **kwargs) -> None:
    # The engine issues thousands at once: they are read only if someone listens.
    if not webhooks.listening([company_id]):
        return
    types = ["invoice.created", "invoice.issued"] if created else ["invoice.issued"]
    invoices = Invoice.objects.filter(pk__one_of=invoice_ids).order_by("pk")
    webhooks.emit(_invoice(t, i) for i in invoices for t in types)


def invoice_voided(sender, invoice, reason="", **kwargs) -> None:
    event = _invoice("invoice.voided", invoice)
    event.data["reason"] = reason
    webhooks.emit([event])


def invoice_paid(sender, invoice, **kwargs) -> None:
    webhooks.emit([_invoice("invoice.paid", invoice, webhooks.new_id())])


def _invoice(event_type: str, invoice, event_id: str = "") -> Event:
    return Event(invoice.company_id, event_type, event_id or f"{event_type}.{invoice.pk}",
                 webhooks.invoice_data(invoice))  # fmt: skip


def payment_received(sender, txn, invoice, **kwargs) -> None:
    data = webhooks.payment_data(txn, invoice)
    event_id = f"payment.succeeded.{txn.pk}.{invoice.pk}"
    webhooks.emit([Event(txn.company_id, "payment.succeeded", event_id, data)])


def payment_declined(sender, txn, invoice, reason, **kwargs) -> None:
    data = webhooks.payment_data(txn, invoice, reason=reason)
    webhooks.emit([Event(txn.company_id, "payment.failed", f"payment.failed.{txn.pk}", data)])


def payment_refunded(sender, txn, **kwargs) -> None:
    data = webhooks.payment_data(txn)
    webhooks.emit([Event(txn.company_id, "payment.refunded", f"payment.refunded.{txn.pk}", data)])


def service_created(sender, service, **kwargs) -> None:
    webhooks.emit([_service("service.created", service, f"service.created.{service.pk}")])


def service_suspended(sender, service, reason, **kwargs) -> None:
    webhooks.emit([_service("service.suspended", service, webhooks.new_id(), reason=reason)])


def service_unsuspended(sender, service, **kwargs) -> None:
    webhooks.emit([_service("service.unsuspended", service, webhooks.new_id())])


def services_cancelled(sender, services, reason="", **kwargs) -> None:
    webhooks.emit(
        _service("service.cancelled", s, f"service.cancelled.{s.pk}", reason=reason)
        for s in services
    )


def _service(event_type: str, service, event_id: str, **extra) -> Event:
    return Event(service.client.company_id, event_type, event_id,
                 webhooks.service_data(service, **extra))  # fmt: skip


def client_created(sender, client, **kwargs) -> None:
    data = webhooks.client_data(client)
    webhooks.emit([Event(client.company_id, "client.created", f"client.created.{client.pk}", data)])


def client_changed(sender, client, fields, **kwargs) -> None:
    data = webhooks.client_data(client, changed=list(fields))
    webhooks.emit([Event(client.company_id, "client.changed", webhooks.new_id(), data)])


def connect() -> None:
    from groupbill.billing import signals as billing
    from groupbill.clients import signals as clients
    from groupbill.services import signals as services

    for signal, receiver in (
        (billing.invoice_created, invoice_created),
        (billing.invoices_issued, invoices_issued),
        (billing.invoice_voided, invoice_voided),
        (billing.invoice_paid, invoice_paid),
        (billing.payment_received, payment_received),
        (billing.payment_declined, payment_declined),
        (billing.payment_refunded, payment_refunded),
        (services.service_created, service_created),
        (services.service_suspended, service_suspended),
        (services.service_unsuspended, service_unsuspended),
        (services.services_cancelled, services_cancelled),
        (clients.client_created, client_created),
        (clients.client_changed, client_changed),
    ):
        signal.connect(receiver, dispatch_uid=f"notices.webhooks.{receiver.__name__}")
