from django.contrib import messages
from django.shortcuts import redirect, render

from groupbill.clients import actions
from groupbill.clients.queries import default_group_id, get_group, groups_with_counts
from groupbill.companies.queries import get_company
from groupbill.errors import DomainError
from groupbill.settings_catalog.actions import clear_group_settings, update_group_with_settings
from groupbill.settings_catalog.catalog import CATALOG, Source
from groupbill.settings_catalog.resolver import resolve_company, resolve_group
from groupbill.ui.forms import GroupForm, add_domain_errors
from groupbill.web.settings_form import build_rows
from groupbill.web.views.common import actor, save_with_settings, staff_required


@staff_required
def group_list(request, company_id: int):
    company = get_company(company_id)
    groups = groups_with_counts(company.client_groups.all())
    return render(request, "web/groups/list.html", {"company": company, "groups": groups})


@staff_required
def group_add(request, company_id: int):
    company = get_company(company_id)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = actions.create_group(company, form.cleaned_data, actor=actor(request))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request, f'Group "{group.name}" created. It inherits every company setting.'
            )
            return redirect("web:group_edit", group_id=group.pk)
    return render(request, "web/groups/add.html", {"company": company, "form": form})


@staff_required
def group_edit(request, group_id: int):
    """Identity and settings of a group, saved together or not at all."""
    group = get_group(group_id)
    company = group.company
    initial = {f: getattr(group, f) for f in GroupForm.base_fields}
    form = GroupForm(request.POST or None, initial=initial)
    posted, errors = None, []
    if request.method == "POST" and form.is_valid():
        posted, errors = save_with_settings(
            request,
            list(CATALOG),
            lambda changes, unreadable: update_group_with_settings(
                group, form.cleaned_data, changes, actor=actor(request), unreadable=unreadable
            ),
            form=form,
        )
        if posted is None:
            messages.success(request, f'Group "{group.name}" saved.')
            return redirect("web:group_edit", group_id=group.pk)
        group.refresh_from_db()
    sections = build_rows(
        resolve_group(group.pk),
        resolve_company(company.pk),
        Source.GROUP,
        posted=posted,
        errors=errors,
    )
    invalid = bool(errors) or bool(form.errors)
    return render(
        request,
        "web/groups/edit.html",
        {
            "company": company,
            "group": group,
            "form": form,
            "sections": sections,
            "errors": errors,
            "parent_name": "company",
            # Saved overrides: a refused save's rows are shown as typed, not counted.
            "overrides": sum(r.source == Source.GROUP for s in sections for r in s.rows),
        },
        status=422 if invalid else 200,
    )


@staff_required
def group_reset(request, group_id: int):
    group = get_group(group_id)
    if request.method == "POST":
        clear_group_settings(group, actor=actor(request))
        messages.success(request, f'Group "{group.name}" now uses the company settings.')
    return redirect("web:group_edit", group_id=group.pk)


@staff_required
def group_delete(request, group_id: int):
    group = get_group(group_id)
    company = group.company
    default = groups_with_counts(company.client_groups.filter(pk=default_group_id(company.pk)))
    default = default.first()
    if request.method == "POST":
        try:
            moved = actions.delete_group(group, actor=actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f'Group "{group.name}" deleted; {moved} client(s) moved to "{default.name}".',
            )
            return redirect("web:group_list", company_id=company.pk)
    return render(
        request,
        "web/groups/delete.html",
        {
            "company": company,
            "group": group,
            "default": default,
            "is_default": group.pk == default.pk,
        },
    )
