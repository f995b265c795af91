"""Small field cleaners shared by actions. Each raises ValueError with a message fit for
the person who typed the value; `collect` turns several into one ValidationFailed."""

from collections.abc import Callable
from datetime import date
from typing import Any

from groupbill.errors import FieldError, ValidationFailed

# Database ids are signed 64-bit; anything larger cannot name a row (and SQLite refuses it).
MAX_ID = 2**63 - 1


def parse_id(value: Any) -> int | None:
    """An id from a query string or form, or None when it cannot be one."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


def text(value: Any, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: valid in JSON, storable nowhere
        raise ValueError("must be valid text (it holds a lone surrogate character)") from None
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
