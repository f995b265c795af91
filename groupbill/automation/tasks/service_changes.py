"""service_changes: a queued change whose invoice is paid is applied; one whose invoice is
still open `cancel_service_changes_days_after_due` days after its due date (or voided) is
cancelled, its payments going back to the client as credit."""

from functools import partial

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE, unless_done
from groupbill.automation.view import CompanyView
from groupbill.billing.models import InvoiceStatus
from groupbill.services import actions as services
from groupbill.services.models import ChangeStatus, ServiceChange

NAME = "service_changes"


def _queued(view: CompanyView):
    return ServiceChange.objects.filter(
        service__client__company=view.company, status=ChangeStatus.QUEUED
    )


def due(view: CompanyView):
    return _queued(view).values("service__client_id")


def _apply_change(view: CompanyView, change_id: int) -> bool:
    return unless_done(
        _queued(view).filter(pk=change_id).exists,
        lambda: services.apply_queued_change(ServiceChange.objects.get(pk=change_id), actor=ENGINE),
    )


def _cancel_change(view: CompanyView, change_id: int, reason: str) -> bool:
    return unless_done(
        _queued(view).filter(pk=change_id).exists,
        lambda: services.cancel_queued_change(
            ServiceChange.objects.get(pk=change_id), actor=ENGINE, reason=reason
        ),
    )


def plan(view: CompanyView) -> list[Action]:
    actions = []
    for change in (
        view.scoped(_queued(view), "service__client_id")
        .select_related("invoice", "service")
        .order_by("pk")
    ):
        client_id = change.service.client_id
        invoice = change.invoice
        if invoice.status == InvoiceStatus.PAID:
            actions.append(
                Action(
                    f"change:{change.pk}:apply",
                    f"Apply paid change #{change.pk} of service #{change.service_id}",
                    partial(_apply_change, view, change.pk),
                    client_id,
                    atomic=False,
                )
            )
            continue
        limit = view.for_client(client_id).value("cancel_service_changes_days_after_due")
        late = (view.today - invoice.due_on).days if invoice.due_on else 0
        if invoice.status == InvoiceStatus.VOID or late >= limit:
            reason = f"{invoice} unpaid {late} days after its due date"
            actions.append(
                Action(
                    f"change:{change.pk}:cancel",
                    f"Cancel change #{change.pk}: {reason}",
                    partial(_cancel_change, view, change.pk, reason),
                    client_id,
                    atomic=False,
                )
            )
    return actions
