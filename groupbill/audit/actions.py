"""The one path every audited change takes: `record(subject=..., ...)`. The subject says
what changed (its level, company, id and label), from the object itself
(`audit_subject()`) or, for what is not one row (a setting at some level, a batch of
invoices), from an explicit `Subject`."""

from dataclasses import dataclass
from typing import Any, Protocol

from groupbill.audit.models import AuditEntry

_UNSET = object()


@dataclass(frozen=True)
class Subject:
    level: str  # company | group | client | invoice | transaction | service | ...
    company_id: int | None
    object_id: int | None
    label: str

    def audit_subject(self) -> "Subject":
        return self


class Audited(Protocol):
    def audit_subject(self) -> Subject: ...


def wrap(value: Any = _UNSET) -> dict | None:
    """{"value": v} for a value that is set, None for "nothing set"."""
    return None if value is _UNSET else {"value": value}


def record(
    *,
    subject: Audited,
    actor: str,
    action: str,
    key: str = "",
    old: dict | None = None,
    new: dict | None = None,
) -> AuditEntry:
    about = subject.audit_subject()
    return AuditEntry.objects.create(
        actor=actor,
        company_id=about.company_id,
        level=about.level,
        object_id=about.object_id,
        object_label=about.label[:200],
        action=action,
        key=key[:64],
        old=old,
        new=new,
    )


def record_changes(
    *, subject: Audited, actor: str, action: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    """One entry per field whose value changed between `old` and `new`."""
    for field, value in new.items():
        if old.get(field) != value:
            record(
                subject=subject,
                actor=actor,
                action=action,
                key=field,
                old=wrap(old.get(field)),
                new=wrap(value),
            )
