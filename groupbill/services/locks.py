"""Locking services, in the one order of `billing.lock_objects`: their client first, then
the services by id, then invoices."""

from collections.abc import Iterable

from groupbill.billing import lock_objects
from groupbill.services.models import Service


def services(service_ids: Iterable[int], *related: str) -> list[Service]:
    """Lock the services (by id) and return them, read under the lock (with `related`
    rows joined, not locked)."""
    lock_objects.enter(lock_objects.SERVICES)
    rows = Service.objects.filter(pk__in=list(service_ids))
    if related:  # select_related() with no names would join every foreign key
        rows = rows.select_related(*related)
    return list(lock_objects.for_update(rows).order_by("pk"))


def service_rows(service_ids: Iterable[int], fields: list[str]) -> list[tuple]:
    """Lock the services (by id) and return `fields` of each, as tuples: for set-based
    work on thousands of services, where model instances cost more than the work."""
    lock_objects.enter(lock_objects.SERVICES)
    rows = lock_objects.for_update(Service.objects.filter(pk__one_of=service_ids)).order_by("pk")
    return list(rows.values_list(*fields))


def service(service_id: int) -> Service:
    """Lock a service's client, then the service; return the service read under the lock."""
    client_id = Service.objects.filter(pk=service_id).values_list("client_id", flat=True).get()
    lock_objects.client(client_id)
    [locked] = services([service_id])
    return locked
