"""What "now" means. The engine runs for a given `as_of` and never reads the wall clock;
actions it triggers indirectly (a payment that unsuspends services) must see that same
moment, so the engine sets it here for the duration of its run."""

import contextlib
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_as_of: ContextVar[datetime | None] = ContextVar("as_of", default=None)


def now() -> datetime:
    return _as_of.get() or timezone.now()


@contextlib.contextmanager
def frozen_at(moment: datetime):
    token = _as_of.set(moment)
    try:
        yield
    finally:
        _as_of.reset(token)
