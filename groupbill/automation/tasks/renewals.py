"""renewals: once a renewal period's invoice is paid, the service's module is asked to
renew it. Failed attempts are retried every pass until `renewal_spacing_threshold_1`
failures, then every `renewal_spacing_hours_1` hours, from `renewal_spacing_threshold_2`
every `renewal_spacing_hours_2` hours; at the `service_renewal_attempts`-th failure the
service is flagged "renewal failed" and the company's staff address is told."""

from datetime import timedelta
from functools import partial

from groupbill.automation.plan import Action, Failed
from groupbill.automation.tasks.common import ENGINE
from groupbill.automation.view import CompanyView
from groupbill.billing.models import InvoiceStatus
from groupbill.notices import outbox
from groupbill.services import actions as services
from groupbill.services.models import BilledPeriod, Service, ServiceStatus

NAME = "renewals"


def _wait(view: CompanyView, client_id: int, attempts: int) -> timedelta:
    settings = view.for_client(client_id)
    if attempts >= settings.value("renewal_spacing_threshold_2"):
        return timedelta(hours=settings.value("renewal_spacing_hours_2"))
    if attempts >= settings.value("renewal_spacing_threshold_1"):
        return timedelta(hours=settings.value("renewal_spacing_hours_1"))
    return timedelta(0)


def _give_up(view: CompanyView, service: Service, billed: BilledPeriod) -> None:
    """Flag the service "renewal failed" and tell the company's staff address, once per
    flagging: after staff clear the flag, a new run of failures tells them again."""
    flagged = services.flag_renewal_failed(service, actor=ENGINE)
    times = flagged.history.filter(event="renewal_failed").count()
    company = view.company
    outbox.queue(
        key=f"renewal_failed:{service.pk}:{billed.period}:{times}",
        company_id=company.pk,
        client_id=service.client_id,
        template="renewal_failed",
        recipients=[{"name": company.name, "email": company.notify_email}]
        if company.notify_email
        else [],
        context={
            "service_id": service.pk,
            "package": service.package.name,
            "attempts": flagged.renewal_attempts,
            "period_start": billed.start.isoformat(),
        },
    )


def _waiting(view: CompanyView):
    return BilledPeriod.objects.filter(
        service__client__company=view.company,
        service__status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED],
        service__renewal_failed=False,
        renewed_at__isnull=True,
        skipped=False,
        invoice__status=InvoiceStatus.PAID,
    )


def due(view: CompanyView):
    return _waiting(view).values("service__client_id")


def _flag(view: CompanyView, service: Service, billed: BilledPeriod) -> bool:
    _give_up(view, service, billed)
    return True


def _renew(view: CompanyView, service: Service, billed: BilledPeriod, limit: int):
    ok = services.renew(service, billed, at=view.as_of, today=view.today, actor=ENGINE)
    if ok:
        return True
    if Service.objects.get(pk=service.pk).renewal_attempts >= limit:
        _give_up(view, service, billed)  # the last attempt: flagged at once
    return Failed(f"the module refused to renew service #{service.pk}")


def plan(view: CompanyView) -> list[Action]:
    waiting = (
        view.scoped(_waiting(view), "service__client_id")
        .select_related("service__package")
        .order_by("service_id", "period")
    )
    actions, seen = [], set()
    for billed in waiting:
        service = billed.service
        if service.pk in seen:
            continue  # one period at a time, oldest first
        seen.add(service.pk)
        limit = view.for_client(service.client_id).value("service_renewal_attempts")
        if service.renewal_attempts >= limit:  # e.g. the limit was lowered since
            actions.append(
                Action(
                    f"renewal:{service.pk}:{billed.period}:failed",
                    f"Flag service #{service.pk} renewal failed",
                    partial(_flag, view, service, billed),
                    service.client_id,
                    atomic=False,
                )
            )
            continue
        last = service.last_renewal_attempt_at
        wait = _wait(view, service.client_id, service.renewal_attempts)
        if last is not None and view.as_of < last + wait:
            continue
        actions.append(
            Action(
                f"renewal:{service.pk}:{billed.period}:{view.as_of.isoformat()}",
                f"Renew service #{service.pk} for the period from {billed.start}",
                partial(_renew, view, service, billed, limit),
                service.client_id,
                atomic=False,
            )
        )
    return actions
