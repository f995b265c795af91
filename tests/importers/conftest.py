import os
import uuid

import pytest

from tests.conftest import skip_or_fail
from tests.importers import blesta_book, whmcs_book

MARIADB = {
    "host": os.environ.get("GROUPBILL_TEST_MARIADB_HOST", "127.0.0.1"),
    "port": int(os.environ.get("GROUPBILL_TEST_MARIADB_PORT", "3306")),
    "user": "root",
    "password": "",
}
SESSION = uuid.uuid4().hex[:8]


def query(connection, sql: str) -> list[dict]:
    """The rows `sql` reads from the source database, each a dict."""
    import pymysql.cursors

    with connection.cursor(pymysql.cursors.DictCursor) as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def _server():
    import pymysql

    try:
        return pymysql.connect(**MARIADB, connect_timeout=3, autocommit=True)
    except pymysql.MySQLError as exc:
        skip_or_fail(f"MariaDB is not reachable at {MARIADB['host']}:{MARIADB['port']}: {exc}")


def _database(prefix: str, load):
    """A fresh database named uniquely for this session and test, filled by `load`,
    dropped afterwards. Yields (dsn, connection)."""
    import pymysql

    server = _server()
    name = f"gb_{prefix}_{SESSION}_{uuid.uuid4().hex[:6]}"
    with server.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    connection = pymysql.connect(**MARIADB, database=name, autocommit=False)
    try:
        load(connection)
        yield f"mysql://root@{MARIADB['host']}:{MARIADB['port']}/{name}", connection
    finally:
        connection.close()
        with server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()


@pytest.fixture
def blesta_db():
    """A fresh Blesta-shaped database holding the book (tests.importers.blesta_book), named
    uniquely for this session and test, dropped afterwards. Yields (dsn, connection)."""
    yield from _database("blesta", blesta_book.load)


@pytest.fixture
def whmcs_db():
    """A fresh WHMCS-shaped database holding the book (tests.importers.whmcs_book), named
    uniquely for this session and test, dropped afterwards. Yields (dsn, connection)."""
    yield from _database("whmcs", whmcs_book.load)
