"""Writing many rows at once, as fast as the database takes them: COPY on PostgreSQL,
one executemany in the caller's transaction on SQLite. The ORM's bulk_create and
bulk_update build a statement (or a CASE per row) in Python, which costs more than the
database's own work by an order of magnitude at engine volumes.

Both run inside the caller's transaction. Primary keys are taken before the rows are
written (from the table's sequence on PostgreSQL; on SQLite the transaction holds the
database's write lock, so the next ids are the table's), and set on the instances.
"""

from collections.abc import Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connections, models


def _connection():
    # The connection itself, not Django's proxy: the proxy's lookup per value adds up
    # over millions of values.
    return connections[DEFAULT_DB_ALIAS]


def _table(model) -> str:
    return model._meta.db_table


def _reserve_ids(model, count: int) -> list[int]:
    table, connection = _table(model), _connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        last = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(last, row[0] if row else 0) + 1
        return list(range(first, first + count))


# Values the drivers take as Python holds them: no per-value conversion for these.
_NATIVE = {
    "postgresql": (models.IntegerField, models.CharField, models.TextField, models.DateField,
                   models.DateTimeField, models.BooleanField, models.DecimalField,
                   models.ForeignKey),
    "sqlite": (models.IntegerField, models.CharField, models.TextField, models.BooleanField,
               models.ForeignKey),
}  # fmt: skip


def _getter(field, connection):
    """How one field's value is read off an instance as the database takes it."""
    attname = field.attname
    adds = getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False)
    native = isinstance(field, _NATIVE.get(connection.vendor, ())) and not isinstance(
        field, models.JSONField
    )
    if adds:
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
    if native:
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.get_db_prep_save(getattr(obj, attname), connection)


def insert(model, objects: Sequence[models.Model]) -> None:
    """Insert the instances (their ids set here), every concrete field as Django would
    save it (defaults, auto_now_add)."""
    if not objects:
        return
    connection = _connection()
    fields = list(model._meta.concrete_fields)
    getters = [_getter(f, connection) for f in fields]
    for obj, pk in zip(objects, _reserve_ids(model, len(objects)), strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
    rows = (tuple(get(obj) for get in getters) for obj in objects)
    _write(connection, _table(model), [f.column for f in fields], rows)


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


def update(model, objects: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """Write these fields of the instances back, by primary key."""
    if not objects:
        return
    connection = _connection()
    fields = [model._meta.get_field(name) for name in field_names]
    rows = [
        (*(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields), obj.pk)
        for obj in objects
    ]
    table, columns = _table(model), [f.column for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY into a scratch table, then one UPDATE joined on it.
            names = ", ".join(f'"{c}"' for c in [*columns, "id"])
            cursor.execute(
                f'CREATE TEMP TABLE "_bulk_update" AS SELECT {names} FROM "{table}" WITH NO DATA'
            )
            _write(connection, "_bulk_update", [*columns, "id"], rows)
            sets = ", ".join(f'"{c}" = u."{c}"' for c in columns)
            cursor.execute(f'UPDATE "{table}" AS t SET {sets} FROM "_bulk_update" AS u '
                           "WHERE t.id = u.id")  # fmt: skip
            cursor.execute('DROP TABLE "_bulk_update"')
        else:
            sets = ", ".join(f'"{c}" = ?' for c in columns)
            cursor.cursor.executemany(f'UPDATE "{table}" SET {sets} WHERE id = ?', rows)
