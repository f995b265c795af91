from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, create_model

from groupbill.api.auth import actor, key_company
from groupbill.api.common import BodyId, Id, PageQuery, StrictBody, changes, paginate
from groupbill.api.fields import BOOLEAN, CURRENCY, Day, never_null, text
from groupbill.clients import actions
from groupbill.clients.actions import LANGUAGE_PATTERN
from groupbill.clients.contact_fields import CONTACT_FIELD_NAMES, CONTACT_FIELDS
from groupbill.clients.models import Client, ClientStatus, Contact, ContactRole
from groupbill.clients.queries import clients_with_primary, get_client, primary_contact
from groupbill.companies.queries import get_company

router = Router(tags=["clients"])

StatusValue = Literal[tuple(ClientStatus.values)]  # type: ignore[valid-type]
Role = Literal[tuple(ContactRole.values)]  # type: ignore[valid-type]

# Left out: the default (create) or unchanged (PATCH); only the date may be null (none).
_ATTRIBUTES: dict[str, Any] = {
    "status": (never_null({"type": "string", "enum": ClientStatus.values}, StatusValue), None),
    "autosuspend": (never_null(BOOLEAN, StrictBool), None),
    "suspension_delayed_until": (Day | None, None),
    "tax_exempt": (never_null(BOOLEAN, StrictBool), None),
    "tax_id": (text(64) | None, None),
    "default_currency": (never_null(CURRENCY), None),
    "language": (never_null({"type": "string", "pattern": LANGUAGE_PATTERN}), None),
}
_CONTACT_IN: dict[str, Any] = {f.name: (text(f.max_length) | None, None) for f in CONTACT_FIELDS}
_CONTACT_OUT: dict[str, Any] = {name: (str, ...) for name in CONTACT_FIELD_NAMES}

ClientIn = create_model(
    "ClientIn",
    __base__=StrictBody,
    company_id=(BodyId, ...),
    group_id=(BodyId | None, None),
    **_ATTRIBUTES,
    **_CONTACT_IN,
)
ClientPatch = create_model(
    "ClientPatch", __base__=StrictBody, group_id=(BodyId | None, None), **_ATTRIBUTES, **_CONTACT_IN
)
ClientOut = create_model(
    "ClientOut",
    __base__=Schema,
    id=(int, ...),
    company_id=(int, ...),
    group_id=(int, ...),
    status=(str, ...),
    autosuspend=(bool, ...),
    suspension_delayed_until=(date | None, ...),
    tax_exempt=(bool, ...),
    tax_id=(str, ...),
    default_currency=(str, ...),
    language=(str, ...),
    created_at=(datetime, ...),
    **_CONTACT_OUT,
)
ContactIn = create_model("ContactIn", __base__=StrictBody, role=(Role, "other"), **_CONTACT_IN)
ContactOut = create_model(
    "ContactOut",
    __base__=Schema,
    id=(int, ...),
    client_id=(int, ...),
    role=(str, ...),
    created_at=(datetime, ...),
    **_CONTACT_OUT,
)


class ClientList(Schema):
    items: list[ClientOut]  # type: ignore[valid-type]
    count: int


class ContactList(Schema):
    items: list[ContactOut]  # type: ignore[valid-type]
    count: int


def _contact_fields(contact: Contact | None) -> dict[str, str]:
    return {name: getattr(contact, name) if contact else "" for name in CONTACT_FIELD_NAMES}


def client_out(client: Client) -> dict[str, Any]:
    return {
        "id": client.pk,
        "company_id": client.company_id,
        "group_id": client.group_id,
        "created_at": client.created_at,
        **{name: getattr(client, name) for name in actions.CLIENT_ATTRIBUTES},
        **_contact_fields(primary_contact(client)),
    }


def contact_out(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "client_id": contact.client_id,
        "role": contact.role,
        "created_at": contact.created_at,
        **_contact_fields(contact),
    }


@router.get("/clients", response=ClientList)
def list_clients(
    request: HttpRequest,
    page: PageQuery,
    group_id: Id | None = None,
    company_id: Id | None = None,
):
    queryset = clients_with_primary().order_by("pk")
    if group_id is not None:
        queryset = queryset.filter(group_id=group_id)
    if company_id is not None:
        queryset = queryset.filter(company_id=company_id)
    if key_company(request) is not None:
        queryset = queryset.filter(company_id=key_company(request))
    return paginate(queryset, page, client_out)


@router.post("/clients", response={201: ClientOut})
def create_client(request: HttpRequest, body: ClientIn):  # type: ignore[valid-type]
    data = changes(body)
    company = get_company(data.pop("company_id"))
    client = actions.create_client(company, data, actor=actor(request))
    return Status(201, client_out(get_client(client.pk)))


@router.get("/clients/{client_id}", response=ClientOut)
def read_client(request: HttpRequest, client_id: Id):
    return client_out(get_client(client_id))


@router.patch("/clients/{client_id}", response=ClientOut)
def update_client(request: HttpRequest, client_id: Id, body: ClientPatch):  # type: ignore[valid-type]
    actions.update_client(get_client(client_id), changes(body), actor=actor(request))
    return client_out(get_client(client_id))


@router.delete("/clients/{client_id}", response={204: None})
def delete_client(request: HttpRequest, client_id: Id):
    actions.delete_client(get_client(client_id), actor=actor(request))
    return Status(204, None)


@router.get("/clients/{client_id}/contacts", response=ContactList)
def list_contacts(request: HttpRequest, client_id: Id, page: PageQuery):
    client = get_client(client_id)
    return paginate(client.contacts.order_by("pk"), page, contact_out)


@router.post("/clients/{client_id}/contacts", response={201: ContactOut})
def add_contact(request: HttpRequest, client_id: Id, body: ContactIn):  # type: ignore[valid-type]
    contact = actions.add_contact(
        get_client(client_id), changes(body) | {"role": body.role}, actor=actor(request)
    )
    return Status(201, contact_out(contact))
