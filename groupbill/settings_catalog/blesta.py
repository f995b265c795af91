"""Blesta's value forms for the settings import (../shared/IMPORT.md): every value is text.
Booleans are "true"/"false", numbers are digits ("-1": the day before), a notice that is
off is "disabled", lists are base64 of a PHP-serialized array (base64 of JSON since 5.11).

`parse` turns one such value into the catalogue's value, cleaned by the catalogue; what
it refuses is said in Blesta's terms. Values a converter already typed (`5`, `true`, an
array) are taken as they are and cleaned strictly."""

import base64
import binascii
import json
import re
from typing import Any

import phpserialize

from groupbill.settings_catalog.catalog import Setting
from groupbill.settings_catalog.types import Bool, Choice, ChoiceSet, Int, InvalidValue

# Blesta's word for a notice that is not sent; Groupbill's value is null.
DISABLED = "disabled"
# Members Blesta offers that Groupbill does not: dropped with a note, not refused.
_BLESTA_ONLY_MEMBERS = {"delivery_methods": ("interfax", "postalmethods")}
_NUMBER = re.compile(r"[+-]?[0-9]{1,9}")


def describe(setting: Setting) -> str:
    """What Blesta's value for `setting` may be, in Blesta's forms."""
    kind = setting.type
    if isinstance(kind, Bool):
        return '"true" or "false"'
    if isinstance(kind, Int):
        text = f"a whole number from {kind.min} to {kind.max}"
        if kind.word is not None:
            text += f', or "{kind.word}"'
        if kind.nullable:
            text += f', or "{DISABLED}"'
        return text
    if isinstance(kind, Choice):
        return kind.describe()
    return f"a list of any of {', '.join(kind.choices)} (base64 of a PHP-serialized or JSON array)"


def _number(kind: Int, text: str) -> Any:
    if kind.word is not None and text == kind.word:
        return text
    if kind.nullable and text == DISABLED:
        return None
    if _NUMBER.fullmatch(text):
        return int(text)
    raise InvalidValue


def _members(text: str) -> list[Any]:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValue from None
    try:
        if raw.startswith(b"a:"):
            decoded = phpserialize.loads(raw, decode_strings=True)
        else:
            decoded = json.loads(raw)
    except Exception:  # phpserialize raises ValueError, but also others on broken input
        raise InvalidValue from None
    if isinstance(decoded, dict):  # a PHP array: a dict by index (the order does not matter)
        decoded = list(decoded.values())
    if not isinstance(decoded, list):
        raise InvalidValue
    return decoded


def _from_text(setting: Setting, text: str) -> Any:
    kind = setting.type
    if isinstance(kind, Bool):
        if text not in ("true", "false"):
            raise InvalidValue
        return text == "true"
    if isinstance(kind, Int):
        return _number(kind, text)
    if isinstance(kind, ChoiceSet):
        return _members(text)
    return text


def parse(setting: Setting, raw: Any) -> tuple[Any, list[str]]:
    """The cleaned value and notes on what was changed on the way (dropped members).
    Raises InvalidValue with a message for the user."""
    try:
        value = _from_text(setting, raw) if isinstance(raw, str) else raw
    except InvalidValue:
        raise InvalidValue(f"must be {describe(setting)}") from None
    notes = []
    dropped = _BLESTA_ONLY_MEMBERS.get(setting.key, ())
    if isinstance(value, list) and dropped:
        gone = sorted({m for m in value if m in dropped})
        if gone:
            notes.append(
                f"{', '.join(gone)}: not offered by Groupbill, dropped (email is always offered)"
            )
            value = [m for m in value if m not in dropped]
    try:
        return setting.clean(value), notes
    except InvalidValue as exc:
        if isinstance(setting.type, ChoiceSet | Choice):
            raise
        raise InvalidValue(f"must be {describe(setting)}") from exc
