from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Done with failures"
    ERROR = "error", "Stopped by an error"


class EngineRun(models.Model):
    """One engine run: who started it, for which moment, and what each task did."""

    as_of = models.DateTimeField()
    dry_run = models.BooleanField(default=False)
    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    task = models.CharField(max_length=32, blank=True, default="")  # only this task
    actor = models.CharField(max_length=128)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
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


class EngineLock(models.Model):
    """The engine's lease: one row per lock name, held by a run until it finishes or its
    heartbeat goes stale (a killed run)."""

    name = models.CharField(max_length=64, primary_key=True)
    run = models.ForeignKey(EngineRun, on_delete=models.SET_NULL, null=True, related_name="+")
    acquired_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    # "host:pid" of the process holding it: on the same host, a holder that died (killed)
    # is seen at once instead of after its heartbeat goes stale.
    holder = models.CharField(max_length=128, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.name} held by run {self.run_id}"
