"""API schemas of settings, generated from the catalogue so the OpenAPI document lists
every key with its type, bounds and help. Values stay `Any` for pydantic: the catalogue
does the (strict) validation, with its own messages."""

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, StrictBool, WithJsonSchema, create_model

from groupbill.api.common import StrictBody
from groupbill.settings_catalog import transfer
from groupbill.settings_catalog.catalog import CATALOG, Setting, Source
from groupbill.settings_catalog.resolver import Resolved


def _value(setting: Setting) -> Any:
    return Annotated[Any, WithJsonSchema(setting.type.json_schema())]


def _effective_model(setting: Setting, sources: tuple[str, ...]) -> type[Schema]:
    return create_model(
        f"Effective_{setting.key}",
        __base__=Schema,
        value=(_value(setting), ...),
        source=(Literal[sources], ...),  # type: ignore[valid-type]
    )


def _effective_settings(name: str, sources: tuple[str, ...]) -> type[Schema]:
    fields = {
        key: (
            _effective_model(s, sources),
            Field(..., title=s.label, description=f"{s.help} Value: {s.type.describe()}."),
        )
        for key, s in CATALOG.items()
    }
    return create_model(name, __base__=Schema, **fields)


_COMPANY_SOURCES = (Source.DEFAULT.value, Source.COMPANY.value)
_GROUP_SOURCES = (*_COMPANY_SOURCES, Source.GROUP.value)
_CLIENT_SOURCES = (*_GROUP_SOURCES, Source.CLIENT.value)

CompanySettingsOut = _effective_settings("CompanySettings", _COMPANY_SOURCES)
GroupSettingsOut = _effective_settings("GroupSettings", _GROUP_SOURCES)
ClientSettingsOut = _effective_settings("ClientSettings", _CLIENT_SOURCES)

CompanySettingsPatch = create_model(
    "CompanySettingsPatch",
    __base__=StrictBody,
    **{
        key: (_value(s), Field(None, title=s.label, description=s.type.describe()))
        for key, s in CATALOG.items()
    },
)


class SettingValueIn(StrictBody):
    value: Any = Field(..., description="The explicit value; null is a value (e.g. off).")


def serialize(resolved: Resolved) -> dict[str, dict[str, Any]]:
    return {key: {"value": e.value, "source": e.source.value} for key, e in resolved.items()}


# --- Export and import -----------------------------------------------------------------

_LEVEL_VALUES = {
    "type": "object",
    "description": "Setting keys and their explicit values at this level.",
    "properties": {key: s.type.json_schema() for key, s in CATALOG.items()},
    "additionalProperties": False,
}
_DOCUMENT = {
    "type": "object",
    "title": "SettingsDocument",
    "required": ["format", "version", "company", "groups"],
    "properties": {
        "format": {"type": "string", "enum": [transfer.FORMAT]},
        "version": {"type": "integer", "enum": [transfer.VERSION]},
        "company": _LEVEL_VALUES,
        "groups": {
            "type": "object",
            "description": "Each client group's overrides, by group name.",
            "maxProperties": transfer.MAX_GROUPS,
            "additionalProperties": _LEVEL_VALUES,
        },
    },
}
_ANY_DOCUMENT = {
    "type": "object",
    "description": "A settings document: a Groupbill export (dialect `groupbill`), or "
    "`{company: {...}, groups: {name: {...}}}` with Blesta's keys and value forms (dialect "
    '`blesta`: "true"/"false", numbers as text, "disabled", base64 lists). Unknown keys '
    "are reported and ignored. Dialect `whmcs`: tblconfiguration's settings by name and "
    "`{groups: {name: {susptermexempt, separateinvoices}}}`.",
}


class SettingsImportIn(StrictBody):
    document: Annotated[dict[str, Any], WithJsonSchema(_ANY_DOCUMENT)]
    dialect: Literal["groupbill", "blesta", "whmcs"] = "groupbill"
    dry_run: StrictBool = Field(
        True, description="true (the default): only plan; false: write the plan, all or nothing."
    )


class ChangeOut(Schema):
    key: str
    current: Any = Field(..., description="The effective value now.")
    new: Any = Field(..., description="The effective value after the import.")
    action: Literal["set", "unset", "unchanged"] = Field(
        ..., description="What the import writes at this level (unset: inherit again)."
    )
    note: str


class LevelOut(Schema):
    level: Literal["company", "group"]
    group: str | None
    creates_group: bool
    changes: list[ChangeOut]


class ProblemOut(Schema):
    field: str = Field(..., description='Its place in the document, e.g. "company.notice1".')
    key: str
    message: str
    value: Any


class ImportSummary(Schema):
    set: int
    unset: int
    unchanged: int
    groups_created: int
    unknown: int
    refused: int


class SettingsImportOut(Schema):
    dialect: Literal["groupbill", "blesta", "whmcs"]
    dry_run: bool
    applied: bool
    levels: list[LevelOut]
    untouched_groups: list[str] = Field(..., description="Groups the document does not name.")
    unknown: list[ProblemOut] = Field(..., description="Keys not imported (ignored).")
    refused: list[ProblemOut] = Field(..., description="Values refused: nothing is written.")
    notes: list[ProblemOut]
    summary: ImportSummary


SettingsDocumentOut = Annotated[dict[str, Any], WithJsonSchema(_DOCUMENT)]
