"""Contacts (with the group's required fields) and the client's profile."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters

from groupbill.addresses import client_address
from groupbill.clients.models import Contact, ContactRole
from groupbill.errors import DomainError
from groupbill.portal import accounts, actions, session
from groupbill.portal.views.common import client_required, own
from groupbill.settings_catalog.effective import ClientSettings
from groupbill.ui.forms import ContactFieldsForm, add_domain_errors, required_for_edit


class ContactFields(ContactFieldsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)


class ContactForm(ContactFields):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roles = [(r.value, r.label) for r in (ContactRole.BILLING, ContactRole.OTHER)]
        self.fields = {"role": forms.ChoiceField(choices=roles), **self.fields}


def _required(request) -> list[str]:
    return ClientSettings.of(request.client.pk).value("required_contact_fields")


@client_required
def contact_list(request):
    return render(request, "portal/contacts/list.html", {
        "contacts": request.client.contacts.order_by("pk"), "required": _required(request),
    })  # fmt: skip


@client_required
def contact_add(request):
    form = ContactForm(request.POST or None, required=_required(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_contact(request.client,
                                {"role": form.cleaned_data["role"], **form.contact_data()},
                                actor=request.actor)  # fmt: skip
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, "Contact added.")
            return redirect("portal:contact_list")
    return render(request, "portal/contacts/form.html", {"form": form, "contact": None},
                  status=400 if form.errors else 200)  # fmt: skip


@client_required
def contact_edit(request, contact_id: int):
    contact = own(Contact.objects.all(), request, contact_id)
    form = ContactFields(
        request.POST or None,
        required=required_for_edit(_required(request), contact),
        initial={f: getattr(contact, f) for f in ContactFields().fields},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_contact(contact, form.contact_data(), actor=request.actor)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, "Contact saved.")
            return redirect("portal:contact_list")
    return render(request, "portal/contacts/form.html", {"form": form, "contact": contact},
                  status=400 if form.errors else 200)  # fmt: skip


def _change_password(request) -> None:
    accounts.change_password(
        request.account,
        request.POST.get("current_password", ""),
        request.POST.get("password", ""),
        request.POST.get("password2", ""),
        actor=request.actor,
        address=client_address(request),
        now=timezone.now(),
    )
    session.start(request, request.account)  # this session stays; the others end


@sensitive_post_parameters("current_password", "password", "password2")
@client_required
def profile(request):
    client = request.client
    settings = ClientSettings.of(client.pk)
    show_tax_id = actions.allowed(client, "tax_id", settings)
    can_set_method = actions.allowed(client, "invoice_method", settings)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if request.POST.get("form") == "password":
                _change_password(request)
                messages.success(request, "Your password is changed.")
            else:
                # Only the fields the page offers are sent; anything else is refused by the
                # action with the group's reason.
                fields = ("language", "tax_id", "invoice_method")
                actions.update_profile(
                    client, {k: request.POST[k] for k in fields if k in request.POST},
                    actor=request.actor,
                )  # fmt: skip
                messages.success(request, "Profile saved.")
            return redirect("portal:profile")
        except DomainError as exc:
            if exc.status == 403:
                raise
            errors = {e.field: e.message for e in exc.errors} or {"": exc.message}
    return render(
        request,
        "portal/profile.html",
        {
            "show_tax_id": show_tax_id,
            "can_set_method": can_set_method,
            "methods": settings.value("delivery_methods"),
            "invoice_method": settings.value("invoice_method"),
            "errors": errors,
            "posted": request.POST,
        },
        status=400 if errors else 200,
    )
