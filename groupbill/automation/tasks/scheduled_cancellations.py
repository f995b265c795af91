"""scheduled_cancellations: carry out end-of-term cancellations that are due (voiding open
invoices as `void_invoices_on_cancel` / `void_on_cancel_max_days_past_due` say)."""

from functools import partial

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE, unless_done
from groupbill.automation.view import CompanyView
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceStatus

NAME = "scheduled_cancellations"


def _due(view: CompanyView):
    return Service.objects.filter(
        client__company=view.company, cancel_at__isnull=False, cancel_at__lte=view.today
    ).exclude(status=ServiceStatus.CANCELED)


def due(view: CompanyView):
    return _due(view).values("client_id")


def _carry_out(view: CompanyView, service_id: int) -> None:
    service = Service.objects.get(pk=service_id)
    reason = service.cancel_reason or "scheduled cancellation"
    services.cancel(service, actor=ENGINE, today=view.today, when="now", reason=reason)


def _cancel(view: CompanyView, service_id: int) -> bool:
    pending = Service.objects.filter(pk=service_id).exclude(status=ServiceStatus.CANCELED)
    return unless_done(pending.exists, partial(_carry_out, view, service_id))


def plan(view: CompanyView) -> list[Action]:
    due = view.scoped(_due(view))
    return [
        Action(
            f"cancel:{s.pk}",
            f"Cancel service #{s.pk} (scheduled for {s.cancel_at})",
            partial(_cancel, view, s.pk),
            s.client_id,
            atomic=False,
        )
        for s in due.order_by("pk")
    ]
