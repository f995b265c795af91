"""The filter forms of the staff lists (invoices, payments, services): GET parameters read
into the domain's filters, with a message for each value that cannot be read (that filter
is then left out). Their choices (companies, groups, packages, gateways, currencies) are
the user's companies' only: `company_ids`, None for every company."""

import csv
from collections.abc import Callable, Iterable
from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse

from groupbill.billing import queries as billing_queries
from groupbill.billing.models import InvoiceStatus, TransactionKind, TransactionStatus
from groupbill.catalog.models import Package
from groupbill.clients.models import ClientGroup
from groupbill.companies.models import Company
from groupbill.services import queries as service_queries
from groupbill.services.models import ServiceStatus

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
DATE = forms.DateInput(attrs={"type": "date"})


def _any(choices: Iterable[tuple]) -> list[tuple]:
    return [("", "Any"), *choices]


class ListForm(forms.Form):
    """Company, group, currency and paging, shared by every list."""

    company = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    group = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    client = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    currency = forms.ChoiceField(required=False)
    per = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=DEFAULT_PAGE_SIZE,
        choices=[(n, n) for n in PAGE_SIZES],
        label="Per page",
    )

    sorts: dict = {}
    default_sort = "-id"
    field_order = ["status", "kind", "gateway", "package"]  # what is filtered most first

    def __init__(self, data, currencies: list[str], company_ids: list[int] | None):
        data = data.copy()
        data.setdefault("per", str(DEFAULT_PAGE_SIZE))  # the select shows the size in use
        super().__init__(data)
        self.company_ids = company_ids
        companies = list(
            self.mine(Company.objects, "pk").order_by("name").values_list("pk", "name")
        )
        self.fields["company"].choices = _any(companies)
        groups = self.mine(ClientGroup.objects).select_related("company")
        groups = groups.order_by("company__name", "name")
        several = len(companies) > 1
        self.fields["group"].choices = _any(
            (g.pk, f"{g.company.name} · {g.name}" if several else g.name) for g in groups
        )
        self.fields["currency"].choices = _any((c, c) for c in currencies)

    def mine(self, queryset, field: str = "company_id"):
        """Only the rows of the user's companies."""
        ids = self.company_ids
        return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})

    def value(self, name: str):
        """A cleaned value; a field that could not be read filters nothing."""
        self.is_valid()
        return self.cleaned_data.get(name) or None

    @property
    def sort(self) -> str:
        sort = self.data.get("sort") or self.default_sort
        return sort if sort.removeprefix("-") in self.sorts else self.default_sort

    def page(self, queryset, number):
        return Paginator(queryset, self.value("per") or DEFAULT_PAGE_SIZE).get_page(number)

    def problems(self) -> list[str]:
        self.is_valid()
        return [
            f"{self.fields[f].label or f.capitalize()}: {' '.join(e)} (not applied)"
            for f, e in self.errors.items()
        ]


class InvoiceFilterForm(ListForm):
    status = forms.ChoiceField(
        required=False, choices=_any([*InvoiceStatus.choices, ("overdue", "Overdue")])
    )
    issued_from = forms.DateField(required=False, widget=DATE, label="Issued from")
    issued_to = forms.DateField(required=False, widget=DATE, label="Issued to")
    due_from = forms.DateField(required=False, widget=DATE, label="Due from")
    due_to = forms.DateField(required=False, widget=DATE, label="Due to")

    sorts = billing_queries.INVOICE_SORTS

    def filters(self) -> billing_queries.InvoiceFilter:
        names = ("status", "company", "group", "client", "currency", "issued_from", "issued_to",
                 "due_from", "due_to")  # fmt: skip
        values = {n: self.value(n) for n in names}
        return billing_queries.InvoiceFilter(
            status=values["status"] or "", company_id=values["company"],
            group_id=values["group"], client_id=values["client"],
            currency=values["currency"] or "", issued_from=values["issued_from"],
            issued_to=values["issued_to"], due_from=values["due_from"], due_to=values["due_to"],
        )  # fmt: skip


class TransactionFilterForm(ListForm):
    kind = forms.ChoiceField(required=False, choices=_any(TransactionKind.choices))
    status = forms.ChoiceField(required=False, choices=_any(TransactionStatus.choices))
    gateway = forms.ChoiceField(required=False, label="Gateway / method")
    date_from = forms.DateField(required=False, widget=DATE, label="Date from")
    date_to = forms.DateField(required=False, widget=DATE, label="Date to")

    sorts = billing_queries.TRANSACTION_SORTS
    default_sort = "-date"

    def __init__(self, data, currencies: list[str], company_ids: list[int] | None):
        super().__init__(data, currencies, company_ids)
        gateways = billing_queries.gateways(company_ids)
        self.fields["gateway"].choices = _any((g, g) for g in gateways)

    def filters(self) -> billing_queries.TransactionFilter:
        v = self.value
        return billing_queries.TransactionFilter(
            kind=v("kind") or "", status=v("status") or "", gateway=v("gateway") or "",
            company_id=v("company"), group_id=v("group"), client_id=v("client"),
            currency=v("currency") or "", date_from=v("date_from"), date_to=v("date_to"),
        )  # fmt: skip


class ServiceFilterForm(ListForm):
    status = forms.ChoiceField(required=False, choices=_any(ServiceStatus.choices))
    package = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    renew_from = forms.DateField(required=False, widget=DATE, label="Renews from")
    renew_to = forms.DateField(required=False, widget=DATE, label="Renews to")

    sorts = service_queries.SERVICE_SORTS

    def __init__(self, data, currencies: list[str], company_ids: list[int] | None):
        super().__init__(data, currencies, company_ids)
        packages = self.mine(Package.objects).order_by("company__name", "name")
        self.fields["package"].choices = _any((p.pk, p.name) for p in packages)

    def filters(self) -> service_queries.ServiceFilter:
        v = self.value
        return service_queries.ServiceFilter(
            status=v("status") or "", company_id=v("company"), group_id=v("group"),
            client_id=v("client"), package_id=v("package"), currency=v("currency") or "",
            renew_from=v("renew_from"), renew_to=v("renew_to"),
        )  # fmt: skip


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: list[str], rows: Iterable, row: Callable
) -> StreamingHttpResponse:
    """A CSV file streamed as it is written: `row(item)` is one line's values."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for item in rows:
            yield writer.writerow(row(item))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""
