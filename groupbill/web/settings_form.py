"""The settings editor, generated from the catalogue: one row per key showing the
effective value, where it comes from, and an "inherit" toggle. Used for the company,
group and client pages alike."""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from groupbill.errors import FieldError
from groupbill.settings_catalog.actions import UNSET
from groupbill.settings_catalog.catalog import Section, Setting, Source, by_section
from groupbill.settings_catalog.resolver import Resolved
from groupbill.settings_catalog.types import Bool, Choice, ChoiceSet, Int, InvalidValue


@dataclass
class Row:
    setting: Setting
    effective: Any
    source: str
    parent_value: Any
    explicit: bool  # does this level hold its own value (the inherit box unticked)?
    shown: Any  # the value in the input: posted value after an error, else effective
    error: str = ""
    # The level the inherited value is set at: "Inherit default value" when none sets it.
    parent_source: str = ""

    @property
    def key(self) -> str:
        return self.setting.key

    @property
    def kind(self) -> str:
        return self.setting.type.kind

    @property
    def parent_display(self) -> str:
        return self.setting.type.display(self.parent_value)

    @property
    def effective_display(self) -> str:
        return self.setting.type.display(self.effective)

    @property
    def choices(self) -> list[tuple[str, bool]]:
        t = self.setting.type
        if isinstance(t, ChoiceSet):
            shown = self.shown if isinstance(self.shown, list) else []
            return [(c, c in shown) for c in t.choices]
        if isinstance(t, Choice):
            return [(c, c == self.shown) for c in t.choices]
        return []

    @property
    def always(self) -> tuple[str, ...]:
        t = self.setting.type
        return t.always if isinstance(t, ChoiceSet) else ()

    @property
    def number(self) -> Any:
        return (
            self.shown if isinstance(self.shown, int) and not isinstance(self.shown, bool) else ""
        )

    @property
    def word(self) -> str | None:
        t = self.setting.type
        return t.word if isinstance(t, Int) else None

    @property
    def word_on(self) -> bool:
        return self.word is not None and self.shown == self.word

    @property
    def nullable(self) -> bool:
        t = self.setting.type
        return isinstance(t, Int) and t.nullable

    @property
    def null_on(self) -> bool:
        return self.nullable and self.shown is None

    @property
    def bounds(self) -> tuple[int, int] | None:
        t = self.setting.type
        return (t.min, t.max) if isinstance(t, Int) else None

    @property
    def unit(self) -> str:
        t = self.setting.type
        return t.unit if isinstance(t, Int) else ""


@dataclass
class SectionRows:
    section: Section
    rows: list[Row] = field(default_factory=list)


def build_rows(
    here: Resolved,
    parent: Resolved,
    level: Source,
    keys: set[str] | None = None,
    posted: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
) -> list[SectionRows]:
    """Rows per section for the editor at `level`; `posted` and `errors` re-show a refused
    submission as the user typed it."""
    messages = {e.field: e.message for e in errors or []}
    out = []
    for section, settings in by_section():
        section_rows = SectionRows(section)
        for s in settings:
            if keys is not None and s.key not in keys:
                continue
            e = here[s.key]
            explicit = e.source == level
            shown = e.value
            if posted is not None and s.key in posted:
                explicit = posted[s.key] is not UNSET
                if explicit:
                    shown = posted[s.key]
            section_rows.rows.append(
                Row(
                    s,
                    e.value,
                    e.source.value,
                    parent[s.key].value,
                    explicit,
                    shown,
                    messages.get(s.key, ""),
                    parent[s.key].source.value,
                )
            )
        if section_rows.rows:
            out.append(section_rows)
    return out


def _parse_one(setting: Setting, data: QueryDict) -> Any:
    name = f"v_{setting.key}"
    t = setting.type
    if isinstance(t, Bool):
        raw = data.get(name)
        if raw not in {"true", "false"}:
            raise InvalidValue("choose Yes or No")
        return raw == "true"
    if isinstance(t, Int):
        if t.word is not None and data.get(f"w_{setting.key}"):
            return t.word
        if t.nullable and data.get(f"n_{setting.key}"):
            return None
        raw = (data.get(name) or "").strip()
        try:
            return int(raw)
        except ValueError:
            raise InvalidValue(f"must be {t.describe()}") from None
    if isinstance(t, ChoiceSet):
        return data.getlist(name)
    return data.get(name, "")


def parse(data: QueryDict, keys: list[str] | set[str], settings: dict[str, Setting]):
    """Form data -> ({key: value or UNSET}, [FieldError]) for the keys on the page.
    Types are parsed here; bounds and rules are the catalogue's job in the action."""
    changes: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key in keys:
        setting = settings[key]
        if data.get(f"inherit_{key}"):
            changes[key] = UNSET
            continue
        try:
            changes[key] = _parse_one(setting, data)
        except InvalidValue as exc:
            errors.append(FieldError(key, str(exc)))
            changes[key] = data.get(f"v_{key}", "")
    return changes, errors
