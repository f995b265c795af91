"""Value types of settings. Each knows how to validate strict JSON, describe itself
to people (UI help, error messages) and to machines (JSON schema for the API)."""

from dataclasses import dataclass
from typing import Any


class InvalidValue(ValueError):
    """A value a setting's type refuses; the message is shown to the user as is."""


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python; settings use strict JSON types.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Bool:
    kind = "bool"

    def clean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise InvalidValue("must be true or false")
        return value

    def describe(self) -> str:
        return "true or false"

    def json_schema(self) -> dict:
        return {"type": "boolean"}

    def display(self, value: Any) -> str:
        return "Yes" if value else "No"


@dataclass(frozen=True)
class Int:
    """A bounded whole number, optionally also accepting one word (e.g. "never")
    or null (for keys where null means "off")."""

    min: int
    max: int
    word: str | None = None
    nullable: bool = False
    unit: str = ""  # plural ("days"); one is shown singular ("1 day")
    # Days relative to a date: -1 is shown "1 day before <relative_to>", 0 "on <relative_to>".
    relative_to: str = ""
    kind = "int"

    def clean(self, value: Any) -> int | str | None:
        if value is None and self.nullable:
            return None
        if self.word is not None and value == self.word:
            return value
        if _is_int(value) and self.min <= value <= self.max:
            return value
        raise InvalidValue(f"must be {self.describe()}")

    def describe(self) -> str:
        text = f"a whole number from {self.min} to {self.max}"
        if self.word is not None:
            text += f', or "{self.word}"'
        if self.nullable:
            text += ", or null (off)"
        return text

    def json_schema(self) -> dict:
        options: list[dict] = [{"type": "integer", "minimum": self.min, "maximum": self.max}]
        if self.word is not None:
            options.append({"type": "string", "enum": [self.word]})
        if self.nullable:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}

    def display(self, value: Any) -> str:
        if value is None:
            return "Off"
        if isinstance(value, str):
            return value.capitalize()
        if self.relative_to and value == 0:
            return f"On {self.relative_to}"
        count = abs(value) if self.relative_to else value
        unit = self.unit[:-1] if abs(count) == 1 and self.unit.endswith("s") else self.unit
        text = f"{count} {unit}".strip()
        if self.relative_to:
            text += f" {'before' if value < 0 else 'after'} {self.relative_to}"
        return text


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]
    kind = "choice"

    def clean(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise InvalidValue(f"must be {self.describe()}")
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(f'"{c}"' for c in self.choices)

    def json_schema(self) -> dict:
        return {"type": "string", "enum": list(self.choices)}

    def display(self, value: Any) -> str:
        return str(value)


@dataclass(frozen=True)
class ChoiceSet:
    """A set of names, stored as a sorted array without duplicates. `always` members
    are added when missing (delivery by email can never be switched off)."""

    choices: tuple[str, ...]
    always: tuple[str, ...] = ()
    kind = "set"

    def clean(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise InvalidValue(f"must be an array of {self._names()}")
        unknown = [v for v in value if not isinstance(v, str) or v not in self.choices]
        if unknown:
            shown = ", ".join(repr(v) if not isinstance(v, str) else f'"{v}"' for v in unknown)
            raise InvalidValue(f"unknown {shown}; allowed: {self._names()}")
        return sorted(set(value) | set(self.always))

    def _names(self) -> str:
        return ", ".join(self.choices)

    def describe(self) -> str:
        return f"an array of any of: {self._names()}"

    def json_schema(self) -> dict:
        return {
            "type": "array",
            "items": {"type": "string", "enum": list(self.choices)},
        }

    def display(self, value: Any) -> str:
        return ", ".join(value) if value else "None"


SettingType = Bool | Int | Choice | ChoiceSet
