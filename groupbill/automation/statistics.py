"""The database planner's statistics, kept fresh enough for the engine's plans: stale or
missing ones turned millisecond planning queries into seconds-long ones."""

import logging

from django.db import OperationalError, connection, transaction

from groupbill.billing.models import Application, Invoice, InvoiceLine, Transaction
from groupbill.notices.models import OutboxMessage
from groupbill.services.models import BilledPeriod, Service

log = logging.getLogger("groupbill.engine")
REFRESH_AFTER = 10_000  # actions applied by a run, after which statistics are refreshed


def written_doubled(position: int, applied: int) -> bool:
    """After shards 4, 8, 16, 32... of a busy run, the rows it wrote have about doubled
    since the last statistics: refreshed then, planning queries keep their plans (the
    tables were nearly empty when last analysed, on a first day) at a few ANALYZEs a run."""
    done = position + 1
    return applied >= REFRESH_AFTER // 10 and done >= 4 and done & (done - 1) == 0


def refresh() -> None:
    """Fresh planner statistics after a large run: stale ones made one planning query take
    seconds instead of milliseconds once thousands of rows had been inserted. What the
    engine's plans need is the tables' sizes, not fine histograms: a small sample (a tenth
    of the default) costs a tenth as much, and autovacuum analyses the tables in full once
    the run has changed a good part of them."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        m._meta.db_table
        for m in (Invoice, InvoiceLine, BilledPeriod, OutboxMessage, Transaction, Application)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {tables}")


# SQLite database -> the services its planner statistics counted, as last read.
_STATISTICS: dict[str, int] = {}


def for_planning() -> None:
    """SQLite has no planner statistics until something runs ANALYZE, and nothing does.
    Without them (or with those of a table of one or two services) it plans a shard's due
    services from its clients, scanning for each client the shard's whole range of
    services: quadratic in a shard's clients, 73 ms for 900 clients with a service each
    where it takes 2 ms with statistics (a run over 5,000 such clients: 1.08 s of CPU
    without, 0.84 s with; more where clients have several services). A run takes them
    when there are none and again whenever the services have doubled since, each time
    from a sample of each index (a millisecond or so, whatever the size): a few times in a
    book's life."""
    if connection.vendor != "sqlite":
        return  # PostgreSQL's autovacuum analyses, and a busy run too (`refresh`)
    database, services = connection.settings_dict["NAME"], Service._meta.db_table
    with connection.cursor() as cursor:
        # The largest id stands for the size: it is read from the index at once.
        cursor.execute(f'SELECT MAX(id) FROM "{services}"')
        size = cursor.fetchone()[0] or 0
        if size == 0 or size < 2 * _STATISTICS.get(database, 0):
            return  # nothing to plan yet, or statistics still near enough
        # Read back, not remembered from our own ANALYZE: one in a transaction that was
        # rolled back (a preview's) left none; another process may have taken them.
        counted = _counted(cursor, services)
        if counted is None or size >= 2 * counted:
            try:
                cursor.execute("PRAGMA analysis_limit = 1000")
                cursor.execute("ANALYZE")
            except OperationalError:  # the database stayed locked: the next run takes them
                log.warning("planner statistics not taken", exc_info=True)
                return
            finally:
                cursor.execute("PRAGMA analysis_limit = 0")
            counted = _counted(cursor, services)
        if counted:
            _STATISTICS[database] = counted


def _counted(cursor, table: str) -> int | None:
    """The rows of `table` as SQLite's statistics last counted them (None: never)."""
    cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    if cursor.fetchone() is None:
        return None
    cursor.execute("SELECT MAX(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = %s", [table])
    return cursor.fetchone()[0]
