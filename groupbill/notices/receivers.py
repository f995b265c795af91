"""The client's messages for what billing and services report by signal: queued in the
same transaction as the change, once per event (events.py keys them)."""

from groupbill.notices import events


def payment_received(sender, txn, invoice, paid_on, **kwargs) -> None:
    events.payment_received(txn, invoice, paid_on)


def payment_declined(sender, txn, invoice, reason, **kwargs) -> None:
    events.payment_declined(txn, invoice, reason)


def payment_action_required(sender, txn, invoice, **kwargs) -> None:
    events.payment_action_required(txn, invoice)


def account_disabled(sender, account, reason, key, **kwargs) -> None:
    events.account_disabled(account, reason, key)


def payment_disputed(sender, txn, dispute, amount, currency, reason, key, **kwargs) -> None:
    events.payment_disputed(txn, dispute, amount, currency, reason, key)


def service_suspended(sender, service, reason, cause, **kwargs) -> None:
    events.service_suspended(service, reason, cause)


def service_unsuspended(sender, service, occurrence, **kwargs) -> None:
    events.service_unsuspended(service, occurrence)


def change_cancelled(sender, change, reason, **kwargs) -> None:
    events.change_cancelled(change, reason)


def connect() -> None:
    from groupbill.billing import signals as billing
    from groupbill.services import signals as services

    for signal, receiver in (
        (billing.payment_received, payment_received),
        (billing.payment_declined, payment_declined),
        (billing.payment_action_required, payment_action_required),
        (billing.account_disabled, account_disabled),
        (billing.payment_disputed, payment_disputed),
        (services.service_suspended, service_suspended),
        (services.service_unsuspended, service_unsuspended),
        (services.change_cancelled, change_cancelled),
    ):
        signal.connect(receiver, dispatch_uid=f"notices.{receiver.__name__}")
