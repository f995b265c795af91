"""The one order in which rows are locked: a client first, then its services by id, then
invoices by id. Two transactions that lock in the same order never wait on each other in
a circle, so every action that locks any of these rows takes the lock here.

Locks use `select_for_update(of=("self",))`: rows joined for reading (a service's package
and price) are not locked with it. On SQLite a transaction holds the database's write lock
from its start (IMMEDIATE), which orders writers anyway; the order is still checked there,
so a test on either database catches an action that locks out of order.
"""

import contextlib
import contextvars
from collections.abc import Hashable, Iterable

from django.db import connection

from groupbill import external
from groupbill.billing.models import BALANCE_DUE, PREVIEW_NUMBERS, Invoice
from groupbill.clients.models import Client

CLIENT, SERVICES, INVOICES = 1, 2, 3
_NAMES = {CLIENT: "a client", SERVICES: "services", INVOICES: "invoices"}


# A preview takes no locks: it writes nothing that lasts, and a writer must not wait on
# it. While one runs, this holds the numbers it handed out, per sequence and company.
_preview: contextvars.ContextVar[dict[Hashable, int] | None] = contextvars.ContextVar(
    "groupbill_preview", default=None
)


@contextlib.contextmanager
def none_taken():
    """Reads instead of locks, for a preview rolled back at its end (engine.previewed)."""
    token = _preview.set({})
    try:
        yield
    finally:
        _preview.reset(token)


def previewing() -> bool:
    return _preview.get() is not None


def preview_numbers(key: Hashable, count: int, next_number: int) -> int:
    """Numbers for a preview's invoices or credit notes (`key`: the sequence and company),
    without taking (or locking) the sequence."""
    given = _preview.get()
    first = PREVIEW_NUMBERS + next_number + given.get(key, 0)
    given[key] = given.get(key, 0) + count
    return first


class LockOrderError(RuntimeError):
    """A programming error: rows were locked against the one order."""


def _transaction_block():
    for block in connection.atomic_blocks:
        if not block._from_testcase:
            return block
    raise LockOrderError("rows are locked inside transaction.atomic(), never outside it")


def enter(level: int, client_id: int | None = None) -> None:
    _enter(level, () if client_id is None else (client_id,))


def _enter(level: int, client_ids: Iterable[int]) -> None:
    """Check the order for locking these rows (any clients among them: at once, however
    many a batch locks) and remember them as held."""
    if external.is_simulated():
        # A dry run or the demo load chains many actions in one transaction, each in the
        # order; the chain as a whole is not (and rolls back, or runs alone at set-up).
        return
    block = _transaction_block()
    held = getattr(block, "_groupbill_locks", None)
    if held is None:
        held = block._groupbill_locks = {"level": 0, "clients": set()}
    if level == CLIENT:
        client_ids = [c for c in client_ids if c not in held["clients"]]
        if not client_ids:
            return  # locked already in this transaction: taking it again waits for nothing
    if level < held["level"]:
        raise LockOrderError(
            f"{_NAMES[level]} locked after {_NAMES[held['level']]}: lock the client first, "
            "then its services, then invoices (groupbill.billing.lock_objects)"
        )
    held["level"] = level
    held["clients"].update(client_ids)


def for_update(queryset):
    if previewing():
        return queryset
    if connection.features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()


def client(client_id: int) -> None:
    enter(CLIENT, client_id)
    for_update(Client.objects.filter(pk=client_id)).values_list("pk").first()


def clients(client_ids: Iterable[int]) -> None:
    """Lock many clients (by id, in one statement), before any of their services."""
    ids = sorted(set(client_ids))
    if ids:
        _enter(CLIENT, ids)
    list(for_update(Client.objects.filter(pk__one_of=ids)).order_by("pk").values_list("pk"))


def invoices(invoice_ids: Iterable[int]) -> list[Invoice]:
    """Lock the invoices (by id) and return them, read under the lock."""
    enter(INVOICES)
    return list(for_update(Invoice.objects.filter(pk__in=list(invoice_ids))).order_by("pk"))


def invoice_rows(invoice_ids: Iterable[int], fields: list[str]) -> list[tuple]:
    """Lock the invoices (by id) and return `fields` of each as tuples (`balance_due`
    among them if asked): for set-based work on thousands of invoices."""
    enter(INVOICES)
    rows = for_update(Invoice.objects.filter(pk__one_of=invoice_ids)).order_by("pk")
    return list(rows.annotate(balance_due=BALANCE_DUE).values_list(*fields))
