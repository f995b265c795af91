"""service_changes: a queued change whose invoice is paid is applied; one whose invoice is
still open `cancel_service_changes_days_after_due` days after its due date (or voided) is
cancelled, its payments going back to the client as credit."""

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE, client_groups, unless_done
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


def plan(view: CompanyView) -> list[Action]:
    groups = client_groups(view)
    actions = []
    for change in (
        view.scoped(_queued(view), "service__client_id")
        .select_related("invoice", "service")
        .order_by("pk")
    ):
        client_id = change.service.client_id
        invoice = change.invoice
        if invoice.status == InvoiceStatus.PAID:

            def apply(change_id=change.pk) -> bool:
                return unless_done(
                    _queued(view).filter(pk=change_id).exists,
                    lambda: services.apply_queued_change(
                        ServiceChange.objects.get(pk=change_id), actor=ENGINE
                    ),
                )

            actions.append(
                Action(
                    f"change:{change.pk}:apply",
                    f"Apply paid change #{change.pk} of service #{change.service_id}",
                    apply,
                    client_id,
                    atomic=False,
                )
            )
            continue
        limit = view.value("cancel_service_changes_days_after_due", groups[client_id])
        late = (view.today - invoice.due_on).days if invoice.due_on else 0
        if invoice.status == InvoiceStatus.VOID or late >= limit:
            reason = f"{invoice} unpaid {late} days after its due date"

            def cancel(change_id=change.pk, reason=reason) -> bool:
                return unless_done(
                    _queued(view).filter(pk=change_id).exists,
                    lambda: services.cancel_queued_change(
                        ServiceChange.objects.get(pk=change_id), actor=ENGINE, reason=reason
                    ),
                )

            actions.append(
                Action(
                    f"change:{change.pk}:cancel",
                    f"Cancel change #{change.pk}: {reason}",
                    cancel,
                    client_id,
                    atomic=False,
                )
            )
    return actions
