from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Done with failures"
    ERROR = "error", "Stopped by an error"
    ABANDONED = "abandoned", "Abandoned (its process died)"


class EngineRun(models.Model):
    """One engine run: who started it, for which moment, and what each task did."""

    as_of = models.DateTimeField()
    # As it was given: a day means 12:00 in each company's own time zone.
    as_of_text = models.CharField(max_length=64, blank=True, default="")
    dry_run = models.BooleanField(default=False)
    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    task = models.CharField(max_length=32, blank=True, default="")  # only this task
    days = models.PositiveSmallIntegerField(default=1)  # a preview's consecutive days
    actor = models.CharField(max_length=128)
    status = models.CharField(max_length=9, choices=RunStatus.choices, default=RunStatus.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)  # the --json document
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Run #{self.pk} as of {self.as_of:%Y-%m-%d %H:%M} ({self.status})"


class ShardStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class EngineShard(models.Model):
    """A part of a run: one company's clients from `first_client` to `last_client` (ids,
    both included) that had something due when the run began. A shard runs every task in
    order for its clients; shards are independent, so any worker may claim any of them.
    A running shard whose heartbeat goes stale (its worker died) is claimed again."""

    run = models.ForeignKey(EngineRun, on_delete=models.CASCADE, related_name="shards")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    first_client = models.BigIntegerField()
    last_client = models.BigIntegerField()
    clients = models.PositiveIntegerField()  # with something due, when planned
    status = models.CharField(max_length=8, choices=ShardStatus.choices, default=ShardStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=128, blank=True, default="")  # host:pid
    report = models.JSONField(default=dict, blank=True)  # per task: counts, a sample
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="one_shard_per_position")
        ]
        indexes = [
            models.Index(
                fields=["run", "position"],
                condition=models.Q(status__in=["queued", "running"]),
                name="shard_to_claim",
            )
        ]

    def __str__(self) -> str:
        return f"Shard {self.position} of run {self.run_id} ({self.status})"
