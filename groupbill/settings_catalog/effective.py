"""The one way to read a setting's effective value: for a client (`ClientSettings`), or
for a group where only group-level keys may be read (`GroupSettings`). A client-level key
read without the client is refused, instead of silently answering with the group's value."""

from collections.abc import Mapping
from typing import Any

from groupbill.settings_catalog.catalog import CLIENT_KEYS
from groupbill.settings_catalog.resolver import resolve_client, values


class ClientSettings:
    """A client's effective settings: its group's values, under its own for client keys."""

    __slots__ = ("_group", "_own")

    def __init__(self, group_values: Mapping[str, Any], own: Mapping[str, Any] | None = None):
        self._group = group_values
        self._own = own

    @classmethod
    def of(cls, client_id: int) -> "ClientSettings":
        """One client's, resolved on their own (two queries); batches use a CompanyView."""
        return cls(values(resolve_client(client_id)))

    def value(self, key: str) -> Any:
        own = self._own
        if own and key in own and key in CLIENT_KEYS:
            return own[key]
        return self._group[key]


class GroupSettings:
    """A group's effective settings, for what is decided per group (not per client)."""

    __slots__ = ("_values",)

    def __init__(self, group_values: Mapping[str, Any]):
        self._values = group_values

    def value(self, key: str) -> Any:
        if key in CLIENT_KEYS:
            raise LookupError(f"{key} may be set per client: read it with for_client(client_id)")
        return self._values[key]
