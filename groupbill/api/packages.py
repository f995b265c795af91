"""Packages, their prices per term and currency, and configurable options.

Amounts are integers in the currency's minor units (1250 EUR is 12.50). The webhook
secret can be set but is never returned: `has_webhook_secret` says whether there is one.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, StrictStr

from groupbill.api.auth import actor
from groupbill.api.common import BodyId, Id, PageQuery, StrictBody, changes, paginate
from groupbill.api.fields import (
    BOOLEAN,
    NAME,
    CurrencyCode,
    Name,
    items,
    limits,
    never_null,
    text,
    whole_number,
)
from groupbill.catalog import actions
from groupbill.catalog.models import ConfigOption, OptionKind, Package, PricingUnit
from groupbill.catalog.queries import get_option, get_package, options, packages
from groupbill.companies.queries import get_company

router = Router(tags=["packages"])

Module = Literal[actions.MODULES]  # type: ignore[valid-type]
Unit = Literal[tuple(PricingUnit.values)]  # type: ignore[valid-type]
Kind = Literal[tuple(OptionKind.values)]  # type: ignore[valid-type]


# The catalogue's own bounds, so the schema states them.
Term = whole_number(1, actions.MAX_TERM_COUNT)
Amount = whole_number(0, actions.MAX_AMOUNT)
WebhookUrl = Annotated[StrictStr, limits(maxLength=200, pattern=r"^(https?://.+)?$")]
SECRET = f"^(.{{{actions.WEBHOOK_SECRET_MIN},{actions.WEBHOOK_SECRET_MAX}}})?$"
WebhookSecret = Annotated[StrictStr, limits(pattern=SECRET, description="empty for none")]
AddonOf = Annotated[list[BodyId], items(maximum=actions.MAX_ADDON_OF)]
MODULE = {"type": "string", "enum": list(actions.MODULES)}
KIND = {"type": "string", "enum": OptionKind.values}


class PriceIn(StrictBody):
    unit: Unit
    count: Term = 1
    currency: CurrencyCode
    price: Amount
    setup_fee: Amount = 0


Prices = Annotated[list[PriceIn], items(maximum=actions.MAX_PRICES)]


class PackageIn(StrictBody):
    name: Name
    description: text(5000) = ""
    module: Module = "none"
    webhook_url: WebhookUrl = ""
    webhook_secret: WebhookSecret = ""
    client_can_order_as_addon: StrictBool = True
    addon_of: AddonOf = []
    prices: Prices = []


class PackagePatch(StrictBody):
    # Left out: unchanged. Text may be emptied; the rest cannot be null.
    name: never_null(NAME) = None
    description: text(5000) | None = None
    module: never_null(MODULE, Module) = None
    webhook_url: WebhookUrl | None = None
    webhook_secret: WebhookSecret | None = None
    client_can_order_as_addon: never_null(BOOLEAN, StrictBool) = None
    addon_of: AddonOf = None
    active: never_null(BOOLEAN, StrictBool) = None


class PricesIn(StrictBody):
    prices: Annotated[list[PriceIn], items(1, actions.MAX_PRICES)]


class ValueIn(StrictBody):
    id: BodyId | None = None  # an existing value to keep (PATCH); new values have none
    name: Name
    prices: Prices = []


Values = Annotated[list[ValueIn], items(1, actions.MAX_VALUES)]


class OptionIn(StrictBody):
    name: Name
    kind: Kind = "select"
    values: Values


class OptionPatch(StrictBody):
    name: never_null(NAME) = None
    kind: never_null(KIND, Kind) = None
    values: Values = None


class PriceOut(Schema):
    id: int
    unit: str
    count: int
    currency: str
    price: int
    setup_fee: int


class ValueOut(Schema):
    id: int
    name: str
    prices: list[PriceOut]


class OptionOut(Schema):
    id: int
    package_id: int
    name: str
    kind: str
    values: list[ValueOut]


class PackageOut(Schema):
    id: int
    company_id: int
    name: str
    description: str
    module: str
    webhook_url: str
    has_webhook_secret: bool
    client_can_order_as_addon: bool
    addon_of: list[int]
    active: bool
    created_at: datetime
    prices: list[PriceOut]
    options: list[OptionOut]


class PackageList(Schema):
    items: list[PackageOut]
    count: int


class OptionList(Schema):
    items: list[OptionOut]
    count: int


def _prices(rows) -> list[dict[str, Any]]:
    return [{"id": p.pk, **{f: getattr(p, f) for f in actions.PRICE_FIELDS}} for p in rows]


def option_out(option: ConfigOption) -> dict[str, Any]:
    return {
        "id": option.pk,
        "package_id": option.package_id,
        "name": option.name,
        "kind": option.kind,
        "values": [
            {"id": val.pk, "name": val.name, "prices": _prices(val.prices.all())}
            for val in option.values.all()
        ],
    }


def package_out(package: Package) -> dict[str, Any]:
    """The package with its prices and options; never the webhook secret."""
    return {
        "id": package.pk,
        "company_id": package.company_id,
        **{f: getattr(package, f) for f in actions.SNAPSHOT_FIELDS},
        "has_webhook_secret": bool(package.webhook_secret),
        "addon_of": [p.pk for p in package.addon_of.all()],
        "created_at": package.created_at,
        "prices": _prices(package.prices.all()),
        "options": [option_out(o) for o in package.options.all()],
    }


@router.get("/companies/{company_id}/packages", response=PackageList)
def list_packages(
    request: HttpRequest, company_id: Id, page: PageQuery, active: bool | None = None
):
    queryset = packages(get_company(company_id))
    if active is not None:
        queryset = queryset.filter(active=active)
    return paginate(queryset, page, package_out)


@router.post("/companies/{company_id}/packages", response={201: PackageOut})
def create_package(request: HttpRequest, company_id: Id, body: PackageIn):
    package = actions.create_package(get_company(company_id), changes(body), actor=actor(request))
    return Status(201, package_out(get_package(package.pk)))


@router.get("/packages/{package_id}", response=PackageOut)
def read_package(request: HttpRequest, package_id: Id):
    return package_out(get_package(package_id))


@router.patch("/packages/{package_id}", response=PackageOut)
def update_package(request: HttpRequest, package_id: Id, body: PackagePatch):
    actions.update_package(get_package(package_id), changes(body), actor=actor(request))
    return package_out(get_package(package_id))


@router.delete("/packages/{package_id}", response={204: None})
def delete_package(request: HttpRequest, package_id: Id):
    actions.delete_package(get_package(package_id), actor=actor(request))
    return Status(204, None)


@router.put("/packages/{package_id}/prices", response=PackageOut)
def set_prices(request: HttpRequest, package_id: Id, body: PricesIn):
    """Replace the price list. Prices are matched by (unit, count, currency): one that
    stays keeps its id; one that services use cannot be left out (409)."""
    prices = changes(body)["prices"]
    actions.set_package_prices(get_package(package_id), prices, actor=actor(request))
    return package_out(get_package(package_id))


@router.get("/packages/{package_id}/options", response=OptionList)
def list_options(request: HttpRequest, package_id: Id, page: PageQuery):
    return paginate(options(get_package(package_id)), page, option_out)


@router.post("/packages/{package_id}/options", response={201: OptionOut})
def add_option(request: HttpRequest, package_id: Id, body: OptionIn):
    option = actions.add_option(get_package(package_id), changes(body), actor=actor(request))
    return Status(201, option_out(get_option(option.pk)))


@router.get("/package-options/{option_id}", response=OptionOut)
def read_option(request: HttpRequest, option_id: Id):
    return option_out(get_option(option_id))


@router.patch("/package-options/{option_id}", response=OptionOut)
def update_option(request: HttpRequest, option_id: Id, body: OptionPatch):
    """`values` replaces the list: values given with their id are kept, values without an
    id are added, values left out are removed (409 if services use them)."""
    actions.update_option(get_option(option_id), changes(body), actor=actor(request))
    return option_out(get_option(option_id))


@router.delete("/package-options/{option_id}", response={204: None})
def delete_option(request: HttpRequest, option_id: Id):
    actions.delete_option(get_option(option_id), actor=actor(request))
    return Status(204, None)
