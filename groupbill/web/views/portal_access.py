"""A contact's portal access, from the contacts table on the client's page: give it (and
email the link to set a password), send another link, disable, enable."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from groupbill.clients.models import Contact
from groupbill.clients.queries import get_contact
from groupbill.errors import DomainError
from groupbill.portal import access, accounts
from groupbill.portal.links import reset_link_builder
from groupbill.web.views.common import actor, staff_required


def _reason(exc: DomainError) -> str:
    return "; ".join(e.message for e in exc.errors) or exc.message


def _contact_action(failure: str):
    """POST only; the view answers the success message, a refusal becomes "<failure>:
    <reason>". Either way back to the client's page."""

    def decorate(view):
        @staff_required
        @require_POST
        def wrapper(request, contact_id: int):
            contact = get_contact(contact_id)
            try:
                messages.success(request, view(request, contact))
            except DomainError as exc:
                messages.error(request, f"{failure}: {_reason(exc)}")
            return redirect("web:client_detail", client_id=contact.client_id)

        return wrapper

    return decorate


@_contact_action("Portal access not given")
def grant(request, contact: Contact) -> str:
    account = access.give_access(
        contact, actor=actor(request), link_for=reset_link_builder(request), now=timezone.now()
    )
    return f"Portal access given; a link to set a password is queued to {account.login}."


@_contact_action("No password link sent")
def password_link(request, contact: Contact) -> str:
    account = access.account_of(contact)
    access.send_password_link(
        account, actor=actor(request), link_for=reset_link_builder(request), now=timezone.now()
    )
    return f"A link to set a password is queued to {account.login}."


@_contact_action("Portal access not disabled")
def disable(request, contact: Contact) -> str:
    account = accounts.set_active(access.account_of(contact), False, actor=actor(request))
    return f"Portal access for {account.login} disabled: they can no longer sign in."


@_contact_action("Portal access not enabled")
def enable(request, contact: Contact) -> str:
    account = accounts.set_active(access.account_of(contact), True, actor=actor(request))
    return f"Portal access for {account.login} enabled."
