"""What a task plans: actions, each with its natural idempotency key and a function that
applies it in its own transaction, answering whether it did anything: False when it was
already done (by an earlier or a concurrent run), True or a dict of what it did (invoice
number, amount...) when it acted."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Failed:
    """An action that did its bookkeeping (committed) but did not achieve its effect, e.g. a
    module that refused a renewal: counted as failed, its writes kept."""

    message: str


@dataclass
class Action:
    key: str
    summary: str
    apply: Callable[[], "bool | dict[str, Any] | Failed"]
    client_id: int | None = None
    amount: int | None = None
    currency: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # What a task's set-based `apply_batch` needs of the action (not reported).
    payload: Any = None
    # False for actions that make external calls (a gateway charge, a module call): the
    # attempt is committed before the call, and the call made outside any transaction.
    atomic: bool = True

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "summary": self.summary}
        if self.client_id is not None:
            out["client_id"] = self.client_id
        if self.amount is not None:
            out["amount"] = self.amount
        if self.amount is not None or self.currency:
            # Also when the amount is only known once applied (an invoice's total).
            out["currency"] = self.currency
        return out | self.detail
