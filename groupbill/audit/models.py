import json

from django.db import models


class AuditEntry(models.Model):
    """Who changed what, when: settings at every level, company and group fields, money
    (later). `old`/`new` hold {"value": v}, or SQL NULL where nothing was set (inherit)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=128)
    company = models.ForeignKey(
        "companies.Company", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    level = models.CharField(max_length=32)  # company | group | client | contact | api_key
    object_id = models.BigIntegerField(null=True)
    object_label = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=64)  # e.g. setting.set, setting.unset, group.delete
    key = models.CharField(max_length=64, blank=True, default="")
    old = models.JSONField(null=True)
    new = models.JSONField(null=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["company", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_label} {self.key}"

    def _display(self, side: dict | None) -> str:
        if side is None:
            return "(inherit)" if self.action.startswith("setting.") else "—"
        return json.dumps(side["value"], default=str)

    @property
    def old_display(self) -> str:
        return self._display(self.old)

    @property
    def new_display(self) -> str:
        return self._display(self.new)
