"""The portal's own session keys, beside (never instead of) a staff login in the same
browser. A session is bound to the account's password hash and session version, so a
password change ends it, and so does disabling the account (for good: enabling it again
does not bring the session back)."""

from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django.utils.crypto import constant_time_compare, salted_hmac

from groupbill.portal.models import PortalAccount

ACCOUNT_KEY = "portal_account_id"
HASH_KEY = "portal_account_hash"


def _hash(account: PortalAccount) -> str:
    value = f"{account.password}:{account.session_version}"
    return salted_hmac("groupbill.portal.session", value).hexdigest()


def start(request: HttpRequest, account: PortalAccount) -> None:
    request.session.cycle_key()  # no session fixation
    rotate_token(request)  # nor CSRF token fixation (as Django's login does)
    request.session[ACCOUNT_KEY] = account.pk
    request.session[HASH_KEY] = _hash(account)


def end(request: HttpRequest) -> None:
    request.session.pop(ACCOUNT_KEY, None)
    request.session.pop(HASH_KEY, None)
    request.session.cycle_key()


def current(request: HttpRequest) -> PortalAccount | None:
    """The signed-in, active account of an active client, or None."""
    pk = request.session.get(ACCOUNT_KEY)
    if not isinstance(pk, int):
        return None
    account = (
        PortalAccount.objects.select_related("contact__client__company", "contact__client__group")
        .filter(pk=pk, is_active=True, contact__client__status="active")
        .first()
    )
    if account is None or not constant_time_compare(request.session.get(HASH_KEY, ""),
                                                    _hash(account)):  # fmt: skip
        return None
    return account
