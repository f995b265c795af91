"""Reading a source database (Blesta's, WHMCS's: MariaDB/MySQL) through PyMySQL: whole
tables as lists of dicts, by the columns the importer needs. A missing table or column, or
a database that cannot be reached, is a `ReaderError` saying which."""

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors


class ReaderError(Exception):
    """The source cannot be read: the message says what and where."""


def parse_dsn(dsn: str) -> dict[str, Any]:
    """`mysql://user:password@host:port/database` as PyMySQL's connection arguments."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("mysql", "mariadb"):
        raise ReaderError("the DSN must start with mysql:// (mysql://user@host:3306/database)")
    database = parts.path.lstrip("/")
    if not database or "/" in database:
        raise ReaderError("the DSN must name the database (mysql://user@host:3306/database)")
    try:
        port = parts.port or 3306
    except ValueError:
        raise ReaderError("the DSN's port must be a number") from None
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": port,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": unquote(database),
    }


class Reader:
    """One connection to the source, read only (a repeatable-read snapshot, so the
    tables read belong together)."""

    def __init__(self, dsn: str, *, connect_timeout: int = 10):
        self.params = parse_dsn(dsn)
        try:
            self.connection = pymysql.connect(
                **self.params,
                charset="utf8mb4",
                cursorclass=pymysql.cursors.DictCursor,
                connect_timeout=connect_timeout,
            )
        except pymysql.MySQLError as exc:
            where = f"{self.params['host']}:{self.params['port']}/{self.params['database']}"
            raise ReaderError(f"cannot connect to {where}: {exc.args[-1]}") from None
        with self.connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    @property
    def source(self) -> str:
        return f"{self.params['host']}:{self.params['port']}/{self.params['database']}"

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        *,
        order_by: Sequence[str] = ("id",),
        optional: bool = False,
    ) -> list[dict[str, Any]]:
        """Every row of `table`, each a dict of `columns`, in `order_by` order. A missing
        table is [] when `optional`, else a ReaderError; a missing column always is one."""
        have = self._columns(table)
        if have is None:
            if optional:
                return []
            raise ReaderError(f"table {table} is missing from {self.source}")
        missing = [c for c in columns if c not in have]
        if missing:
            raise ReaderError(f"table {table} has no column {', '.join(missing)}")
        names = ", ".join(f"`{c}`" for c in columns)
        order = ", ".join(f"`{c}`" for c in order_by)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT {names} FROM `{table}` ORDER BY {order}")
            return list(cursor.fetchall())

    def tables(
        self,
        tables: dict[str, tuple[Sequence[str], Sequence[str]]],
        optional: dict[str, tuple[Sequence[str], Sequence[str]]] | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Every row of each table (table → (columns, order_by)), whole; the `optional`
        ones are [] where the source lacks them."""
        data = {
            table: self.rows(table, columns, order_by=order)
            for table, (columns, order) in tables.items()
        }
        for table, (columns, order) in (optional or {}).items():
            data[table] = self.rows(table, columns, order_by=order, optional=True)
        return data

    def _columns(self, table: str) -> set[str] | None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name AS name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s",
                (self.params["database"], table),
            )
            found = {row["name"] for row in cursor.fetchall()}
        return found or None
