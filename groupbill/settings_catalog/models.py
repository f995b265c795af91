from django.db import models
from django.db.models import Q


class SettingValue(models.Model):
    """One explicit value of one key at one level. The level is the most specific owner
    set: client, else group, else company. A missing row means "inherit"."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE)
    group = models.ForeignKey("clients.ClientGroup", on_delete=models.CASCADE, null=True)
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, null=True)
    key = models.CharField(max_length=64)
    # JSON null is a real value (e.g. a notice switched off), distinct from "no row".
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "key"],
                condition=Q(group__isnull=True, client__isnull=True),
                name="setting_unique_company_level",
            ),
            models.UniqueConstraint(
                fields=["group", "key"],
                condition=Q(group__isnull=False),
                name="setting_unique_group_level",
            ),
            models.UniqueConstraint(
                fields=["client", "key"],
                condition=Q(client__isnull=False),
                name="setting_unique_client_level",
            ),
            models.CheckConstraint(
                condition=Q(group__isnull=True) | Q(client__isnull=True),
                name="setting_one_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value!r}"
