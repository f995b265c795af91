"""Settings > Company > Packages: the list, add and edit (identity, prices, options),
deactivate. Each save is one action call: all of it is saved, or none of it. Amounts
that cannot be read are sent as 0, with their errors as the action's `unreadable`: the
action reports them with every other error at once and saves nothing."""

from django.contrib import messages
from django.shortcuts import redirect, render

from groupbill.catalog import actions
from groupbill.catalog.models import ConfigOptionPrice
from groupbill.catalog.queries import get_option, get_package, has_services, packages
from groupbill.companies.queries import get_company
from groupbill.errors import DomainError
from groupbill.web.package_forms import (
    OptionForm,
    PackageForm,
    PriceFormSet,
    ValueFormSet,
    price_initial,
    price_label,
    prices_from,
    put_errors,
    term_columns,
    value_initial,
    values_from,
)
from groupbill.web.views.common import actor, staff_required


@staff_required
def package_list(request, company_id: int):
    company = get_company(company_id)
    rows = [(p, [price_label(price) for price in p.prices.all()]) for p in packages(company)]
    return render(request, "web/packages/list.html", {"company": company, "rows": rows})


def _price_formset(request, company, prices=()):
    return PriceFormSet(
        request.POST or None,
        prefix="prices",
        initial=price_initial(prices),
        form_kwargs={"currency": company.default_currency},
    )


def _valid(*forms) -> bool:
    return all([f.is_valid() for f in forms])  # every form validated, so all show errors


@staff_required
def package_add(request, company_id: int):
    company = get_company(company_id)
    form = PackageForm(request.POST or None, others=company.packages.order_by("pk"))
    prices = _price_formset(request, company)
    if request.method == "POST" and _valid(form, prices):
        table = prices_from(prices)
        data = form.package_data() | ({"prices": table.items} if table.items else {})
        try:
            package = actions.create_package(
                company, data, actor=actor(request), unreadable=table.errors
            )
        except DomainError as exc:
            put_errors(exc, form, "prices", prices, table)
        else:
            messages.success(request, f'Package "{package.name}" created.')
            return redirect("web:package_edit", package_id=package.pk)
    return render(
        request,
        "web/packages/form.html",
        {"company": company, "package": None, "form": form, "prices": prices},
        status=422 if form.errors or any(prices.errors) else 200,
    )


@staff_required
def package_edit(request, package_id: int):
    package = get_package(package_id)
    company = package.company
    initial = {f: getattr(package, f) for f in PackageForm.base_fields if f != "webhook_secret"}
    initial["addon_of"] = [p.pk for p in package.addon_of.all()]
    form = PackageForm(
        request.POST or None,
        initial=initial,
        others=company.packages.exclude(pk=package.pk).order_by("pk"),
        has_secret=bool(package.webhook_secret),
    )
    prices = _price_formset(request, company, package.prices.all())
    if request.method == "POST" and _valid(form, prices):
        table = prices_from(prices)
        data = form.package_data()
        if table.items or package.prices.all():
            data["prices"] = table.items
        try:
            actions.update_package(package, data, actor=actor(request), unreadable=table.errors)
        except DomainError as exc:
            put_errors(exc, form, "prices", prices, table)
        else:
            messages.success(request, f'Package "{package.name}" saved.')
            return redirect("web:package_edit", package_id=package.pk)
    options = [
        (o, [(val, [price_label(p) for p in val.prices.all()]) for val in o.values.all()])
        for o in package.options.all()
    ]
    return render(
        request,
        "web/packages/form.html",
        {
            "company": company,
            "package": package,
            "form": form,
            "prices": prices,
            "options": options,
            "has_services": has_services(package),
        },
        status=422 if form.errors or any(prices.errors) else 200,
    )


@staff_required
def package_deactivate(request, package_id: int):
    package = get_package(package_id)
    if request.method == "POST":
        actions.deactivate_package(package, actor=actor(request))
        messages.success(
            request, f'Package "{package.name}" deactivated: it can no longer be ordered.'
        )
    return redirect("web:package_edit", package_id=package.pk)


@staff_required
def package_activate(request, package_id: int):
    package = get_package(package_id)
    if request.method == "POST":
        actions.activate_package(package, actor=actor(request))
        messages.success(request, f'Package "{package.name}" is active again.')
    return redirect("web:package_edit", package_id=package.pk)


def _option_page(request, package, option=None):
    """Add (option None) or edit an option: name, kind and the values grid."""
    option_prices = (
        ConfigOptionPrice.objects.filter(value__option=option).order_by("pk") if option else []
    )
    columns = term_columns(package.prices.all(), option_prices)
    initial = {"name": option.name, "kind": option.kind} if option else None
    form = OptionForm(request.POST or None, initial=initial)
    values = ValueFormSet(
        request.POST or None,
        prefix="values",
        initial=value_initial(option.values.all(), columns) if option else [],
        form_kwargs={"columns": columns},
    )
    if request.method == "POST" and _valid(form, values):
        table = values_from(values, columns)
        data = {**form.cleaned_data, "values": table.items}
        try:
            if option is None:
                saved = actions.add_option(
                    package, data, actor=actor(request), unreadable=table.errors
                )
            else:
                saved = actions.update_option(
                    option, data, actor=actor(request), unreadable=table.errors
                )
        except DomainError as exc:
            put_errors(exc, form, "values", values, table, grid=True)
        else:
            messages.success(request, f'Option "{saved.name}" saved.')
            return redirect("web:package_edit", package_id=package.pk)
    return render(
        request,
        "web/packages/option_form.html",
        {
            "company": package.company,
            "package": package,
            "option": option,
            "form": form,
            "values": values,
            "columns": columns,
        },
        status=422 if form.errors or any(values.errors) else 200,
    )


@staff_required
def option_add(request, package_id: int):
    return _option_page(request, get_package(package_id))


@staff_required
def option_edit(request, option_id: int):
    option = get_option(option_id)
    return _option_page(request, get_package(option.package_id), option)


@staff_required
def option_delete(request, option_id: int):
    option = get_option(option_id)
    if request.method == "POST":
        try:
            actions.delete_option(option, actor=actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("web:option_edit", option_id=option.pk)
        messages.success(request, f'Option "{option.name}" deleted.')
    return redirect("web:package_edit", package_id=option.package_id)
