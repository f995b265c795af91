from datetime import datetime
from typing import Annotated, Literal, get_args

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, StrictStr

from groupbill.api.auth import actor, key_company
from groupbill.api.common import Id, PageQuery, StrictBody, changes, paginate
from groupbill.api.fields import (
    BOOLEAN,
    CURRENCY,
    NAME,
    TIMEZONE,
    CurrencyCode,
    Name,
    TimeZone,
    limits,
    never_null,
    text,
)
from groupbill.companies import actions
from groupbill.companies.models import Company
from groupbill.companies.queries import companies, get_company
from groupbill.errors import Forbidden

router = Router(tags=["companies"])

Rounding = Literal["half_up", "half_even"]
ROUNDING = {"type": "string", "enum": list(get_args(Rounding))}
Email = text(254)


Country = Annotated[StrictStr, limits(pattern="^([A-Za-z]{2})?$", maxLength=2)]


class SellerIdentity(StrictBody):
    """The seller as invoices print it, and whether VAT follows the EU's rules."""

    legal_name: text(200) = ""
    address_line1: text(200) = ""
    address_line2: text(200) = ""
    postcode: text(32) = ""
    city: text(128) = ""
    state: text(128) = ""
    country: Country = ""
    vat_id: text(32) = ""
    registration_number: text(64) = ""
    bank_details: text(2000) = ""
    charges_eu_vat: StrictBool = False


class CompanyIn(SellerIdentity):
    name: Name
    timezone: TimeZone
    default_currency: CurrencyCode
    notify_email: Email = ""
    rounding_mode: Rounding = "half_up"


class CompanyPatch(StrictBody):
    # Left out: unchanged. Only the email can be emptied (null or "").
    name: never_null(NAME) = None
    timezone: never_null(TIMEZONE) = None
    default_currency: never_null(CURRENCY) = None
    notify_email: Email | None = None
    rounding_mode: never_null(ROUNDING, Rounding) = None
    # Left out: unchanged; null or "" empties a text.
    legal_name: text(200) | None = None
    address_line1: text(200) | None = None
    address_line2: text(200) | None = None
    postcode: text(32) | None = None
    city: text(128) | None = None
    state: text(128) | None = None
    country: Country | None = None
    vat_id: text(32) | None = None
    registration_number: text(64) | None = None
    bank_details: text(2000) | None = None
    charges_eu_vat: never_null(BOOLEAN, StrictBool) = None


class CompanyOut(Schema):
    id: int
    name: str
    timezone: str
    default_currency: str
    notify_email: str
    rounding_mode: str
    legal_name: str
    address_line1: str
    address_line2: str
    postcode: str
    city: str
    state: str
    country: str
    vat_id: str
    registration_number: str
    bank_details: str
    charges_eu_vat: bool
    default_group_id: int | None
    created_at: datetime


class CompanyList(Schema):
    items: list[CompanyOut]
    count: int


@router.get("/companies", response=CompanyList)
def list_companies(request: HttpRequest, page: PageQuery):
    bound = key_company(request)
    queryset = companies() if bound is None else companies().filter(pk=bound)
    return paginate(queryset, page, lambda c: c)


@router.post("/companies", response={201: CompanyOut})
def create_company(request: HttpRequest, body: CompanyIn):
    if key_company(request) is not None:
        raise Forbidden("An API key of one company may not create companies.")
    company: Company = actions.create_company(body.model_dump(), actor=actor(request))
    return Status(201, get_company(company.pk))


@router.get("/companies/{company_id}", response=CompanyOut)
def read_company(request: HttpRequest, company_id: Id):
    return get_company(company_id)


@router.patch("/companies/{company_id}", response=CompanyOut)
def update_company(request: HttpRequest, company_id: Id, body: CompanyPatch):
    company = get_company(company_id)
    actions.update_company(company, changes(body), actor=actor(request))
    return get_company(company_id)
