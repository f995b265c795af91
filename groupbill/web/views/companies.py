from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse

from groupbill.companies import actions
from groupbill.companies.queries import companies, get_company
from groupbill.errors import DomainError
from groupbill.settings_catalog.actions import set_company_settings
from groupbill.settings_catalog.catalog import CATALOG, Source
from groupbill.settings_catalog.resolver import defaults, resolve_company
from groupbill.ui.forms import CompanyEditForm, CompanyForm, add_domain_errors
from groupbill.web.settings_form import build_rows
from groupbill.web.views.common import actor, of_my_companies, save_with_settings, staff_required


@staff_required
def company_list(request):
    form = CompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # who makes a company owns it
                company = actions.create_company(form.cleaned_data, actor=actor(request))
                if not request.user.is_superuser:
                    actions.set_staff_role(company, request.user, "owner", actor=actor(request))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f'Company "{company.name}" created with group "General".')
            return redirect("web:group_list", company_id=company.pk)
    mine = of_my_companies(request, companies(), "pk")
    return render(request, "web/companies/list.html", {"companies": mine, "form": form})


@staff_required
def company_edit(request, company_id: int):
    company = get_company(company_id)
    initial = {f: getattr(company, f) for f in CompanyEditForm.base_fields}
    form = CompanyEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_company(company, form.cleaned_data, actor=actor(request))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, "Company saved.")
            return redirect("web:company_edit", company_id=company.pk)
    return render(request, "web/companies/edit.html", {"company": company, "form": form})


@staff_required
def company_settings(request, company_id: int):
    company = get_company(company_id)
    posted, errors = None, []
    if request.method == "POST":
        posted, errors = save_with_settings(
            request,
            list(CATALOG),
            lambda changes, unreadable: set_company_settings(
                company, changes, actor=actor(request), unreadable=unreadable
            ),
        )
        if posted is None:
            messages.success(request, "Company settings saved.")
            return redirect(reverse("web:company_settings", args=[company.pk]))
    sections = build_rows(
        resolve_company(company.pk), defaults(), Source.COMPANY, posted=posted, errors=errors
    )
    return render(
        request,
        "web/companies/settings.html",
        {"company": company, "sections": sections, "errors": errors, "parent_name": "default"},
        status=422 if errors else 200,
    )
