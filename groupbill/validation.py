"""Small field cleaners shared by actions. Each raises ValueError with a message fit for
the person who typed the value; `collect` turns several into one ValidationFailed."""

from collections.abc import Callable
from datetime import date
from typing import Any

from groupbill.errors import FieldError, ValidationFailed


def text(value: Any, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    if required and not value:
        raise ValueError("is required")
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def choice(value: Any, choices: list[str] | tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError("must be one of: " + ", ".join(choices))
    return value


def optional_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("must be a date as YYYY-MM-DD, or empty")


def collect(
    data: dict[str, Any], cleaners: dict[str, Callable[[Any], Any]]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean the fields of `data` that have a cleaner; unknown fields are errors."""
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field, value in data.items():
        cleaner = cleaners.get(field)
        if cleaner is None:
            errors.append(FieldError(field, "unknown field"))
            continue
        try:
            cleaned[field] = cleaner(value)
        except ValueError as exc:
            errors.append(FieldError(field, str(exc)))
    return cleaned, errors


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)
