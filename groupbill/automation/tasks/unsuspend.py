"""unsuspend: a service suspended automatically is unsuspended once it has no past-due
open invoice left (the payment itself does this at once; this task catches the rest, e.g.
an invoice voided or a due date moved). A suspension made as of a later moment than the
run's is left alone: rerunning an earlier day never reverses a later decision."""

from functools import partial

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE, unless_done
from groupbill.automation.tasks.past_due import oldest_past_due
from groupbill.automation.view import CompanyView
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceStatus, SuspendedBy

NAME = "unsuspend"


def _suspended(view: CompanyView):
    return Service.objects.filter(
        client__company=view.company,
        status=ServiceStatus.SUSPENDED,
        suspended_by=SuspendedBy.AUTOMATIC,
    )


def due(view: CompanyView):
    return _suspended(view).values("client_id")


def _unsuspend(service_id: int) -> bool:
    return unless_done(
        Service.objects.filter(pk=service_id, status=ServiceStatus.SUSPENDED).exists,
        lambda: services.unsuspend(Service.objects.get(pk=service_id), actor=ENGINE,
                                   reason="no past-due invoice left"),
    )  # fmt: skip


def plan(view: CompanyView) -> list[Action]:
    # A run as of an earlier moment than a suspension does not undo it: time goes one way.
    suspended = view.scoped(_suspended(view)).exclude(suspended_at__gt=view.as_of).order_by("pk")
    if not suspended.exists():
        return []
    overdue = oldest_past_due(view)
    return [
        Action(
            f"unsuspend:{s.pk}:{view.today}",
            f"Unsuspend service #{s.pk}",
            partial(_unsuspend, s.pk),
            s.client_id,
            atomic=False,
        )
        for s in suspended
        if s.pk not in overdue
    ]
