"""renewals: once a renewal period's invoice is paid, the service's module is asked to
renew it. Failed attempts are retried every pass until `renewal_spacing_threshold_1`
failures, then every `renewal_spacing_hours_1` hours, from `renewal_spacing_threshold_2`
every `renewal_spacing_hours_2` hours; after `service_renewal_attempts` failures the
service is flagged "renewal failed" and the company's staff address is told."""

from datetime import timedelta

from groupbill.automation.plan import Action, Failed
from groupbill.automation.tasks.common import ENGINE, client_groups
from groupbill.automation.view import CompanyView
from groupbill.billing.models import InvoiceStatus
from groupbill.notices import outbox
from groupbill.services import actions as services
from groupbill.services.models import BilledPeriod, ServiceStatus

NAME = "renewals"


def _wait(view: CompanyView, group_id: int, attempts: int) -> timedelta:
    if attempts >= view.value("renewal_spacing_threshold_2", group_id):
        return timedelta(hours=view.value("renewal_spacing_hours_2", group_id))
    if attempts >= view.value("renewal_spacing_threshold_1", group_id):
        return timedelta(hours=view.value("renewal_spacing_hours_1", group_id))
    return timedelta(0)


def plan(view: CompanyView) -> list[Action]:
    groups = client_groups(view)
    waiting = (
        BilledPeriod.objects.filter(
            service__client__company=view.company,
            service__status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED],
            service__renewal_failed=False,
            renewed_at__isnull=True,
            skipped=False,
            invoice__status=InvoiceStatus.PAID,
        )
        .select_related("service__package")
        .order_by("service_id", "period")
    )
    actions, seen = [], set()
    for billed in waiting:
        service = billed.service
        if service.pk in seen:
            continue  # one period at a time, oldest first
        seen.add(service.pk)
        group_id = groups[service.client_id]
        if service.renewal_attempts >= view.value("service_renewal_attempts", group_id):

            def give_up(service=service, billed=billed) -> bool:
                flagged = services.flag_renewal_failed(service, actor=ENGINE)
                outbox.queue(
                    key=f"renewal_failed:{service.pk}:{billed.period}",
                    company_id=view.company.pk,
                    client_id=service.client_id,
                    template="renewal_failed",
                    recipients=[{"name": view.company.name, "email": view.company.notify_email}]
                    if view.company.notify_email
                    else [],
                    context={
                        "service_id": service.pk,
                        "package": service.package.name,
                        "attempts": flagged.renewal_attempts,
                        "period_start": billed.start.isoformat(),
                    },
                )
                return True

            actions.append(
                Action(
                    f"renew:{service.pk}:{billed.period}:failed",
                    f"Flag service #{service.pk} renewal failed",
                    give_up,
                    service.client_id,
                )
            )
            continue
        last = service.last_renewal_attempt_at
        if last is not None and view.as_of < last + _wait(view, group_id, service.renewal_attempts):
            continue

        def renew(service=service, billed=billed):
            ok = services.renew(service, billed, at=view.as_of, today=view.today, actor=ENGINE)
            return True if ok else Failed(f"the module refused to renew service #{service.pk}")

        actions.append(
            Action(
                f"renew:{service.pk}:{billed.period}:{view.as_of.isoformat()}",
                f"Renew service #{service.pk} for the period from {billed.start}",
                renew,
                service.client_id,
            )
        )
    return actions
