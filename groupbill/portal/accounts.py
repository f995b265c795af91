"""Portal accounts: staff grant or revoke a contact's access; the client sets a password
through a link sent by email (the outbox), and signs in with throttling."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from groupbill.audit.actions import record
from groupbill.clients.models import ClientStatus, Contact
from groupbill.errors import Conflict, FieldError, ValidationFailed
from groupbill.notices import outbox
from groupbill.notices.models import OutboxMessage
from groupbill.portal import throttle
from groupbill.portal.models import PortalAccount

# Reset links a login may be sent per hour: enough for a lost email, not a mail bomb.
RESETS_PER_HOUR = 3


class _ResetTokens(PasswordResetTokenGenerator):
    """Django's signed, expiring token, bound to the portal account's password hash, last
    sign-in and session version, so a used link (or one older than a password change or a
    disabling of the account) stops working."""

    key_salt = "groupbill.portal.reset"

    def _make_hash_value(self, account: PortalAccount, timestamp: int) -> str:
        last = (
            ""
            if account.last_login_at is None
            else account.last_login_at.replace(microsecond=0, tzinfo=None)
        )
        return (
            f"{account.pk}{account.password}{last}{timestamp}{account.login}"
            f":{account.session_version}"
        )


reset_tokens = _ResetTokens()


def normalize_login(value: object) -> str:
    return value.strip().lower()[:254] if isinstance(value, str) else ""


def actor_for(account: PortalAccount) -> str:
    return f"client:{account.login}"


def principal_for(account: PortalAccount) -> str:
    """Whose idempotency keys these are: each portal account has its own."""
    return f"portal:{account.pk}"


def grant_access(contact: Contact, *, actor: str) -> PortalAccount:
    """Give a contact a portal login (their email). The account has no usable password
    until the contact sets one through a reset link.

    A contact whose access is disabled gets it again this way under the email they have
    now: the login follows it and the old password stops working (unlike enabling, which
    keeps both)."""
    login = normalize_login(contact.email)
    if not login:
        raise ValidationFailed.one("email", "the contact needs an email address to sign in with")
    existing = PortalAccount.objects.filter(contact=contact).first()
    if existing is not None and existing.is_active:
        raise Conflict(f"{contact.display_name} already has portal access.")
    if PortalAccount.objects.filter(login=login).exclude(contact=contact).exists():
        raise ValidationFailed.one("email", f"{login} already signs in to the portal")
    with transaction.atomic():
        if existing is None:
            account = PortalAccount.objects.create(
                contact=contact, login=login, password=make_password(None)
            )
        else:
            account = existing
            account.login, account.password, account.is_active = login, make_password(None), True
            # Only while still disabled: enabled meanwhile, it already has access.
            if not PortalAccount.objects.filter(pk=account.pk, is_active=False).update(
                login=login, password=account.password, is_active=True
            ):
                raise Conflict(f"{contact.display_name} already has portal access.")
        record(subject=account, actor=actor, action="portal.grant")
    return account


def set_active(account: PortalAccount, active: bool, *, actor: str) -> PortalAccount:
    """Enable or disable sign-in. Disabling ends the account's sessions and unused password
    links at once and for good: enabling it again keeps the password, not them. Setting
    what already is changes (and audits) nothing."""
    with transaction.atomic():
        changed = PortalAccount.objects.filter(pk=account.pk, is_active=not active).update(
            is_active=active,
            session_version=F("session_version") + (0 if active else 1),
        )
        if changed:
            record(
                subject=account, actor=actor, action="portal.enable" if active else "portal.disable"
            )
    account.refresh_from_db(fields=["is_active", "session_version"])
    return account


def set_password(account: PortalAccount, password: str, *, actor: str) -> PortalAccount:
    """Changing the hash also ends the account's other sessions and its reset links, and
    lifts the account's sign-in lockout (whoever set it proved they own the account; a
    lockout of an address stays)."""
    try:
        validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationFailed([FieldError("password", m) for m in exc.messages]) from None
    with transaction.atomic():
        account.password = make_password(password)
        account.save(update_fields=["password"])
        throttle.forget_login(account.login)
        record(subject=account, actor=actor, action="portal.password")
    return account


@dataclass(frozen=True)
class SignIn:
    account: PortalAccount | None
    error: str = ""
    locked: bool = False


GENERIC_REFUSAL = "That email and password do not match a portal account."


def sign_in(login: object, password: object, *, address: str, now: datetime) -> SignIn:
    """Check a sign-in, refusing outright while the login or the address is locked out."""
    login = normalize_login(login)
    password = password if isinstance(password, str) else ""
    account = (
        PortalAccount.objects.select_related("contact__client")
        .filter(login=login, is_active=True)
        .first()
    )

    def verify() -> bool:
        if account is None:
            make_password(password)  # the same hashing work, so timing does not tell
            return False
        return check_password(password, account.password)

    ok, locked = throttle.attempt(login, address, now, verify)
    if locked:
        return SignIn(None, locked.message(now), locked=True)
    if not ok:
        return SignIn(None, GENERIC_REFUSAL)
    if account.contact.client.status != ClientStatus.ACTIVE:
        return SignIn(None, "This account is not active. Please contact us.")
    account.last_login_at = now
    account.save(update_fields=["last_login_at"])
    return SignIn(account)


def change_password(
    account: PortalAccount,
    current: object,
    new: object,
    new_again: object,
    *,
    actor: str,
    address: str,
    now: datetime,
) -> PortalAccount:
    """A signed-in client changes their password, giving the current one. A wrong current
    password counts as a failed sign-in of the account's login (an open session must not
    be a way round the limit), and while the login or the address is locked out nothing is
    checked."""
    current = current if isinstance(current, str) else ""
    ok, locked = throttle.attempt(
        account.login, address, now, lambda: check_password(current, account.password)
    )
    if locked:
        raise ValidationFailed.one("current_password", locked.message(now))
    if not ok:
        raise ValidationFailed.one("current_password", "is not your current password")
    if new != new_again:
        raise ValidationFailed.one("password2", "the two new passwords differ")
    return set_password(account, new if isinstance(new, str) else "", actor=actor)


def request_reset(login: object, *, link_for, now: datetime) -> bool:
    """Queue a reset link for an active account with this login, to that login (the address
    it signs in with, whatever the contact's email has become since); False (and nothing
    sent) otherwise, which the page never reveals. `link_for(uid, token)` builds the
    absolute URL."""
    login = normalize_login(login)
    account = (
        PortalAccount.objects.select_related("contact__client__company")
        .filter(login=login, is_active=True)
        .first()
    )
    if account is None:
        return False
    client = account.contact.client
    recent = account_resets(account).filter(created_at__gt=now - timedelta(hours=1)).count()
    if recent >= RESETS_PER_HOUR:
        return False
    uid = urlsafe_base64_encode(force_bytes(account.pk))
    with transaction.atomic():
        outbox.queue(
            key=f"portal-reset:{account.pk}:{secrets.token_hex(8)}",
            company_id=client.company_id,
            client_id=client.pk,
            template="password_reset",
            recipients=[{"name": account.contact.display_name, "email": account.login}],
            context={
                "client_name": account.contact.display_name,
                "reset_url": link_for(uid, reset_tokens.make_token(account)),
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
        )
    return True


def account_resets(account: PortalAccount):
    return OutboxMessage.objects.filter(key__startswith=f"portal-reset:{account.pk}:")


def account_for_reset(uid: str, token: str) -> PortalAccount | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
    account = PortalAccount.objects.filter(pk=pk, is_active=True).first()
    if account is None or not reset_tokens.check_token(account, token):
        return None
    return account
