"""Payment accounts: tokenised cards and bank accounts, one of them the auto-debit account."""

import re
from datetime import date
from typing import Any

from django.db import transaction

from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.billing import signals
from groupbill.billing.gateways import get_gateway
from groupbill.billing.models import AccountKind, PaymentAccount
from groupbill.clients.models import Client
from groupbill.errors import FieldError, ValidationFailed

_LAST4 = re.compile(r"\d{4}")
# A gateway token never looks like a card or account number; refuse one that does, so a
# full number cannot be stored by mistake.
_NUMBER_LIKE = re.compile(r"[\d\s-]{12,}")


def _reference(value: Any) -> str:
    value = v.text(value, max_length=128, required=True)
    if _NUMBER_LIKE.fullmatch(value):
        raise ValueError("must be the gateway's token, never a card or account number")
    return value


def _last4(value: Any) -> str:
    if not isinstance(value, str) or not _LAST4.fullmatch(value):
        raise ValueError("must be the last four digits")
    return value


def _gateway(value: Any) -> str:
    get_gateway(value)
    return value


CLEANERS = {
    "kind": lambda x: v.choice(x, AccountKind.values),
    "gateway": _gateway,
    "reference": _reference,
    "last4": _last4,
    "label": lambda x: v.text(x, max_length=64),
    "expires_on": v.optional_date,
    "is_autodebit": v.boolean,
}
REQUIRED = ("kind", "gateway", "reference", "last4")
FROM_THE_CARD = ("kind", "last4", "expires_on")


def _attachable(data: dict[str, Any]):
    """The gateway named, when it keeps cards itself (Stripe): it attaches the reference
    to the client and says what card it is. None for the others, or a gateway that is no
    gateway (reported by the cleaners)."""
    try:
        gateway = get_gateway(data.get("gateway"))
    except ValidationFailed:
        return None
    return gateway if hasattr(gateway, "attach_account") else None


def add_payment_account(client: Client, data: dict[str, Any], *, actor: str) -> PaymentAccount:
    """Save a card or bank account. For a gateway that keeps cards itself (Stripe), the
    reference is its id of the card (a PaymentMethod), attached to the client there first
    (a call: outside any transaction); kind, last four digits and expiry come from it."""
    gateway = _attachable(data)
    required = REQUIRED
    if gateway is not None:  # what the card is comes from the gateway, not the caller
        data = {k: v for k, v in data.items() if k not in FROM_THE_CARD}
        required = ("gateway", "reference")
    cleaned, errors = v.collect(data, CLEANERS)
    errors += [FieldError(f, "is required") for f in required if f not in data]
    v.raise_if(errors)
    if gateway is not None:
        details = gateway.attach_account(client, cleaned["reference"])
        cleaned.update(kind=details.kind, last4=details.last4, expires_on=details.expires_on)
        cleaned.setdefault("label", details.label)
    with transaction.atomic():
        if cleaned.get("is_autodebit"):
            client.payment_accounts.filter(is_autodebit=True).update(is_autodebit=False)
        account = PaymentAccount.objects.create(client=client, **cleaned)
        record(
            subject=account,
            actor=actor,
            action="payment_account.add",
            new=wrap(dict(label=str(account))),
        )
    return account


def set_autodebit(account: PaymentAccount, *, actor: str) -> PaymentAccount:
    """Make this the client's auto-debit account (and re-enable it for auto debit)."""
    with transaction.atomic():
        PaymentAccount.objects.filter(client_id=account.client_id, is_autodebit=True).exclude(
            pk=account.pk
        ).update(is_autodebit=False)
        account.is_autodebit = True
        account.autodebit_disabled = False
        account.disabled_reason = ""
        account.failure_count = 0
        account.save()
        record(
            subject=account,
            actor=actor,
            action="payment_account.autodebit",
            new=wrap(dict(label=str(account))),
        )
    return account


UPDATABLE = ("label", "is_autodebit")


def update_payment_account(
    account: PaymentAccount, data: dict[str, Any], *, actor: str
) -> PaymentAccount:
    """Change what a person may change of a saved account: its label, and whether auto
    debit charges it (on: it replaces the client's auto-debit account, re-enabled with no
    failures counted; off: the client has no auto-debit account). The card itself (kind,
    number, expiry, gateway token) is the gateway's and never changes here."""
    unknown = sorted(set(data) - set(UPDATABLE))
    cleaned, errors = v.collect({k: x for k, x in data.items() if k in UPDATABLE}, CLEANERS)
    errors += [FieldError("label", "must be text") for x in [data.get("label", "")] if x is None]
    errors += [FieldError(f, "cannot be changed; add the account again") for f in unknown]
    v.raise_if(errors)
    with transaction.atomic():
        if cleaned.get("is_autodebit"):
            set_autodebit(account, actor=actor)
        account = PaymentAccount.objects.select_for_update().get(pk=account.pk)
        old = {"label": account.label, "is_autodebit": account.is_autodebit}
        if "label" in cleaned:
            account.label = cleaned["label"]
        if cleaned.get("is_autodebit") is False:
            account.is_autodebit = False
        new = {"label": account.label, "is_autodebit": account.is_autodebit}
        if new != old:
            account.save(update_fields=["label", "is_autodebit"])
            record(
                subject=account,
                actor=actor,
                action="payment_account.update",
                old=wrap(old),
                new=wrap(new),
            )
    return account


def disable_for_autodebit(account: PaymentAccount, *, reason: str, actor: str) -> PaymentAccount:
    """Stop auto debit on this account and say so on the client's account (a keyed note:
    written once however often this runs)."""
    from groupbill.clients.notes import add_note

    with transaction.atomic():
        account = PaymentAccount.objects.select_for_update().get(pk=account.pk)
        if account.autodebit_disabled:
            return account
        account.autodebit_disabled = True
        account.disabled_reason = reason[:255]
        account.save(update_fields=["autodebit_disabled", "disabled_reason"])
        disabled = account.client.notes.filter(key__startswith=f"autodebit-disabled:{account.pk}:")
        key = f"autodebit-disabled:{account.pk}:{disabled.count() + 1}"
        add_note(
            account.client,
            f"{account} was disabled for auto debit: {reason}",
            actor=actor,
            key=key,
        )
        signals.account_disabled.send(PaymentAccount, account=account, reason=reason, key=key)
        record(
            subject=account,
            actor=actor,
            action="payment_account.autodebit_disabled",
            new=wrap({"reason": reason}),
        )
    return account


def remove_payment_account(account: PaymentAccount, *, actor: str) -> None:
    with transaction.atomic():
        record(
            subject=account,
            actor=actor,
            action="payment_account.remove",
            new=wrap(dict(label=str(account))),
        )
        account.delete()


def expired(account: PaymentAccount, today: date) -> bool:
    return account.expires_on is not None and account.expires_on < today
