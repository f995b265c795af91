"""Settings export and import: a company's explicit values and its groups' overrides as one
versioned JSON document, and an import of such a document (or of Blesta's settings, in
Blesta's spellings and value forms, or of WHMCS's: tblconfiguration's names for the company,
the group flags for a group) planned key by key before anything is written.

The document:

    {"format": "groupbill-settings", "version": 1,
     "company": {key: value, ...},                    # the company's explicit values
     "groups": {"Resellers": {key: value, ...}, ...}}  # each group's overrides, by name

Keys and groups are sorted, so the same settings always give the same document. An
explicit value equal to what its level inherits (a group's copy of the company's value) is
left out: it changes nothing today, and an import would not write it either, so a round
trip gives the identical document.

An import treats every level the document names as a whole: the level ends up with the
document's effective values, and a key it holds now that the document does not name
inherits again (unless the value it holds is what it would inherit anyway: then it is
kept). Levels the document does not name (the company when "company" is absent, a group
that is not listed) are left as they are. A value is written only where it differs from
what the level would inherit once the import is done (the built-in default for the
company, the company's new value for a group): copying a whole snapshot would freeze every
key. An explicit value the level holds already is kept. Groups are matched by name, case
aside; a group the company does not have is created (with the default colour).

Unknown keys are reported and ignored; a value the catalogue refuses is reported with its
key and reason, and an import holding one writes nothing. The cross-key rules are checked
on the state the whole import leaves, in the plan already (a trial write, rolled back)."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from django.db import transaction

from groupbill.clients.actions import GROUP_CLEANERS, create_group
from groupbill.clients.models import ClientGroup
from groupbill.companies.models import Company
from groupbill.errors import Conflict, FieldError, ValidationFailed
from groupbill.settings_catalog import actions, blesta, whmcs
from groupbill.settings_catalog.catalog import BY_LEGACY_KEY, CATALOG, DEFAULTS
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.types import InvalidValue

FORMAT = "groupbill-settings"
VERSION = 1
DIALECTS = ("groupbill", "blesta", "whmcs")
# Each group a document names costs a creation or a comparison: a bound keeps one request
# from creating groups by the tens of thousands.
MAX_GROUPS = 500
Dialect = Literal["groupbill", "blesta", "whmcs"]
Action = Literal["set", "unset", "unchanged"]


# --- Export ----------------------------------------------------------------------------


def _explicit_values(company: Company) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The company's explicit values and each group's, by group id (one query). Rows of
    keys the catalogue no longer knows are inert (the resolver ignores them) and left out."""
    own: dict[str, Any] = {}
    by_group: dict[int, dict[str, Any]] = {}
    rows = SettingValue.objects.filter(company=company, client__isnull=True).values_list(
        "group_id", "key", "value"
    )
    for group_id, key, value in rows:
        if key in CATALOG:
            (own if group_id is None else by_group.setdefault(group_id, {}))[key] = value
    return own, by_group


def _name_order(name: str) -> tuple[str, str]:
    return (name.casefold(), name)


def export(company: Company) -> dict[str, Any]:
    """The versioned document of `company`'s settings: its explicit values and every
    group's overrides (a group without any appears with none), each only where it differs
    from what its level inherits; keys and groups sorted."""
    own, by_group = _explicit_values(company)
    groups = sorted(
        ClientGroup.objects.filter(company=company).values_list("pk", "name"),
        key=lambda g: _name_order(g[1]),
    )
    company_values = _layer(DEFAULTS, own)
    return {
        "format": FORMAT,
        "version": VERSION,
        "company": _differing(own, DEFAULTS),
        "groups": {name: _differing(by_group.get(pk, {}), company_values) for pk, name in groups},
    }


