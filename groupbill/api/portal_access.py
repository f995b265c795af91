"""A contact's access to the client portal: read it, give it (and email the link to set a
password), disable or enable it, send another link.

The contact signs in with their email and chooses the password through the link, which
goes to the login; the API never sets or shows one. Links point at GROUPBILL_PORTAL_URL:
without it, sending one is a 422 on field "portal_url" (the API cannot know the address
clients reach the portal at).
"""

from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.http import HttpRequest
from ninja import Body, Router, Schema, Status
from pydantic import StrictBool

from groupbill.api.auth import actor
from groupbill.api.common import Id, StrictBody
from groupbill.clients.queries import get_contact
from groupbill.clock import now
from groupbill.portal import access, accounts
from groupbill.portal.links import reset_link_builder
from groupbill.portal.models import PortalAccount

router = Router(tags=["portal access"])


class PortalAccessOut(Schema):
    login: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class GrantIn(StrictBody):
    send_link: StrictBool = True  # queue the email with the link to set a password


class AccessPatch(StrictBody):
    is_active: StrictBool


class PasswordLinkOut(Schema):
    message_id: int  # the outbox message
    email: str  # where it goes: the login
    valid_hours: int


def access_out(account: PortalAccount) -> dict:
    return {
        "login": account.login,
        "is_active": account.is_active,
        "last_login_at": account.last_login_at,
        "created_at": account.created_at,
    }


@router.get("/contacts/{contact_id}/portal-access", response=PortalAccessOut)
def read_access(request: HttpRequest, contact_id: Id):
    """404 when the contact has no portal access."""
    return access_out(access.account_of(get_contact(contact_id)))


@router.post("/contacts/{contact_id}/portal-access", response={201: PortalAccessOut})
def give_access(
    request: HttpRequest, contact_id: Id, body: Annotated[GrantIn | None, Body()] = None
):
    """Give the contact a login (their email); with `send_link` (the default) queue the link
    to set a password too. The body may be left out. A contact whose access is disabled gets
    it again under the email they have now (a new password to set)."""
    body = body or GrantIn()
    contact = get_contact(contact_id)
    link_for = reset_link_builder() if body.send_link else None
    account = access.give_access(contact, actor=actor(request), link_for=link_for, now=now())
    return Status(201, access_out(account))


@router.patch("/contacts/{contact_id}/portal-access", response=PortalAccessOut)
def update_access(request: HttpRequest, contact_id: Id, body: AccessPatch):
    """`{"is_active": false}` stops sign-in, open sessions and unused links at once."""
    account = access.account_of(get_contact(contact_id))
    return access_out(accounts.set_active(account, body.is_active, actor=actor(request)))


@router.post("/contacts/{contact_id}/portal-access/password-link", response={202: PasswordLinkOut})
def send_password_link(request: HttpRequest, contact_id: Id):
    """Queue another link to set the password, to the login (at most 3 an hour per
    account)."""
    account = access.account_of(get_contact(contact_id))
    link_for = reset_link_builder()
    message = access.send_password_link(account, actor=actor(request), link_for=link_for, now=now())
    return Status(
        202,
        {
            "message_id": message.pk,
            "email": account.login,
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )
