"""Changing settings at a level: validate against the catalogue and the cross-key rules
(on the level changed and every level inheriting from it), write, audit. All or nothing."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import JSONField, Value

from groupbill.audit.actions import Subject, record, wrap
from groupbill.clients.actions import update_group
from groupbill.clients.models import Client, ClientGroup
from groupbill.companies.models import Company
from groupbill.errors import FieldError, NotFound, ValidationFailed
from groupbill.settings_catalog.catalog import CATALOG, CLIENT_KEYS, RULES, Setting, Source
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import (
    Resolved,
    defaults,
    layer,
    resolve_company,
    resolve_group,
    values,
)
from groupbill.settings_catalog.types import InvalidValue

UNSET = object()  # "delete the explicit value at this level": inherit again


def _db_value(value: Any) -> Any:
    """JSON null is a value (e.g. a notice switched off); Django would store a bare None
    as SQL NULL, which the NOT NULL column refuses."""
    return Value(None, JSONField()) if value is None else value


def get_setting(key: str) -> Setting:
    """The declaration of `key`; an unknown key is a 404 (it names no resource)."""
    try:
        return CATALOG[key]
    except KeyError:
        raise NotFound(f'Unknown setting "{key}".') from None


@dataclass(frozen=True)
class _Level:
    source: Source
    company: Company
    group: ClientGroup | None = None
    client: Client | None = None

    @property
    def owner_filter(self) -> dict:
        if self.client is not None:
            return {"client": self.client}
        if self.group is not None:
            return {"group": self.group}
        return {"company": self.company, "group__isnull": True, "client__isnull": True}

    @property
    def owner(self) -> Company | ClientGroup | Client:
        return self.client or self.group or self.company

    @property
    def label(self) -> str:
        if self.client is not None:
            return f"client #{self.client.pk}"
        if self.group is not None:
            return f'group "{self.group.name}"'
        return f'company "{self.company.name}"'


def _clean(level: _Level, changes: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        setting = CATALOG.get(key)
        if setting is None:
            errors.append(FieldError(key, "unknown setting"))
            continue
        if level.source == Source.CLIENT and key not in CLIENT_KEYS:
            errors.append(
                FieldError(key, "cannot be set per client; set it on the client's group instead")
            )
            continue
        if value is UNSET:
            cleaned[key] = UNSET
            continue
        try:
            cleaned[key] = setting.clean(value)
        except InvalidValue as exc:
            errors.append(FieldError(key, str(exc)))
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _proposed(current: dict[str, Any], cleaned: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for key, value in cleaned.items():
        if value is UNSET:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _parent_resolved(level: _Level) -> Resolved:
    if level.client is not None:
        return resolve_group(level.client.group_id)
    if level.group is not None:
        return resolve_company(level.company.pk)
    return defaults()


def _check_rules(level: _Level, current: dict[str, Any], proposed: dict[str, Any]) -> None:
    # Only what really changes is checked (and blamed): a form posts every key.
    changed = {
        k
        for k in current.keys() | proposed.keys()
        if current.get(k, UNSET) != proposed.get(k, UNSET)
    }
    rules = [r for r in RULES if changed & set(r.keys)]
    check_method = "invoice_method" in changed and "invoice_method" in proposed
    if not rules and not check_method:
        return
    here = layer(_parent_resolved(level), proposed, level.source)
    # Every scope whose effective values this change can alter: the level itself and, for
    # a company, each group of it. Rules hold no client key (asserted in the catalogue).
    scopes: list[tuple[str, Resolved]] = [(level.label, here)]
    if level.source == Source.COMPANY and rules:
        group_rows: dict[int, dict[str, Any]] = {}
        for gid, key, value in SettingValue.objects.filter(
            company=level.company, group__isnull=False
        ).values_list("group_id", "key", "value"):
            group_rows.setdefault(gid, {})[key] = value
        for group in ClientGroup.objects.filter(company=level.company):
            scopes.append(
                (f'group "{group.name}"', layer(here, group_rows.get(group.pk, {}), Source.GROUP))
            )
    errors: list[FieldError] = []
    for rule in rules:
        field = next(k for k in rule.keys if k in changed)
        for scope_label, resolved in scopes:
            problem = rule.check(values(resolved))
            if problem:
                errors.append(FieldError(field, f"in {scope_label}: {problem}"))
                break
    if check_method:
        method = here["invoice_method"].value
        offered = here["delivery_methods"].value
        if method not in offered:
            errors.append(
                FieldError(
                    "invoice_method",
                    f'"{method}" is not among the delivery methods offered to '
                    f"{level.label} ({', '.join(offered)})",
                )
            )
    if errors:
        raise ValidationFailed(errors)


def _write(
    level: _Level,
    rows: dict[str, SettingValue],
    current: dict[str, Any],
    cleaned: dict[str, Any],
    actor: str,
) -> None:
    for key, value in cleaned.items():
        old = wrap(current[key]) if key in current else None
        if value is UNSET:
            if key not in rows:
                continue
            rows[key].delete()
            action, new = "setting.unset", None
        elif key in rows:
            if rows[key].value == value:
                continue
            rows[key].value = _db_value(value)
            rows[key].save(update_fields=["value", "updated_at"])
            action, new = "setting.set", wrap(value)
        else:
            SettingValue.objects.create(
                company=level.company,
                group=level.group,
                client=level.client,
                key=key,
                value=_db_value(value),
            )
            action, new = "setting.set", wrap(value)
        record(
            subject=Subject(level.source.value, level.company.pk, level.owner.pk, level.label),
            actor=actor,
            action=action,
            key=key,
            old=old,
            new=new,
        )


def _change_levels(
    changes: Sequence[tuple[_Level, dict[str, Any]]],
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> None:
    """Several levels of one company in one transaction. The cross-key rules are checked
    on the state all of them leave, so one level's change may rely on another's (a company
    threshold raised together with the group override it would otherwise break)."""
    if unreadable:
        raise ValidationFailed(list(unreadable))
    cleaned: list[tuple[_Level, dict[str, Any]]] = []
    errors: list[FieldError] = []
    for level, level_changes in changes:
        try:
            cleaned.append((level, _clean(level, level_changes)))
        except ValidationFailed as exc:
            if len(changes) == 1:
                raise
            errors += [FieldError(e.field, f"in {level.label}: {e.message}") for e in exc.errors]
    if errors:
        raise ValidationFailed(errors)
    if not cleaned:
        return
    with transaction.atomic():
        # Serialise settings changes per company: cross-key rules read several levels.
        Company.objects.select_for_update().filter(pk=cleaned[0][0].company.pk).first()
        checks = []
        for level, level_cleaned in cleaned:
            rows = {r.key: r for r in SettingValue.objects.filter(**level.owner_filter)}
            current = {k: r.value for k, r in rows.items()}
            checks.append((level, current, _proposed(current, level_cleaned)))
            _write(level, rows, current, level_cleaned, actor)
        # Each level's check reads the other levels from the database: all written above,
        # so it judges the final state (a refusal rolls every level back).
        for level, current, proposed in checks:
            try:
                _check_rules(level, current, proposed)
            except ValidationFailed as exc:
                errors += [e for e in exc.errors if e not in errors]
        if errors:
            raise ValidationFailed(errors)


def _change(
    level: _Level, changes: dict[str, Any], actor: str, unreadable: Sequence[FieldError] = ()
) -> None:
    _change_levels([(level, changes)], actor, unreadable)


# --- Company level ---------------------------------------------------------------------


def set_company_settings(
    company: Company,
    changes: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> None:
    """Several keys at once. `unreadable`: values the caller could not read (a form's),
    refused with the rest: nothing is written."""
    _change(_Level(Source.COMPANY, company), changes, actor, unreadable)


def reset_company_setting(company: Company, key: str, *, actor: str) -> None:
    """Back to the built-in default."""
    get_setting(key)
    _change(_Level(Source.COMPANY, company), {key: UNSET}, actor)


def set_settings_by_level(
    company: Company,
    company_changes: dict[str, Any] | None,
    group_changes: Sequence[tuple[ClientGroup, dict[str, Any]]],
    *,
    actor: str,
) -> None:
    """The company's settings and those of some of its groups, written together or not at
    all, the cross-key rules checked on the state they leave (a settings import)."""
    levels = [] if company_changes is None else [(_Level(Source.COMPANY, company), company_changes)]
    levels += [(_group_level(g), c) for g, c in group_changes]
    if any(level.company.pk != company.pk for level, _ in levels):
        raise ValueError("every group must belong to the company")
    _change_levels(levels, actor)


# --- Group level -----------------------------------------------------------------------


def _group_level(group: ClientGroup) -> _Level:
    return _Level(Source.GROUP, group.company, group=group)


def set_group_settings(
    group: ClientGroup,
    changes: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> None:
    """Several keys at once; UNSET as a value makes that key inherit again."""
    _change(_group_level(group), changes, actor, unreadable)


def update_group_with_settings(
    group: ClientGroup,
    fields: dict[str, Any],
    changes: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> None:
    """The group's own fields (name...) and its settings, saved together or not at all."""
    with transaction.atomic():
        update_group(group, fields, actor=actor)
        set_group_settings(group, changes, actor=actor, unreadable=unreadable)


def set_group_setting(group: ClientGroup, key: str, value: Any, *, actor: str) -> None:
    get_setting(key)
    _change(_group_level(group), {key: value}, actor)


def unset_group_setting(group: ClientGroup, key: str, *, actor: str) -> None:
    get_setting(key)
    _change(_group_level(group), {key: UNSET}, actor)


def clear_group_settings(group: ClientGroup, *, actor: str) -> None:
    """Use company settings for everything."""
    keys = SettingValue.objects.filter(group=group).values_list("key", flat=True)
    _change(_group_level(group), {k: UNSET for k in keys if k in CATALOG}, actor)


# --- Client level ----------------------------------------------------------------------


def _client_level(client: Client) -> _Level:
    return _Level(Source.CLIENT, client.company, client=client)


def set_client_settings(
    client: Client,
    changes: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> None:
    _change(_client_level(client), changes, actor, unreadable)


def set_client_setting(client: Client, key: str, value: Any, *, actor: str) -> None:
    get_setting(key)
    _change(_client_level(client), {key: value}, actor)


def unset_client_setting(client: Client, key: str, *, actor: str) -> None:
    get_setting(key)
    _change(_client_level(client), {key: UNSET}, actor)
