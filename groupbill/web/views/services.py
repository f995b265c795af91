"""The service page (status, periods, options, history, changes) and ordering."""

from datetime import date

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from groupbill.catalog.models import PackagePrice
from groupbill.clients.models import Client
from groupbill.clock import now
from groupbill.companies.queries import company_today
from groupbill.errors import DomainError, ValidationFailed
from groupbill.services import actions as services
from groupbill.services.models import Service
from groupbill.ui.posted import run_posted
from groupbill.validation import parse_id
from groupbill.web.views.common import actor, staff_required


def _act(request, service: Service) -> str:
    who = actor(request)
    reason = request.POST.get("reason", "").strip()
    today = company_today(service.client.company)
    match request.POST.get("action"):
        case "provision":
            services.provision(service, actor=who)
            return "Provisioned and active."
        case "suspend":
            if not reason:
                raise ValidationFailed.one("reason", "Say why the service is suspended.")
            services.suspend(service, actor=who, reason=reason)
            return "Suspended."
        case "unsuspend":
            services.unsuspend(service, actor=who, reason=reason)
            return "Unsuspended."
        case "cancel_now":
            services.cancel(service, actor=who, today=today, when="now", reason=reason)
            return "Cancelled."
        case "cancel_end":
            service = services.cancel(service, actor=who, today=today, when="end_of_term",
                                      reason=reason)  # fmt: skip
            return f"Cancellation scheduled for {service.cancel_at}."
        case "unschedule":
            services.unschedule_cancellation(service, actor=who)
            return "Scheduled cancellation removed."
        case "renewal_retry":
            ok = services.retry_renewal(service, actor=who, at=now(), today=today)
            return "Renewed." if ok else "The module refused again; the engine keeps trying."
        case "renewal_clear":
            services.clear_renewal_failed(service, actor=who)
            return "Renewal flag cleared; the engine will try again."
    raise ValidationFailed.one("action", "unknown action")


@staff_required
def service_detail(request, service_id: int):
    service = get_object_or_404(
        Service.objects.select_related("client__company", "package", "pricing", "parent"),
        pk=service_id,
    )
    if request.method == "POST":
        run_posted(request, lambda: _act(request, service))
        return redirect("web:service_detail", service_id=service.pk)
    return render(
        request,
        "web/services/detail.html",
        {
            "service": service,
            "client": service.client,
            "options": service.options.select_related("option", "value"),
            "addons": service.addons.select_related("package"),
            "history": service.history.all(),
            "changes": service.changes.select_related("invoice"),
            "lines": service.lines.select_related("invoice").order_by("-invoice_id", "position"),
        },
    )


@staff_required
def service_order(request, client_id: int):
    client = get_object_or_404(Client.objects.select_related("company"), pk=client_id)
    if request.method != "POST":
        return redirect("web:client_detail", client_id=client.pk)
    pricing = (
        PackagePrice.objects.filter(
            pk=parse_id(request.POST.get("pricing")), package__company=client.company
        )
        .select_related("package")
        .first()
    )
    parent = client.services.filter(pk=parse_id(request.POST.get("parent"))).first()
    try:
        if pricing is None:
            raise ValidationFailed.one("pricing", "Choose a package and term.")
        start = request.POST.get("start_on")
        start_on = date.fromisoformat(start) if start else company_today(client.company)
        quantity = int(request.POST.get("quantity") or 1)
        service = services.add_service(
            client, pricing=pricing, start_on=start_on, quantity=quantity, parent=parent,
            actor=actor(request),
        )  # fmt: skip
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", "Check the start date and quantity."))
        return redirect("web:client_detail", client_id=client.pk)
    messages.success(request, f"{service} ordered; invoice {service.first_invoice.number} is open.")
    return redirect("web:service_detail", service_id=service.pk)
