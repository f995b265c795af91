"""Reads of services that the API and the UI share."""

from django.db.models import Prefetch, QuerySet

from groupbill.errors import NotFound
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
