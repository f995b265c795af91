from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictStr

from groupbill.api.auth import actor
from groupbill.api.common import Id, PageQuery, StrictBody, changes, paginate
from groupbill.api.fields import limits, never_null, required_text, text, text_schema
from groupbill.clients import actions
from groupbill.clients.models import ClientGroup
from groupbill.clients.queries import get_group, groups_with_counts
from groupbill.companies.queries import get_company

router = Router(tags=["client groups"])

GroupName = required_text(64)
Color = Annotated[StrictStr, limits(pattern=r"^(#[0-9A-Fa-f]{6})?$")]  # empty: the default


class GroupIn(StrictBody):
    name: GroupName
    color: Color | None = None
    description: text(2000) = ""


class GroupPatch(StrictBody):
    name: never_null(text_schema(64, required=True)) = None
    color: Color | None = None
    description: text(2000) | None = None


class GroupOut(Schema):
    id: int
    company_id: Id
    name: str
    color: str
    description: str
    is_default: bool
    client_count: int

    @staticmethod
    def resolve_is_default(group: ClientGroup) -> bool:
        return group.pk == group.default_id


class GroupList(Schema):
    items: list[GroupOut]
    count: int


@router.get("/companies/{company_id}/client-groups", response=GroupList)
def list_groups(request: HttpRequest, company_id: Id, page: PageQuery):
    company = get_company(company_id)
    return paginate(groups_with_counts(company.client_groups.all()), page, lambda g: g)


@router.post("/companies/{company_id}/client-groups", response={201: GroupOut})
def create_group(request: HttpRequest, company_id: Id, body: GroupIn):
    company = get_company(company_id)
    group = actions.create_group(company, body.model_dump(), actor=actor(request))
    return Status(201, get_group(group.pk))


@router.get("/client-groups/{group_id}", response=GroupOut)
def read_group(request: HttpRequest, group_id: Id):
    return get_group(group_id)


@router.patch("/client-groups/{group_id}", response=GroupOut)
def update_group(request: HttpRequest, group_id: Id, body: GroupPatch):
    actions.update_group(get_group(group_id), changes(body), actor=actor(request))
    return get_group(group_id)


@router.delete("/client-groups/{group_id}", response={204: None})
def delete_group(request: HttpRequest, group_id: Id):
    actions.delete_group(get_group(group_id), actor=actor(request))
    return Status(204, None)
