"""The engine's procrastinate jobs, run by `groupbill worker` on PostgreSQL: a run plans
its shards, each shard is a job any worker may take (the shard row is the real claim, so
a job for a shard another process already runs does nothing), and the five-minute tick,
outbox delivery and the retry of jobs whose worker died are periodic jobs, deferred once
per period however many workers there are."""

from django.utils import timezone
from procrastinate.contrib.django import app

from groupbill.automation import engine
from groupbill.automation.models import EngineRun, RunStatus

QUEUE = "engine"


@app.task(queue=QUEUE, name="groupbill.plan_run")
def plan_run(run_id: int) -> None:
    record = EngineRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).first()
    if record is None:
        return  # planned already (the process that started it, or another job)
    if record.dry_run:
        engine.run(record)
        return
    engine.plan_shards(record)
    engine.finish(record.pk)


@app.task(queue=QUEUE, name="groupbill.run_shard")
def run_shard(shard_id: int) -> None:
    shard = engine.claim(shard_id=shard_id)
    if shard is not None:
        engine.work(shard)


@app.periodic(cron="*/5 * * * *", periodic_id="tick")
@app.task(queue=QUEUE, name="groupbill.tick", queueing_lock="groupbill.tick")
def tick(timestamp: int) -> None:
    """The schedule: a run as of now, unless one is still going."""
    if engine.active_run() is not None:
        return
    as_of = engine.AsOf(moment=timezone.now())
    record = engine.start(as_of=as_of, actor="scheduler")
    engine.plan_shards(record)
    engine.finish(record.pk)


@app.periodic(cron="* * * * *", periodic_id="deliver")
@app.task(queue=QUEUE, name="groupbill.deliver", queueing_lock="groupbill.deliver")
def deliver(timestamp: int) -> None:
    from groupbill.notices import sender

    sender.deliver(timezone.now())


@app.periodic(cron="* * * * *", periodic_id="retry_stalled")
@app.task(queue=QUEUE, name="groupbill.retry_stalled", queueing_lock="groupbill.retry_stalled",
          pass_context=True)  # fmt: skip
async def retry_stalled(context, timestamp: int) -> None:
    """A job whose worker was killed stays "doing"; this puts it back in the queue (its
    shard is claimed again once the shard's own heartbeat is stale)."""
    for job in await app.job_manager.get_stalled_jobs():
        await app.job_manager.retry_job(job)
