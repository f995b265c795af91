"""API schemas of settings, generated from the catalogue so the OpenAPI document lists
every key with its type, bounds and help. Values stay `Any` for pydantic: the catalogue
does the (strict) validation, with its own messages."""

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, WithJsonSchema, create_model

from groupbill.api.common import StrictBody
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
