"""Reads of services that the API and the UI share."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet

from groupbill.clients.queries import client_sort, primary_contacts
from groupbill.errors import NotFound
from groupbill.listing import filtered, ordered
from groupbill.services.models import Service, ServiceChange, ServiceOption


def services() -> QuerySet[Service]:
    """Services by id, with package, price, client's company and chosen options."""
    return (
        Service.objects.order_by("pk")
        .select_related("package", "pricing", "client__company")
        .prefetch_related(
            Prefetch(
                "options",
                queryset=ServiceOption.objects.select_related("option", "value").order_by("pk"),
            )
        )
    )


def get_service(service_id: int) -> Service:
    service = services().filter(pk=service_id).first()
    if service is None:
        raise NotFound(f"Service {service_id} does not exist.")
    return service


def changes(service: Service | None = None) -> QuerySet[ServiceChange]:
    queryset = ServiceChange.objects.all() if service is None else service.changes.all()
    return queryset.select_related("service__pricing").order_by("pk")


def get_change(change_id: int) -> ServiceChange:
    change = changes().filter(pk=change_id).first()
    if change is None:
        raise NotFound(f"Service change {change_id} does not exist.")
    return change


SEARCH_LIMIT = 20


@dataclass(frozen=True)
class ServiceFilter:
    """What the services list shows; renewal dates are inclusive."""

    status: str = ""
    company_id: int | None = None
    group_id: int | None = None
    client_id: int | None = None
    package_id: int | None = None
    currency: str = ""
    renew_from: date | None = None
    renew_to: date | None = None


SERVICE_SORTS = {
    "id": (),
    "package": ("package__name",),
    "client": ("client_sort",),
    "status": ("status",),
    "renews": ("renew_date",),
    "price": ("pricing__price",),
}


def service_list(filters: ServiceFilter, sort: str = "-id") -> QuerySet[Service]:
    """Services across clients, filtered and sorted, with package, price, client (group,
    company, primary contact): a constant number of queries per page."""
    queryset = filtered(Service.objects.all(), (
        ("status", filters.status),
        ("client__company_id", filters.company_id),
        ("client__group_id", filters.group_id),
        ("client_id", filters.client_id),
        ("package_id", filters.package_id),
        ("pricing__currency", filters.currency),
        ("renew_date__gte", filters.renew_from),
        ("renew_date__lte", filters.renew_to),
    ))  # fmt: skip
    if sort.removeprefix("-") == "client":
        queryset = queryset.annotate(client_sort=client_sort())
    return (
        ordered(queryset, sort, SERVICE_SORTS)
        .select_related("package", "pricing", "client__group", "client__company")
        .prefetch_related(primary_contacts("client__"))
    )


def search_services(
    text: str, limit: int = SEARCH_LIMIT, company_ids: list[int] | None = None
) -> list[Service]:
    """Services by id ("42", "#42") or by label (their package's name, any part of it), of
    these companies only (None: every company)."""
    text = text.strip()
    digits = text.lstrip("#")
    if digits.isdigit() and len(digits) <= 18:
        found = Q(pk=int(digits))
    elif len(text) >= 2:
        found = Q(package__name__icontains=text)
    else:
        return []
    if company_ids is not None:
        found &= Q(client__company_id__in=company_ids)
    return list(service_list(ServiceFilter()).filter(found)[: limit + 1])
