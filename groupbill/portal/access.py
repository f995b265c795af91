"""What staff do about a contact's portal access, from the admin UI or the API: give it
(and send the link to set a password) and send another link; disabling and enabling it is
`accounts.set_active`.

The contact never gets a password from staff: they choose one through the emailed link,
which goes through the outbox like every other message, to the account's login (the email
the contact had when given access; it does not follow later changes of the contact)."""

from datetime import datetime

from django.db import IntegrityError, transaction

from groupbill.audit.actions import record
from groupbill.clients.models import Contact
from groupbill.errors import Conflict, NotFound, TooManyRequests
from groupbill.notices.models import OutboxMessage
from groupbill.portal import accounts
from groupbill.portal.links import LinkFor
from groupbill.portal.models import PortalAccount


def account_of(contact: Contact) -> PortalAccount:
    account = PortalAccount.objects.select_related("contact__client").filter(contact=contact)
    if (found := account.first()) is None:
        raise NotFound(f"Contact {contact.pk} has no portal access.")
    return found


def give_access(
    contact: Contact, *, actor: str, link_for: LinkFor | None, now: datetime
) -> PortalAccount:
    """Give the contact a login (their email) and, with `link_for`, queue the link to set a
    password: both or neither. A contact whose access is disabled gets it again under the
    email they have now (`accounts.grant_access`)."""
    try:
        with transaction.atomic():
            account = accounts.grant_access(contact, actor=actor)
            if link_for is not None:
                send_password_link(account, actor=actor, link_for=link_for, now=now)
    except IntegrityError:
        # Another request gave this contact (or this email) access at the same moment.
        raise Conflict(f"{contact.display_name} already has portal access.") from None
    return account


def send_password_link(
    account: PortalAccount, *, actor: str, link_for: LinkFor, now: datetime
) -> OutboxMessage:
    """Queue a link to (re)set the password to the account's login (the address it signs
    in with, not the contact's email if that changed since): the outbox message."""
    if not account.is_active:
        raise Conflict(f"Portal access for {account.login} is disabled; enable it first.")
    with transaction.atomic():
        # The same limit as a client asking for links themselves; `account` is active, so a
        # refusal here is that limit.
        if not accounts.request_reset(account.login, link_for=link_for, now=now):
            raise TooManyRequests(
                f"{accounts.RESETS_PER_HOUR} password links went to {account.login} in the "
                f"last hour; try again later."
            )
        message = accounts.account_resets(account).order_by("-pk").first()
        record(
            subject=account,
            actor=actor,
            action="portal.password_link",
            new={"value": account.login},
        )
    return message
