"""External effects (a gateway charge, a module call) are made outside any database
transaction: a call that waits on the network must never hold row locks (on SQLite: the
whole database's write lock) while it waits, and what it did must not vanish with a
rolled-back transaction. Actions record the effect first, commit, call, then book the
answer in a new transaction; `ensure_outside_transaction` is the tripwire that keeps it so.

Dry runs replace every gateway and module by recorders inside one rolled-back transaction,
and the demo book is built in one transaction with the sandbox gateway and in-process
modules; `simulated()` marks such a block, where nothing leaves the process and the rule is
moot.
"""

import contextlib
from contextvars import ContextVar

from django.db import connection

_simulated: ContextVar[bool] = ContextVar("simulated_effects", default=False)


class InsideTransaction(RuntimeError):
    """A programming error: an external call was about to be made inside a transaction."""


def in_transaction() -> bool:
    # The test runner's own wrapping transaction (pytest-django's `db`) is not the code's.
    return any(not block._from_testcase for block in connection.atomic_blocks)


def ensure_outside_transaction(what: str) -> None:
    if in_transaction() and not _simulated.get():
        raise InsideTransaction(
            f"{what} must be made outside any database transaction "
            "(record it, commit, call, then book the answer)"
        )


def is_simulated() -> bool:
    return _simulated.get()


@contextlib.contextmanager
def simulated():
    token = _simulated.set(True)
    try:
        yield
    finally:
        _simulated.reset(token)
