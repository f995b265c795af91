"""Handing runs and shards to workers on other processes and machines. On PostgreSQL
with procrastinate, a run is a job that plans its shards and each shard is a job, so
`groupbill worker` processes anywhere claim them; elsewhere (SQLite, the embedded
default) this does nothing: the process that starts a run, or `groupbill scheduler`,
runs its shards itself."""

from django.conf import settings
from django.db import connection


def available() -> bool:
    return settings.PROCRASTINATE_ENABLED and connection.vendor == "postgresql"


def defer_run(record) -> None:
    if available():
        from groupbill.automation import jobs

        jobs.plan_run.defer(run_id=record.pk)


def defer_shards(record, shards) -> None:
    if available() and shards:
        from groupbill.automation import jobs

        jobs.run_shard.batch_defer(*({"shard_id": s.pk} for s in shards))
