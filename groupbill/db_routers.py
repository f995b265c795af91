"""procrastinate's tables are PostgreSQL only (plpgsql, enums); on SQLite its migrations
are recorded and skipped, and the engine runs its shards in process."""

from django.db import connections


class ProcrastinateOnPostgreSQLOnly:
    def allow_migrate(self, db, app_label, **hints):
        if app_label == "procrastinate" and connections[db].vendor != "postgresql":
            return False
        return None
