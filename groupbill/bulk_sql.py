"""Writing many rows at once, as fast as the database takes them: COPY on PostgreSQL,
one executemany in the caller's transaction on SQLite. The ORM's bulk_create and
bulk_update build a statement (or a CASE per row) in Python, which costs more than the
database's own work by an order of magnitude at engine volumes; so does building a model
instance per row, so rows are given as {attname: value}.

Both run inside the caller's transaction. Primary keys are taken before the rows are
written (from the table's sequence on PostgreSQL; on SQLite the transaction holds the
database's write lock, so the next ids are the table's).
"""

import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone


def _connection():
    # The connection itself, not Django's proxy: the proxy's lookup per value adds up
    # over millions of values.
    return connections[DEFAULT_DB_ALIAS]


def _table(model) -> str:
    return model._meta.db_table


_catalog: dict[tuple, list] = {}


def _from_catalog(connection, sql: str, params: list) -> list:
    """The first column of a catalog query, asked once per database and process: sequence
    and constraint names do not change while it runs."""
    key = (connection.settings_dict["NAME"], sql, *params)
    if key not in _catalog:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            _catalog[key] = [row[0] for row in cursor.fetchall()]
    return _catalog[key]


def _sequence(connection, table: str) -> str:
    return _from_catalog(connection, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0]


