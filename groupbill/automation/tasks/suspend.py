"""suspend: an active service with an open invoice `suspend_services_days_after_due` days
past due (or more) is suspended, unless that is "never", the client has auto-suspend off,
or its suspension is delayed past today."""

from functools import partial

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE, unless_done
from groupbill.automation.tasks.past_due import oldest_past_due
from groupbill.automation.view import CompanyView
from groupbill.billing.models import InvoiceLine, InvoiceStatus
from groupbill.clients.models import Client
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceStatus, SuspendedBy

NAME = "suspend"


def due(view: CompanyView):
    return InvoiceLine.objects.filter(
        invoice__company=view.company,
        invoice__status=InvoiceStatus.OPEN,
        invoice__due_on__lt=view.today,
        service__status=ServiceStatus.ACTIVE,
        credit_line__isnull=True,
    ).values("invoice__client_id")


def _suspend(service_id: int, reason: str, cause: str) -> bool:
    return unless_done(
        Service.objects.filter(pk=service_id, status=ServiceStatus.ACTIVE).exists,
        lambda: services.suspend(Service.objects.get(pk=service_id), actor=ENGINE,
                                 reason=reason, by=SuspendedBy.AUTOMATIC, cause=cause),
    )  # fmt: skip


def plan(view: CompanyView) -> list[Action]:
    overdue = oldest_past_due(view)
    if not overdue:
        return []
    clients = {
        pk: (autosuspend, delayed)
        for pk, autosuspend, delayed in view.scoped(
            Client.objects.filter(company=view.company), "pk"
        ).values_list("pk", "autosuspend", "suspension_delayed_until")
    }
    actions = []
    for service in Service.objects.filter(
        pk__in=list(overdue), status=ServiceStatus.ACTIVE
    ).order_by("pk"):
        autosuspend, delayed = clients[service.client_id]
        limit = view.for_client(service.client_id).value("suspend_services_days_after_due")
        due_on, number, invoice_id = overdue[service.pk]
        days = (view.today - due_on).days
        if limit == "never" or days < limit or not autosuspend:
            continue
        if delayed is not None and delayed > view.today:
            continue  # a delay until a day protects the days before it, not that day
        reason = f"Invoice {number} is {days} days past due"

        # The invoice is the cause: however often the service is suspended for it (staff
        # may lift a suspension before it is paid), the client is told once.
        cause = f"invoice:{invoice_id}"
        actions.append(
            Action(
                f"suspend:{service.pk}:{view.today}",
                f"Suspend service #{service.pk}: {reason}",
                partial(_suspend, service.pk, reason, cause),
                service.client_id,
                atomic=False,
            )
        )
    return actions
