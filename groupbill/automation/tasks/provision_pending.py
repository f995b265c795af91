"""provision_pending: with `auto_provision_paid_pending`, a pending service whose order
invoice is paid is provisioned through its module and activated. A module failure is
reported and tried again on the next run."""

from functools import partial

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE, unless_done
from groupbill.automation.view import CompanyView
from groupbill.billing.models import InvoiceStatus
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceStatus

NAME = "provision_pending"


def _paid_pending(view: CompanyView):
    return Service.objects.filter(
        client__company=view.company,
        status=ServiceStatus.PENDING,
        billed_periods__invoice__status=InvoiceStatus.PAID,
    )


def due(view: CompanyView):
    return _paid_pending(view).values("client_id")


def _provision(service_id: int) -> bool:
    return unless_done(
        Service.objects.filter(pk=service_id, status=ServiceStatus.PENDING).exists,
        lambda: services.provision(Service.objects.get(pk=service_id), actor=ENGINE),
    )


def plan(view: CompanyView) -> list[Action]:
    paid_pending = view.scoped(_paid_pending(view)).distinct().order_by("pk")
    return [
        Action(
            f"provision:{s.pk}",
            f"Provision service #{s.pk}",
            partial(_provision, s.pk),
            s.client_id,
            atomic=False,
        )
        for s in paid_pending
        if view.for_client(s.client_id).value("auto_provision_paid_pending")
    ]
