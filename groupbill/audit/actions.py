from typing import Any

from groupbill.audit.models import AuditEntry

_UNSET = object()


def wrap(value: Any = _UNSET) -> dict | None:
    """{"value": v} for a value that is set, None for "nothing set"."""
    return None if value is _UNSET else {"value": value}


def record(
    *,
    actor: str,
    company_id: int | None,
    level: str,
    object_id: int | None,
    object_label: str,
    action: str,
    key: str = "",
    old: dict | None = None,
    new: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        company_id=company_id,
        level=level,
        object_id=object_id,
        object_label=object_label[:200],
        action=action,
        key=key,
        old=old,
        new=new,
    )


def record_changes(
    *,
    actor: str,
    company_id: int | None,
    level: str,
    object_id: int | None,
    object_label: str,
    action: str,
    old: dict[str, Any],
    new: dict[str, Any],
) -> None:
    """One entry per field whose value changed between `old` and `new`."""
    for field, value in new.items():
        if old.get(field) != value:
            record(
                actor=actor,
                company_id=company_id,
                level=level,
                object_id=object_id,
                object_label=object_label,
                action=action,
                key=field,
                old=wrap(old.get(field)),
                new=wrap(value),
            )
