"""The database server crashes in the middle of an engine run, and the book still ends as
one clean run leaves it. The engine commits its bulk batches without waiting for the disk
(`bulk_sql.commit_without_waiting`): a crash may lose the last of those commits, never
half of one, never one that an external effect (a gateway charge) relied on, and a lost
batch is found due again by the next run.

The test runs a throwaway PostgreSQL cluster of its own (initdb in a temporary folder, a
free port; never the shared server) with two copies of a book of two shards. One is run,
and the server is stopped by `pg_ctl stop -m immediate` while the second shard's invoices
are being written, then started again (crash recovery); the next run is crashed the same
way while it delivers them, and the one after runs to its end. The other copy is run
once, cleanly, and both must end the same.

How a commit gets lost: `-m immediate` kills the server without flushing its WAL
buffers, but the operating system survives and keeps whatever the WAL writer had already
written to its files, and the WAL writer writes each full WAL page within milliseconds.
Alone, such a crash loses only the commits in the last, partial page. So the
cluster's WAL writer is paused (SIGSTOP) during the crashed run, as if the machine lost
power before the writer's next flush: WAL then leaves the buffers only when a backend
flushes it itself, at a durable commit, which writes all the WAL before it. Every
unsynchronised commit since the last durable one is lost, and the test shows that some
were.

Only in the PostgreSQL pass (DATABASE_URL): synchronous_commit is PostgreSQL's, and a
second cluster beside the SQLite pass would only make CI slower."""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from groupbill.automation.cli import EXIT_FAILED, EXIT_OK
from tests import processes
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 1500  # two shards (SHARD_SIZE is 1000 clients)
AS_OF = "2027-03-15"  # bench.book's renewal day: every period is due, and auto-debited
# Settings that keep WAL in the buffers until a backend flushes it: no autovacuum (its
# ANALYZE commits durably at random moments), no checkpoint, no background writer
# writing dirty pages (each would flush the WAL up to the page), buffers that hold it all.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "autovacuum": "off",
    "checkpoint_timeout": "1h",
    "max_wal_size": "4GB",
    "bgwriter_lru_maxpages": "0",
    "wal_buffers": "64MB",
    "shared_buffers": "256MB",
    "fsync": "on",  # durable commits are what they are on a real server
}


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))  # fmt: skip
    if not found:
        skip_or_fail("PostgreSQL's server binaries are not installed (/usr/lib/postgresql)")
    return Path(found[-1]).parent


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on a free port. Run as the `postgres`
    user when the tests run as root (initdb and the server refuse root)."""

    def __init__(self):
        self.bin = _binaries()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                skip_or_fail("running as root, and there is no `postgres` user to run a cluster")
        self.folder = Path(tempfile.mkdtemp(prefix="groupbill-crash-"))
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self.data, self.port = self.folder / "data", processes.free_port()
        self._pg("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--no-locale", "--no-sync")  # fmt: skip
        self.start()

    def _owner(self) -> dict:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _pg(self, program: str, *args, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([self.bin / program, *map(str, args)], capture_output=True,
                              text=True, timeout=60, cwd=self.folder, **self._owner())  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"{program} failed: {done.stdout}{done.stderr}")
        return done

    def start(self) -> None:
        options = " ".join(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())
        options += f" -p {self.port} -c unix_socket_directories={self.folder}"
        self._pg("pg_ctl", "start", "-w", "-D", self.data, "-l", self.folder / "server.log",
                 "-o", options)  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)

    def sql(self, database: str, statement: str) -> None:
        with self.connect(database) as db:
            db.execute(statement)

    def pause_wal_writer(self) -> int:
        with self.connect() as db:
            [pid] = db.execute("SELECT pid FROM pg_stat_activity "
                               "WHERE backend_type = 'walwriter'").fetchone()  # fmt: skip
        os.kill(pid, signal.SIGSTOP)
        return pid

    def crash(self, wal_writer: int | None = None) -> None:
        """`pg_ctl stop -m immediate`: every server process quits at once, nothing flushed.
        A paused WAL writer would only die after the postmaster's 5 s grace: killed now."""
        stop = subprocess.Popen([self.bin / "pg_ctl", "stop", "-m", "immediate", "-D", self.data],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=self.folder, **self._owner())  # fmt: skip
        if wal_writer is not None:
            time.sleep(0.2)  # the postmaster has told its children to quit
            with contextlib.suppress(ProcessLookupError):
                os.kill(wal_writer, signal.SIGKILL)
        out, _ = stop.communicate(timeout=60)
        assert stop.returncode == 0, out

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg("pg_ctl", "stop", "-m", "immediate", "-D", self.data, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster():
    if connection.vendor != "postgresql":
        # Not a missing component: CI's PostgreSQL pass (DATABASE_URL) runs this test.
        pytest.skip("a crash of PostgreSQL, run in the PostgreSQL pass (DATABASE_URL)")
    made = Cluster()
    try:
        yield made
    finally:
        made.destroy()


def _book(cluster: Cluster) -> None:
    """bench.book's bulk book in database `book`, its auto-debit cards left to one client
    in forty, and a declined card to one in eighty: charges to check, few enough to be quick."""
    cluster.sql("postgres", "CREATE DATABASE book")
    built = subprocess.run(
        [sys.executable, "-m", "bench.book", "--clients", str(CLIENTS)],
        env=processes.environment(DATABASE_URL=cluster.url("book")),
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    cluster.sql("book", "DELETE FROM billing_paymentaccount "
                        "WHERE client_id % 40 <> 1 AND client_id % 80 <> 19")  # fmt: skip


def _engine(cluster: Cluster, database: str, **env: str) -> subprocess.Popen:
    return processes.groupbill("run", "--as-of", AS_OF, "--json",
                               DATABASE_URL=cluster.url(database), **env)  # fmt: skip


def _finished(process: subprocess.Popen) -> int:
    out, err = process.communicate(timeout=300)
    assert process.returncode in (EXIT_OK, EXIT_FAILED), err[-3000:]  # a decline fails a run
    assert '"tasks"' in out, err[-3000:]
    return process.returncode


def _rows(db, sql: str) -> list[tuple]:
    return sorted(db.execute(sql).fetchall())


def state(db) -> dict[str, list[tuple]]:
    """What the book shows, without ids or times: ids may differ between the two copies
    (a crash loses a batch's rows, not always the sequence values it took), what they
    point at may not."""
    return {
        "invoices": _rows(db, "SELECT client_id, number, currency, status, total, "
                              "amount_paid, issued_on, due_on, delivery_method "
                              "FROM billing_invoice"),
        "lines": _rows(db, "SELECT i.number, l.service_id, l.description, l.period_start, "
                           "l.period_end, l.quantity, l.amount, l.total FROM billing_invoiceline l "
                           "JOIN billing_invoice i ON i.id = l.invoice_id"),
        "billed_periods": _rows(db, 'SELECT b.service_id, b.period, b.start, b."end", '
                                    "b.skipped, i.number FROM services_billedperiod b "
                                    "LEFT JOIN billing_invoice i ON i.id = b.invoice_id"),
        "services": _rows(db, "SELECT id, status, next_period, renew_date FROM services_service"),
        "transactions": _rows(db, "SELECT client_id, kind, status, currency, amount, "
                                  "idempotency_key FROM billing_transaction"),
        "applications": _rows(db, "SELECT t.idempotency_key, i.number, a.amount "
                                  "FROM billing_application a "
                                  "JOIN billing_transaction t ON t.id = a.transaction_id "
                                  "JOIN billing_invoice i ON i.id = a.invoice_id"),
        "gateway_charges": _rows(db, "SELECT operation, account_reference, amount, currency, "
                                     "outcome FROM billing_sandboxcharge"),
        "messages": _rows(db, "SELECT m.template, m.client_id, i.number, m.status, "
                              "regexp_replace(m.key, '[0-9]+', '#', 'g') "
                              "FROM notices_outboxmessage m "
                              "LEFT JOIN billing_invoice i ON i.id = m.invoice_id"),
        "print_jobs": _rows(db, "SELECT i.number FROM notices_printjob p "
                                "JOIN billing_invoice i ON i.id = p.invoice_id"),
    }  # fmt: skip


def _issued(state: dict) -> list[tuple]:
    """The invoices as issued (client, number, currency, total, days), without what a later
    task changes (paid, delivered)."""
    return [(c, n, cur, total, issued, due) for c, n, cur, _, total, _, issued, due, _
            in state["invoices"]]  # fmt: skip


# What a user checks of a book, whatever happened to the server: each query finds the rows
# that break it.
BROKEN = {
    "a service period billed twice": """
        SELECT service_id, start FROM services_billedperiod GROUP BY 1, 2 HAVING count(*) > 1
    """,
    "an invoice whose lines do not add up to its total": """
        SELECT i.id FROM billing_invoice i LEFT JOIN billing_invoiceline l ON l.invoice_id = i.id
        GROUP BY i.id HAVING i.total <> coalesce(sum(l.total), -1)
    """,
    # Delivered once: by email (its own message in the outbox) or in the print queue.
    "an invoice delivered twice, or marked delivered without a message": """
        SELECT i.id FROM billing_invoice i WHERE i.delivered_at IS NOT NULL
        AND (SELECT count(*) FROM notices_outboxmessage m
             WHERE m.invoice_id = i.id AND m.key LIKE 'invoice:%:delivery')
          + (SELECT count(*) FROM notices_printjob p WHERE p.invoice_id = i.id) <> 1
    """,
    "a charge the gateway made that is not one payment of its amount and outcome": """
        SELECT c.id FROM billing_sandboxcharge c
        LEFT JOIN billing_transaction t ON t.gateway_key = c.idempotency_key
        WHERE c.operation = 'charge' GROUP BY c.id
        HAVING count(t.id) <> 1 OR min(t.amount) <> c.amount OR min(t.status) <> c.outcome
    """,
    "a payment the gateway never made": """
        SELECT t.id FROM billing_transaction t WHERE t.kind = 'payment' AND NOT EXISTS (
            SELECT 1 FROM billing_sandboxcharge c WHERE c.idempotency_key = t.gateway_key)
    """,
    "a client charged twice": """
        SELECT client_id, currency FROM billing_transaction
        WHERE kind = 'payment' AND status = 'approved' GROUP BY 1, 2 HAVING count(*) > 1
    """,
    "an approved payment not applied to invoices in full": """
        SELECT t.id FROM billing_transaction t
        LEFT JOIN billing_application a ON a.transaction_id = t.id
        WHERE t.status = 'approved' GROUP BY t.id HAVING t.amount <> coalesce(sum(a.amount), 0)
    """,
}


def _check_book(db) -> None:
    numbers = [n for (n,) in db.execute("SELECT number FROM billing_invoice ORDER BY 1")]
    assert numbers == list(range(1, len(numbers) + 1)), "invoice numbers with a gap or twice"
    for broken, sql in BROKEN.items():
        assert not _rows(db, sql), broken
    assert db.execute("SELECT 1 FROM billing_sandboxcharge").fetchone(), "no card charged"


# The clients of the first run's second shard are those after its first shard's last.
SECOND_SHARD = ("client_id > (SELECT last_client FROM automation_engineshard WHERE position = 0 "
                "AND run_id = (SELECT min(id) FROM automation_enginerun))")  # fmt: skip


def _crash_when(cluster: Cluster, seen: str) -> tuple[dict, bool]:
    """Run the book in `crashed` until `seen` finds a row, then crash the server. The
    engine is stopped (SIGSTOP) first, so that what it committed is read before the crash.
    Returns that, and whether the commit that `seen` found cannot have reached the disk:
    no WAL was written since before it was seen, the engine being the only writer. The
    crash must then lose it."""
    # Any durable commit in the cluster flushes all its WAL: nothing else may write now.
    cluster.sql("postgres", "CHECKPOINT")  # and recovery replays this run's WAL alone
    wal_writer = cluster.pause_wal_writer()
    engine = _engine(cluster, "crashed", GROUPBILL_EFFECT_GRACE_SECONDS="0")
    try:
        with cluster.connect("crashed") as db:
            written_before, deadline = None, time.monotonic() + 120
            while True:
                written, found = db.execute(f"SELECT pg_current_wal_lsn(), EXISTS({seen})"
                                            ).fetchone()  # fmt: skip
                if found:
                    engine.send_signal(signal.SIGSTOP)
                    break
                if engine.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"no crash: {seen} found nothing while the run ran "
                        f"({engine.poll()}): {engine.stderr.read()[-3000:]}"
                    )
                written_before = written
                time.sleep(0.01)
            before = state(db)
            written = db.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        cluster.crash(wal_writer)
    finally:
        if engine.poll() is None:
            engine.kill()  # SIGKILL, the engine stopped where the crash found it
        engine.wait(timeout=10)
        engine.stdout.close()
        engine.stderr.close()
    return before, written == written_before


def _recovered(cluster: Cluster, before: dict) -> dict:
    """Start the server again (crash recovery replays the WAL that reached the disk), and
    check that the crash lost only the last commits, each whole, and nothing durable."""
    cluster.start()
    with cluster.connect("crashed") as db:
        after = state(db)
        # Nothing that left the database is forgotten: every charge the gateway made, every
        # payment booked (each was a durable commit of its own).
        assert after["gateway_charges"] == before["gateway_charges"]
        assert after["transactions"] == before["transactions"]
        # What is left is the book as it was before the lost commits: the invoices
        # numbered 1..k, each with all its lines and periods.
        kept = {row[1] for row in after["invoices"]}
        assert kept == set(range(1, len(kept) + 1))
        assert _issued(after) == [row for row in _issued(before) if row[1] in kept]
        assert after["lines"] == [row for row in before["lines"] if row[0] in kept]
        assert after["billed_periods"] == [r for r in before["billed_periods"] if r[5] in kept]
        for part in ("messages", "print_jobs", "applications"):
            assert set(after[part]) <= set(before[part]), part
        _check_book(db)
    return after


def _counts(state: dict) -> str:
    delivered = sum(row[-1] != "" for row in state["invoices"])
    return f"{len(state['invoices'])} invoices, {delivered} delivered"


def _crash_and_recover(cluster: Cluster, seen: str, what: str) -> None:
    before, lost = _crash_when(cluster, seen)
    after = _recovered(cluster, before)
    print(f"crash while {what}: {_counts(before)} seen, {_counts(after)} after recovery"
          f"{'' if lost else ' (written since: maybe nothing lost)'}")  # fmt: skip
    if lost:
        with cluster.connect("crashed") as db:
            assert not db.execute(seen).fetchone(), f"the crash while {what} lost nothing"


def test_a_database_crash_in_the_middle_of_a_run_loses_only_batches_done_again(cluster):
    _book(cluster)
    for database in ("clean", "crashed"):
        cluster.sql("postgres", f"CREATE DATABASE {database} TEMPLATE book")
    print()
    # 1. Once the second shard's first batch of invoices is committed: the shard charges
    # cards after invoicing, each charge a durable commit.
    _crash_and_recover(cluster, f"SELECT 1 FROM billing_invoice WHERE {SECOND_SHARD}",
                       "invoicing")  # fmt: skip
    # 2. The next run, once it has delivered some of the invoices it made again.
    _crash_and_recover(cluster, f"SELECT 1 FROM billing_invoice WHERE {SECOND_SHARD} "
                                "AND delivered_at IS NOT NULL", "delivering")  # fmt: skip

    # 3. The next run does what was lost, once, and the book ends as the clean run leaves
    # its copy (run now, beside it).
    clean_run = _engine(cluster, "clean")
    try:
        last_exit = _finished(_engine(cluster, "crashed", GROUPBILL_EFFECT_GRACE_SECONDS="0"))
    finally:
        clean_exit = _finished(clean_run)
    assert clean_exit == EXIT_FAILED  # some cards are declined
    with cluster.connect("crashed") as crashed, cluster.connect("clean") as clean:
        _check_book(crashed)
        assert state(crashed) == state(clean)
        # The crashed runs are shown abandoned; the last one finished.
        runs = crashed.execute("SELECT status FROM automation_enginerun ORDER BY id").fetchall()
        last = "done" if last_exit == EXIT_OK else "failed"
        assert runs == [("abandoned",), ("abandoned",), (last,)]
