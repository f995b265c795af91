"""Which contact fields a client group requires. The answer is a setting
(`required_contact_fields`), and the settings catalogue sits above clients, so it tells
clients how to read it at start-up (settings_catalog.apps) instead of clients importing it."""

from collections.abc import Callable

_read: Callable[[int], list[str]] | None = None


def read_with(reader: Callable[[int], list[str]]) -> None:
    global _read
    _read = reader


def of_group(group_id: int) -> list[str]:
    if _read is None:
        raise RuntimeError("the settings catalogue has not registered required_contact_fields")
    return _read(group_id)