def reserve_ids(model, count: int) -> list[int]:
    """Ids for rows of `model` to be inserted in this transaction (a row given its id
    keeps it): rows that point at them can be written first."""
    if not count:
        return []
    table, connection = _table(model), _connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence's name once: looked up for each row, it cost eight times nextval.
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [_sequence(connection, table), count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        last = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(last, row[0] if row else 0) + 1
        return list(range(first, first + count))


# Values the drivers take as Python holds them: no per-value conversion for these (SQLite's
# module adapts a Decimal itself, Django registered `str` for it).
_NATIVE = {
    "postgresql": (models.IntegerField, models.CharField, models.TextField, models.DateField,
                   models.DateTimeField, models.BooleanField, models.DecimalField,
                   models.ForeignKey),
    "sqlite": (models.IntegerField, models.CharField, models.TextField, models.BooleanField,
               models.DecimalField, models.ForeignKey),
}  # fmt: skip


def _adapter(field, connection) -> Callable[[Any], Any] | None:
    """How a value of this field becomes what the driver takes (None: as it is). Dates and
    JSON go straight to the backend's adapter: `get_db_prep_save` checks and converts each
    value in several calls, which costs more than the database's own work at engine volumes.
    A batch repeats the same few moments and days (its `now`, its periods' bounds), so
    their conversions are cached."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return _json_adapter(field, connection)
    if isinstance(field, _NATIVE.get(connection.vendor, ())):
        return None
    if isinstance(field, models.DateTimeField):
        return functools.lru_cache(maxsize=256)(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return str  # what every backend's adapt_datefield_value makes of a date
    return lambda value: field.get_db_prep_save(value, connection)


def _json_adapter(field, connection) -> Callable[[Any], Any]:
    """A JSON value's text; a batch's rows often share one value (the seller of every
    invoice), which is then encoded once: remembered by identity, for this batch only.
    orjson encodes a few times faster than `json`, a tenth of a delivery's cost (the
    message's context); a field with an encoder of its own keeps Django's way."""
    encode = (
        _json_text
        if field.encoder is None
        else functools.partial(connection.ops.adapt_json_value, encoder=field.encoder)
    )
    encoded: dict[int, tuple[Any, Any]] = {}

    def json_value(value):
        if value is None:  # SQL NULL or JSON null: the field knows
            return field.get_db_prep_save(value, connection)
        known = encoded.get(id(value))
        if known is None or known[0] is not value:
            known = encoded[id(value)] = (value, encode(value))
        return known[1]

    return json_value


def _json_text(value) -> str:
    # Text, not bytes: bytes would be written as a BLOB (SQLite) or bytea (COPY); keys
    # that are not strings become strings, as `json` makes them.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _defaults(fields) -> tuple[dict[str, Any], list[tuple[str, Callable[[], Any]]]]:
    """Each field's value when a row does not give it: its default, or now for
    auto_now(_add) (one moment for the whole batch); and the defaults made afresh for each
    row (a callable default such as `dict`: rows must not share one mutable value)."""
    now = timezone.now()
    constant, fresh = {}, []
    for field in fields:
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            constant[field.attname] = now
        elif field.has_default() and callable(field.default):
            fresh.append((field.attname, field.default))
        else:
            constant[field.attname] = field.get_default() if field.has_default() else None
    return constant, fresh


def insert_values(model, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows given as {field attname: value}, without building model instances (the
    ORM's `__init__` costs ~10 µs a row); fields a row leaves out take their defaults,
    and the id one reserved (`reserve_ids`) unless it has one. Returns the rows' ids."""
    return [obj[model._meta.pk.attname] for obj in _insert_values(model, rows)]


def _insert_values(model, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the rows; each as written (defaults filled in, its id set)."""
    if not rows:
        return []
    connection = _connection()
    fields = list(model._meta.concrete_fields)
    defaults, fresh = _defaults(fields)
    pk = model._meta.pk.attname
    # Only these columns need converting; a NULL stays NULL, except JSON's (JSON null).
    converted = {i: (adapt, isinstance(f, models.JSONField)) for i, f in enumerate(fields)
                 if (adapt := _adapter(f, connection)) is not None}  # fmt: skip
    complete = [defaults | row for row in rows]
    without_id = [values for values in complete if values.get(pk) is None]
    for values, row_id in zip(without_id, reserve_ids(model, len(without_id)), strict=True):
        values[pk] = row_id
    for values in complete:
        for name, make in fresh:
            if name not in values:
                values[name] = make()
    # Column by column: a conversion is one tight loop over a column, not a call per row.
    columns = []
    for i, f in enumerate(fields):
        column = list(map(operator.itemgetter(f.attname), complete))
        if i in converted:
            adapt, json_null = converted[i]
            if json_null:
                column = list(map(adapt, column))
            else:
                column = [None if v is None else adapt(v) for v in column]
        columns.append(column)
    _write(connection, _table(model), [f.column for f in fields], zip(*columns, strict=True))
    return complete


def _write(connection, table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


def update_values(model, field_names: Sequence[str], rows: Sequence[tuple]) -> None:
    """Set these fields of many rows, each given as (its values in order, its id). Rows
    that get the same values (a batch's invoices all delivered at one moment, services
    moved to the same next period) are updated by one statement each."""
    if not rows:
        return
    alike: dict[tuple, list[int]] = defaultdict(list)
    for *values, row_id in rows:
        alike[tuple(values)].append(row_id)
    if len(alike) * 4 <= len(rows):
        for values, ids in alike.items():
            model._base_manager.filter(pk__one_of=ids).update(**dict(zip(field_names, values,
                                                                         strict=True)))  # fmt: skip
        return
    connection = _connection()
    fields = [model._meta.get_field(name) for name in field_names]
    adapters = [_adapter(f, connection) or (lambda value: value) for f in fields]
    table, columns = _table(model), [f'"{f.column}"' for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the values travel as arrays, one per column.
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            names = ", ".join(columns)
            cursor.execute(
                f'UPDATE "{table}" AS t SET {", ".join(f"{c} = u.{c}" for c in columns)} '
                f"FROM unnest({arrays}, %s::bigint[]) AS u({names}, id) WHERE t.id = u.id",
                [*([adapt(row[i]) for row in rows] for i, adapt in enumerate(adapters)),
                 [row[-1] for row in rows]],
            )  # fmt: skip
        else:
            prepared = [(*(adapt(v) for adapt, v in zip(adapters, row, strict=False)), row[-1])
                        for row in rows]  # fmt: skip
            sets = ", ".join(f"{c} = ?" for c in columns)
            cursor.cursor.executemany(f'UPDATE "{table}" SET {sets} WHERE id = ?', prepared)


def check_references_now(but_to) -> None:
    """Check the foreign keys of the rows written so far in this transaction now, not at
    its commit, except those that point at `but_to`'s table (its rows are written later):
    the commit then checks only what follows (PostgreSQL; SQLite has one writer)."""
    connection = _connection()
    if connection.vendor != "postgresql":
        return
    names = ", ".join(f'"{n}"' for n in _deferred_keys(connection, _table(but_to)))
    if not names:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")  # checks what is pending
        cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def _deferred_keys(connection, but_to: str) -> list[str]:
    """The deferrable foreign keys of the schema, but those pointing at table `but_to`."""
    return _from_catalog(
        connection,
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable "
        "AND connamespace = current_schema()::regnamespace "
        "AND confrelid <> %s::regclass ORDER BY conname",
        [but_to],
    )


def commit_without_waiting() -> None:
    """Let the current transaction's commit return before its WAL reaches the disk
    (PostgreSQL's `synchronous_commit = off`, for this transaction only): a bulk batch
    commits in microseconds instead of a disk flush. A crash may lose the last such
    commits, never half of one, and never one that something outside the database relied
    on: every external effect is recorded by a commit of its own, made outside any bulk
    transaction and durable as usual, and a durable commit flushes all the WAL before
    it. A lost batch is found due again on the next run, by the same keys."""
    connection = _connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
