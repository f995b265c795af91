from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictStr

from groupbill.api.auth import actor
from groupbill.api.common import Id, PageQuery, StrictBody, changes, paginate
from groupbill.companies import actions
from groupbill.companies.models import Company
from groupbill.companies.queries import companies, get_company

router = Router(tags=["companies"])

Rounding = Literal["half_up", "half_even"]


class CompanyIn(StrictBody):
    name: StrictStr
    timezone: StrictStr
    default_currency: StrictStr
    notify_email: StrictStr = ""
    rounding_mode: Rounding = "half_up"


class CompanyPatch(StrictBody):
    name: StrictStr | None = None
    timezone: StrictStr | None = None
    default_currency: StrictStr | None = None
    notify_email: StrictStr | None = None
    rounding_mode: Rounding | None = None


class CompanyOut(Schema):
    id: int
    name: str
    timezone: str
    default_currency: str
    notify_email: str
    rounding_mode: str
    default_group_id: int | None
    created_at: datetime


class CompanyList(Schema):
    items: list[CompanyOut]
    count: int


@router.get("/companies", response=CompanyList)
def list_companies(request: HttpRequest, page: PageQuery):
    return paginate(companies(), page, lambda c: c)


@router.post("/companies", response={201: CompanyOut})
def create_company(request: HttpRequest, body: CompanyIn):
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
