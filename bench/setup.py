"""Django for the benchmark scripts: the database in $DATABASE_URL, else a SQLite file
`bench-data/bench.sqlite3` (kept between a book and its runs)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django(migrate: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groupbill.settings")
    if "DATABASE_URL" not in os.environ:
        data = ROOT / "bench-data"
        data.mkdir(exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{data / 'bench.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django as django_module

    django_module.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def where() -> str:
    from django.db import connection

    return f"{connection.vendor} ({connection.settings_dict['NAME']})"


def analyze() -> None:
    """Fresh planner statistics after bulk writes (PostgreSQL; SQLite's ANALYZE too)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
