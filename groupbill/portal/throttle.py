"""At most `LIMIT` failed sign-ins per `WINDOW`, per account (the login typed, known or not)
and per address. Counted in the database so every web process sees the same count."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from groupbill.portal.models import LoginFailure

LIMIT = 5
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Lockout:
    until: datetime

    def message(self, now: datetime) -> str:
        minutes = max(1, -(-int((self.until - now).total_seconds()) // 60))
        return (
            f"Too many failed sign-ins. For your security, signing in is paused; "
            f"try again in {minutes} minute{'s' if minutes != 1 else ''} or reset your password."
        )


def lockout(
    login: str, address: str, now: datetime, *, before: LoginFailure | None = None
) -> Lockout | None:
    """The lockout in force for this login or address, if either has `LIMIT` failures in
    the window. With `before`, an attempt already counted: only the rows recorded before it,
    so of attempts running at once, only the first `LIMIT` go on."""
    since = now - WINDOW
    recent = LoginFailure.objects.filter(at__gt=since)
    if before is not None:
        recent = recent.filter(pk__lt=before.pk)
    worst = None
    for scope in (Q(login=login), Q(address=address)):
        rows = recent.filter(scope)
        if rows.count() >= LIMIT:
            # Free again when enough of the oldest failures have left the window.
            times = list(rows.order_by("-at").values_list("at", flat=True)[:LIMIT])
            until = times[LIMIT - 1] + WINDOW
            worst = until if worst is None else max(worst, until)
    return Lockout(worst) if worst else None


def record_failure(login: str, address: str, now: datetime) -> LoginFailure:
    row = LoginFailure.objects.create(at=now, login=login[:254], address=address[:64])
    # Rows older than the window count for nothing; keep the table small.
    LoginFailure.objects.filter(at__lt=now - WINDOW).delete()
    return row


def attempt(
    login: str, address: str, now: datetime, verify: Callable[[], bool]
) -> tuple[bool, Lockout | None]:
    """Check a password with `verify`, counted: (whether it was right, the lockout in force
    after it). While locked out nothing is checked.

    The failure is written before the (slow) check and taken back when the password is
    right, so attempts running at the same time see each other and together get no more
    than `LIMIT` tries."""
    if locked := lockout(login, address, now):
        return False, locked  # a refusal while locked is no failure: it does not stretch it
    row = record_failure(login, address, now)
    if locked := lockout(login, address, now, before=row):
        row.delete()  # attempts running at the same time took the last tries
        return False, locked
    if verify():
        row.delete()
        return True, None
    return False, lockout(login, address, now)  # this failure may have been the last


def forget_login(login: str) -> None:
    """Stop counting the login's failures; they still count against their addresses."""
    LoginFailure.objects.filter(login=login).update(login="")
