"""What a task did in a run: complete counts, and a bounded sample of its actions (so a
run over a million services keeps its report, and its memory, small)."""

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from groupbill.automation.plan import Action

MAX_ACTIONS_KEPT = 500  # per task and run; failures are kept first


@dataclass
class TaskReport:
    name: str
    planned: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    actions: list[dict[str, Any]] = field(default_factory=list)
    omitted: int = 0
    # Batches that failed as a whole and were applied action by action (a conflict with
    # another run, or a fault of the set-based path: slow, so shown).
    batches_one_by_one: int = 0

    def record(self, action: Action, outcome: str, result: Any = None, error: str = "") -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if self._no_room_for(outcome):
            self.omitted += 1  # described only if kept: most of a large run's are not
            return
        entry = action.describe() | {"outcome": outcome}
        if isinstance(result, dict):
            entry |= result
        if error:
            entry["error"] = error
        self._keep(entry)

    def _no_room_for(self, outcome: str) -> bool:
        """The sample is full, and this is no failure (a failure takes an applied one's
        place)."""
        return len(self.actions) >= MAX_ACTIONS_KEPT and outcome != "failed"

    def _keep(self, entry: dict[str, Any]) -> None:
        if self._no_room_for(entry["outcome"]):
            self.omitted += 1
        elif len(self.actions) < MAX_ACTIONS_KEPT:
            self.actions.append(entry)
        elif entry["outcome"] == "failed":
            # A failure says more than an applied action: it takes the place of one.
            for i in range(len(self.actions) - 1, -1, -1):
                if self.actions[i]["outcome"] != "failed":
                    self.actions[i] = entry
                    break
            self.omitted += 1

    @contextlib.contextmanager
    def timed(self):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started

    def merge(self, doc: dict[str, Any]) -> None:
        """Add a report of the same task (a shard's, as `as_json` wrote it)."""
        for name in ("planned", "applied", "skipped", "failed"):
            setattr(self, name, getattr(self, name) + doc[name])
        self.seconds += doc["seconds"]
        self.omitted += doc.get("actions_omitted", 0)
        self.batches_one_by_one += doc.get("batches_one_by_one", 0)
        for entry in doc["actions"]:
            self._keep(entry)

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        actions = self.actions if limit is None else self.actions[:limit]
        doc = {
            "name": self.name,
            "planned": self.planned,
            "applied": self.applied,
            "skipped": self.skipped,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "actions": actions,
        }
        omitted = self.omitted + len(self.actions) - len(actions)
        if omitted:
            doc["actions_omitted"] = omitted
        if self.batches_one_by_one:
            doc["batches_one_by_one"] = self.batches_one_by_one
        return doc