def _differing(explicit: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    return {k: explicit[k] for k in sorted(explicit) if explicit[k] != inherited[k]}


# --- The plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One key at one level: its effective value now and after the import, and what the
    import writes at that level."""

    key: str
    current: Any
    new: Any
    action: Action
    note: str = ""


@dataclass(frozen=True)
class LevelPlan:
    group: str | None  # None: the company
    creates_group: bool
    changes: tuple[Change, ...]

    @property
    def label(self) -> str:
        return "company" if self.group is None else f'group "{self.group}"'

    def writes(self) -> dict[str, Any]:
        """What the settings action is given: values to set, UNSET to inherit again."""
        return {
            c.key: (actions.UNSET if c.action == "unset" else c.new)
            for c in self.changes
            if c.action != "unchanged"
        }


@dataclass(frozen=True)
class Problem:
    """An unknown key, a refused value or a note, where it was met in the document."""

    field: str  # its place in the document: "company.notice1", "groups.Resellers.autodebit"
    key: str
    message: str
    value: Any = None


@dataclass(frozen=True)
class ImportPlan:
    company_id: int
    dialect: Dialect
    levels: tuple[LevelPlan, ...]
    unknown: tuple[Problem, ...] = ()
    refused: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()
    untouched_groups: tuple[str, ...] = ()
    document: Any = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.refused

    def count(self, action: Action) -> int:
        return sum(c.action == action for level in self.levels for c in level.changes)

    def summary(self) -> dict[str, int]:
        return {
            "set": self.count("set"),
            "unset": self.count("unset"),
            "unchanged": self.count("unchanged"),
            "groups_created": sum(level.creates_group for level in self.levels),
            "unknown": len(self.unknown),
            "refused": len(self.refused),
        }

    def errors(self) -> list[FieldError]:
        return [FieldError(p.field, p.message) for p in self.refused]

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON, for the API and `settings-import --json`."""

        def problems(items: tuple[Problem, ...]) -> list[dict[str, Any]]:
            return [asdict(p) for p in items]

        return {
            "dialect": self.dialect,
            "levels": [
                {
                    "level": "company" if level.group is None else "group",
                    "group": level.group,
                    "creates_group": level.creates_group,
                    "changes": [asdict(c) for c in level.changes],
                }
                for level in self.levels
            ],
            "untouched_groups": list(self.untouched_groups),
            "unknown": problems(self.unknown),
            "refused": problems(self.refused),
            "notes": problems(self.notes),
            "summary": self.summary(),
        }


@dataclass
class _Reading:
    """What was read from the document, with what was met on the way."""

    company: dict[str, Any] | None = None
    company_refused: set[str] = field(default_factory=set)
    # name, values, keys whose value was refused
    groups: list[tuple[str, dict[str, Any], set[str]]] = field(default_factory=list)
    unknown: list[Problem] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def _object(value: Any, place: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed.one(place, "must be an object of setting names and values")
    return value


_ABSENT = object()


def _envelope(document: Any, dialect: str) -> tuple[Any, Any]:
    """The document's company (_ABSENT: not named) and groups members; refuses what
    cannot be read at all."""
    if dialect not in DIALECTS:
        raise ValidationFailed.one("dialect", f"must be one of {', '.join(DIALECTS)}")
    if not isinstance(document, dict):
        raise ValidationFailed.one("document", "must be an object")
    errors = []
    if dialect == "groupbill":
        if document.get("format") != FORMAT:
            errors.append(FieldError("format", f'must be "{FORMAT}" (a Groupbill settings export)'))
        elif document.get("version") != VERSION:
            errors.append(
                FieldError("version", f"must be {VERSION}; this Groupbill reads no other")
            )
    elif document.get("format") == FORMAT:
        errors.append(FieldError("format", "this is a Groupbill export: import it as groupbill"))
    extra = sorted(set(document) - {"format", "version", "company", "groups"})
    if extra:
        errors.append(FieldError(extra[0], "unknown member; a document holds company and groups"))
    if errors:
        raise ValidationFailed(errors)
    return document.get("company", _ABSENT), document.get("groups", {})


def _unknown_reason(key: str, dialect: str) -> str:
    if dialect == "groupbill" and key in BY_LEGACY_KEY and key not in CATALOG:
        return f'Blesta\'s name for "{BY_LEGACY_KEY[key].key}": import this document as blesta'
    if dialect == "blesta" and key in CATALOG and key not in BY_LEGACY_KEY:
        return f"Groupbill's name (Blesta's is \"{CATALOG[key].legacy_key}\"): ignored"
    return "not a setting Groupbill knows: ignored"


def _read_level(
    raw: dict[str, Any], place: str, dialect: str, out: _Reading
) -> tuple[dict[str, Any], set[str]]:
    """One level's values, cleaned by the catalogue, by Groupbill key, and the keys whose
    value was refused."""
    if dialect == "whmcs":  # names that do not map one to one: read as a whole level
        reading = whmcs.read_level(raw, group=place != "company")
        for name, key, message, value in reading.refused:
            out.refused.append(Problem(f"{place}.{name}", key, message, value))
        for name, why, value in reading.unknown:
            out.unknown.append(Problem(f"{place}.{name}", name, why, value))
        for name, key, message, value in reading.notes:
            out.notes.append(Problem(f"{place}.{name}", key, message, value))
        return reading.values, {key for _, key, _, _ in reading.refused}
    by_name = CATALOG if dialect == "groupbill" else BY_LEGACY_KEY
    values: dict[str, Any] = {}
    refused: set[str] = set()
    for name in sorted(raw):
        value = raw[name]
        setting = by_name.get(name)
        here = f"{place}.{name}"
        if setting is None:
            out.unknown.append(Problem(here, name, _unknown_reason(name, dialect), value))
            continue
        try:
            if dialect == "blesta":
                cleaned, notes = blesta.parse(setting, value)
            else:
                cleaned, notes = setting.clean(value), []
        except InvalidValue as exc:
            out.refused.append(Problem(here, setting.key, str(exc), value))
            refused.add(setting.key)
            continue
        out.notes += [Problem(here, setting.key, note, value) for note in notes]
        values[setting.key] = cleaned
    return values, refused


def _read(document: Any, dialect: str) -> _Reading:
    company, groups = _envelope(document, dialect)
    out = _Reading()
    if company is not _ABSENT:
        out.company, out.company_refused = _read_level(
            _object(company, "company"), "company", dialect, out
        )
    groups = _object(groups, "groups")
    if len(groups) > MAX_GROUPS:
        raise ValidationFailed.one("groups", f"must name at most {MAX_GROUPS} groups")
    seen: dict[str, str] = {}
    for raw_name, raw_values in groups.items():
        place = f"groups.{raw_name}"
        try:
            name = GROUP_CLEANERS["name"](raw_name)
        except ValueError as exc:
            out.refused.append(Problem(place, "", f"group name {exc}", raw_name))
            continue
        if name.casefold() in seen:
            out.refused.append(
                Problem(place, "", f'names the same group as "{seen[name.casefold()]}"', raw_name)
            )
            continue
        seen[name.casefold()] = raw_name
        out.groups.append((name, *_read_level(_object(raw_values, place), place, dialect, out)))
    out.groups.sort(key=lambda g: _name_order(g[0]))
    return out


def _layer(base: dict[str, Any], explicit: dict[str, Any]) -> dict[str, Any]:
    return {**base, **explicit}


def _level_changes(
    wanted: dict[str, Any],
    explicit: dict[str, Any],
    current: dict[str, Any],
    inherited: dict[str, Any],
    skip: Iterable[str],
) -> tuple[tuple[Change, ...], dict[str, Any]]:
    """What one level becomes: its changes and its explicit values after the import.
    `current`: its effective values now; `inherited`: what it inherits after the import."""
    skip = set(skip)
    changes = []
    final: dict[str, Any] = {}
    for key in sorted((wanted.keys() | explicit.keys()) - skip):
        if key not in wanted and explicit[key] == inherited[key]:
            action, note = "unchanged", "not in the document; already what it inherits: kept"
            final[key] = explicit[key]
        elif key not in wanted:
            action, note = "unset", "not in the document: inherits"
        elif key in explicit and explicit[key] == wanted[key]:
            action, note = "unchanged", "already set here"
            final[key] = wanted[key]
        elif wanted[key] == inherited[key]:
            action = "unset" if key in explicit else "unchanged"
            note = "same as inherited: not written"
        else:
            action, note = "set", ""
            final[key] = wanted[key]
        new = final.get(key, inherited[key])
        changes.append(Change(key, current[key], new, action, note))
    # Refused keys stay as they are (nothing is written anyway).
    final.update({k: explicit[k] for k in skip if k in explicit})
    return tuple(changes), final


def _plan(company: Company, document: Any, dialect: str) -> ImportPlan:
    reading = _read(document, dialect)
    own, by_group = _explicit_values(company)
    groups = list(ClientGroup.objects.filter(company=company).values_list("pk", "name"))
    existing = {name.casefold(): pk for pk, name in groups}
    company_now = _layer(DEFAULTS, own)
    levels = []
    if reading.company is None:
        company_after = company_now
    else:
        changes, final = _level_changes(
            reading.company, own, company_now, DEFAULTS, reading.company_refused
        )
        levels.append(LevelPlan(None, False, changes))
        company_after = _layer(DEFAULTS, final)
    named = set()
    for name, wanted, refused in reading.groups:
        pk = existing.get(name.casefold())
        named.add(pk)
        explicit = by_group.get(pk, {}) if pk is not None else {}
        current = _layer(company_now, explicit)
        changes, _ = _level_changes(wanted, explicit, current, company_after, refused)
        levels.append(LevelPlan(name, pk is None, changes))
    untouched = sorted((n for pk, n in groups if pk not in named), key=_name_order)
    return ImportPlan(
        company_id=company.pk,
        dialect=dialect,  # type: ignore[arg-type]
        levels=tuple(levels),
        unknown=tuple(reading.unknown),
        refused=tuple(reading.refused),
        notes=tuple(reading.notes),
        untouched_groups=tuple(untouched),
        document=document,
    )


# --- Writing ---------------------------------------------------------------------------


class _TrialDone(Exception):
    """Ends a trial write so its transaction rolls back."""


def _write(company: Company, plan: ImportPlan, actor: str) -> None:
    groups = {g.name.casefold(): g for g in ClientGroup.objects.filter(company=company)}
    company_changes = None
    group_changes = []
    for level in plan.levels:
        if level.group is None:
            company_changes = level.writes()
            continue
        group = groups.get(level.group.casefold())
        if group is None:
            group = create_group(company, {"name": level.group}, actor=actor)
        group_changes.append((group, level.writes()))
    actions.set_settings_by_level(company, company_changes, group_changes, actor=actor)


def _trial(company: Company, plan: ImportPlan) -> list[Problem]:
    """What the settings actions refuse of the plan (the cross-key rules, on the state the
    whole import leaves), found by writing it and rolling it back."""
    try:
        with transaction.atomic():
            _write(company, plan, actor="settings import (dry run)")
            raise _TrialDone
    except _TrialDone:
        return []
    except ValidationFailed as exc:
        return [Problem(e.field, e.field, e.message) for e in exc.errors]


def plan_import(company: Company, document: Any, *, dialect: str = "groupbill") -> ImportPlan:
    """What importing `document` into `company` would do, per level and key; writes
    nothing. Refuses (ValidationFailed) only a document that cannot be read at all; a
    refused value is in `plan.refused`."""
    plan = _plan(company, document, dialect)
    if plan.ok:
        problems = _trial(company, plan)
        if problems:
            plan = replace(plan, refused=tuple(problems))
    return plan


def apply_import(company: Company, plan: ImportPlan, *, actor: str) -> ImportPlan:
    """Write `plan` through the settings actions (validated, rule-checked, audited), all or
    nothing. Refused values refuse it all (422); settings changed since the plan was made
    are a 409 (make a new plan)."""
    if plan.company_id != company.pk:
        raise ValueError("the plan was made for another company")
    if not plan.ok:
        raise ValidationFailed(plan.errors(), "Nothing was imported: " + "; ".join(
            f"{p.field}: {p.message}" for p in plan.refused))  # fmt: skip
    with transaction.atomic():
        Company.objects.select_for_update().filter(pk=company.pk).first()
        fresh = _plan(company, plan.document, plan.dialect)
        if fresh.levels != plan.levels or not fresh.ok:
            raise Conflict("The settings changed since this import was planned; plan it again.")
        _write(company, fresh, actor)
    return plan
