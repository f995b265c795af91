import json
from typing import Any

from babel.numbers import format_currency
from django.db import models

from groupbill.currencies import MINOR_UNITS
from groupbill.money import to_decimal

# Keys of an audited value that hold minor units when the value names its currency.
MONEY_KEYS = frozenset(
    {
        *("total", "subtotal", "tax", "amount", "balance_due", "price", "setup_fee"),
        *("credit_amount", "unit_amount", "refunded", "applied"),
    }
)


def _readable(value: Any) -> Any:
    """{"total": 9900, "currency": "EUR"} reads {"total": "€99.00"}: amounts formatted in
    the currency the value carries (which then need not be repeated)."""
    if not isinstance(value, dict) or value.get("currency") not in MINOR_UNITS:
        return value
    currency = value["currency"]
    amounts = {k for k, v in value.items() if k in MONEY_KEYS and isinstance(v, int)}
    return {
        k: format_currency(to_decimal(v, currency), currency, locale="en_US") if k in amounts else v
        for k, v in value.items()
        if not (k == "currency" and amounts)
    }


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
        # Keys sorted: PostgreSQL's jsonb keeps them in its own order, SQLite in the written one.
        return json.dumps(_readable(side["value"]), default=str, ensure_ascii=False,
                          sort_keys=True)  # fmt: skip

    @property
    def old_display(self) -> str:
        return self._display(self.old)

    @property
    def new_display(self) -> str:
        return self._display(self.new)
