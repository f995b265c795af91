"""Splitting a run into shards: for each company, the clients that have something due in
any task, in ranges of about SHARD_SIZE client ids. Clients are independent (no task
reads another client's rows), so shards are too; a client with nothing due when the run
begins gets nothing from any task of that run, so a quiet day has no shard at all.

Every task says which clients it may act on (`due(view)`: a superset, in SQL, over the
company); one query unions them and numbers the result into ranges, so no list of the
book's clients is ever held in Python."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import F, QuerySet

from groupbill.automation.view import CompanyView

SHARD_SIZE = 1000


def _parts(view: CompanyView, tasks: Iterable) -> list[QuerySet]:
    parts = []
    for task in tasks:
        due = task.due(view)
        parts += due if isinstance(due, list | tuple) else [due]
    return parts


Range = tuple[int, int, int]  # first client id, last client id (included), clients


def _due_clients(view: CompanyView, tasks: Iterable) -> tuple[str, list] | None:
    """SQL for the ids of clients something is due for (column `c`), and its params."""
    sqls, params = [], []
    for part in _parts(view, tasks):
        [column] = part.query.values_select
        sql, part_params = part.order_by().values(c=F(column)).query.sql_with_params()
        sqls.append(sql)
        params += part_params
    return (" UNION ".join(sqls), params) if sqls else None


def ranges(view: CompanyView, tasks: Iterable, size: int | None = None) -> list[Range]:
    """(first client id, last client id, clients) of each shard, in order."""
    due = _due_clients(view, tasks)
    if due is None:
        return []
    union, params = due
    sql = (
        "SELECT MIN(c), MAX(c), COUNT(*) FROM ("
        f"  SELECT c, (ROW_NUMBER() OVER (ORDER BY c) - 1) / %s AS bucket FROM ({union}) due"
        ") numbered GROUP BY bucket ORDER BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [size or SHARD_SIZE, *params])
        return [tuple(row) for row in cursor.fetchall()]


def anything_due(view: CompanyView, tasks: Iterable, first: int, last: int) -> bool:
    """Whether any client from `first` to `last` (ids) has something due: one query."""
    due = _due_clients(view, tasks)
    if due is None:
        return False
    union, params = due
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM ({union}) due WHERE c BETWEEN %s AND %s LIMIT 1", [*params, first, last]
        )
        return cursor.fetchone() is not None
