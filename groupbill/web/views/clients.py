import secrets

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from groupbill.billing import charges, ledger, payments
from groupbill.catalog.models import PackagePrice
from groupbill.clients import actions
from groupbill.clients.models import Client, ClientGroup, Contact
from groupbill.clients.queries import clients_with_primary, get_client, primary_contact
from groupbill.companies.queries import companies, get_company
from groupbill.companies.roles import Action, company_ids_where
from groupbill.errors import DomainError
from groupbill.settings_catalog.actions import set_client_settings
from groupbill.settings_catalog.catalog import CLIENT_KEYS, Source
from groupbill.settings_catalog.resolver import resolve_client, resolve_group
from groupbill.ui.forms import (
    ClientForm,
    ContactFieldsForm,
    ContactForm,
    add_domain_errors,
    required_for_edit,
)
from groupbill.validation import parse_id
from groupbill.web.settings_form import build_rows
from groupbill.web.views.common import actor, of_my_companies, save_with_settings, staff_required


def _required(group_id: int) -> list[str]:
    return resolve_group(group_id)["required_contact_fields"].value


@staff_required
def client_list(request):
    queryset = of_my_companies(request, clients_with_primary().order_by("pk"))
    company_id = parse_id(request.GET.get("company"))
    group_id = parse_id(request.GET.get("group"))
    if company_id:
        queryset = queryset.filter(company_id=company_id)
    if group_id:
        queryset = queryset.filter(group_id=group_id)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    rows = [(c, primary_contact(c)) for c in page]
    mine = of_my_companies(request, companies(), "pk")
    may_add = company_ids_where(request.user, Action.BILL)
    return render(
        request,
        "web/clients/list.html",
        {
            "page": page,
            "rows": rows,
            "companies": mine,
            "addable": [c for c in mine if may_add is None or c.pk in may_add],
            "groups": of_my_companies(
                request, ClientGroup.objects.select_related("company")
            ).order_by("company__name", "name"),
            "company_id": company_id,
            "group_id": group_id,
        },
    )


@staff_required
def client_add(request, company_id: int):
    company = get_company(company_id)
    groups = list(company.client_groups.all())
    group_id = request.POST.get("group") or company.default_group_id
    required = _required(int(group_id)) if str(group_id).isdigit() else []
    form = ClientForm(
        request.POST or None,
        groups=groups,
        required=required,
        initial={"group": company.default_group_id, "default_currency": company.default_currency},
    )
    if request.method == "POST" and form.is_valid():
        try:
            client = actions.create_client(
                company, form.attribute_data() | form.contact_data(), actor=actor(request)
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"Client #{client.pk} created.")
            return redirect("web:client_detail", client_id=client.pk)
    return render(
        request, "web/clients/form.html", {"company": company, "form": form, "client": None}
    )


@staff_required
def client_edit(request, client_id: int):
    client = get_client(client_id)
    form = ClientForm(
        request.POST or None,
        groups=client.company.client_groups.all(),
        with_contact=False,
        initial={
            **{a: getattr(client, a) for a in ClientForm.ATTRIBUTES if a != "group"},
            "group": client.group_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_client(client, form.attribute_data(), actor=actor(request))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, "Client saved.")
            return redirect("web:client_detail", client_id=client.pk)
    return render(
        request,
        "web/clients/form.html",
        {"company": client.company, "form": form, "client": client},
    )


@staff_required
def client_detail(request, client_id: int):
    """The client, its contacts, history and effective settings with their source; the
    client-overridable keys can be set here."""
    client = get_client(client_id)
    keys = sorted(CLIENT_KEYS)
    posted, errors = None, []
    if request.method == "POST":
        posted, errors = save_with_settings(
            request,
            keys,
            lambda changes, unreadable: set_client_settings(
                client, changes, actor=actor(request), unreadable=unreadable
            ),
        )
        if posted is None:
            messages.success(request, "Client settings saved.")
            return redirect("web:client_detail", client_id=client.pk)
    resolved = resolve_client(client.pk)
    group_resolved = resolve_group(client.group_id)
    return render(
        request,
        "web/clients/detail.html",
        {
            "client": client,
            "company": client.company,
            "primary": primary_contact(client),
            "contacts": client.contacts.select_related("portal"),
            "history": client.history.all()[:50],
            **_ledger(client),
            "effective": build_rows(resolved, group_resolved, Source.CLIENT),
            "sections": build_rows(
                resolved, group_resolved, Source.CLIENT, set(keys), posted, errors
            ),
            "errors": errors,
            "parent_name": "group",
        },
        status=422 if errors else 200,
    )


def _ledger(client: Client) -> dict:
    """The money side of the overview: services, invoices, balances, accounts, notes, and
    the prices that can be ordered."""
    return {
        "services": client.services.select_related("package", "pricing").order_by("-pk"),
        "invoices": client.invoices.order_by("-pk")[:50],
        "payments": _payments(client),
        "balances": payments.balances([client.pk])[client.pk],
        "unsettled": charges.pending_attempts(client_id=client.pk),
        "accounts": client.payment_accounts.all(),
        "notes": client.notes.all()[:50],
        "recurring": client.recurring_invoices.prefetch_related("lines").order_by("-pk"),
        "prices": PackagePrice.objects.filter(package__company_id=client.company_id,
                                              package__active=True).select_related("package"),
    }  # fmt: skip


def _payments(client: Client) -> list:
    """The latest 50 payments, credits and refunds, each with what is left unapplied."""
    txns = client.transactions.select_related("refund_of")
    txns = txns.prefetch_related("applications__invoice", "refunds")
    rows = ledger.with_available(list(txns.order_by("-pk")[:50]))
    for txn in rows:
        # Each refund form shown gets its own key: the same form sent twice refunds once.
        txn.refund_key = secrets.token_urlsafe(16)
    return rows


@staff_required
def contact_add(request, client_id: int):
    client = get_object_or_404(Client, pk=client_id)
    form = ContactForm(request.POST or None, required=_required(client.group_id))
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_contact(
                client,
                {"role": form.cleaned_data["role"], **form.contact_data()},
                actor=actor(request),
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, "Contact added.")
            return redirect("web:client_detail", client_id=client.pk)
    return render(
        request, "web/clients/contact_form.html", {"client": client, "form": form, "contact": None}
    )


@staff_required
def contact_edit(request, contact_id: int):
    contact = get_object_or_404(Contact.objects.select_related("client"), pk=contact_id)
    client = contact.client
    form = ContactFieldsForm(
        request.POST or None,
        required=required_for_edit(_required(client.group_id), contact),
        initial={f: getattr(contact, f) for f in ContactFieldsForm().fields},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_contact(contact, form.contact_data(), actor=actor(request))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, "Contact saved.")
            return redirect("web:client_detail", client_id=client.pk)
    return render(
        request,
        "web/clients/contact_form.html",
        {"client": client, "form": form, "contact": contact},
    )


@staff_required
def client_delete(request, client_id: int):
    client = get_client(client_id)
    if request.method == "POST":
        try:
            actions.delete_client(client, actor=actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("web:client_detail", client_id=client.pk)
        messages.success(request, f"Client #{client_id} deleted.")
        return redirect("web:client_list")
    return redirect("web:client_detail", client_id=client.pk)
