"""A company's outgoing webhooks: its endpoints (add one, whose secret is shown once on
the answer to the add; switch on or off; delete) and their recent deliveries with the
last response, each with Redeliver. The domain is notices.webhooks."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from groupbill.companies.queries import get_company
from groupbill.errors import DomainError
from groupbill.notices import webhooks
from groupbill.notices.models import WebhookDelivery, WebhookEndpoint
from groupbill.web.views.common import actor, staff_required

RECENT = 50  # deliveries shown per company


def _page(request, company, *, data=None, errors=None, created=None, status=200):
    endpoints = list(WebhookEndpoint.objects.filter(company=company).order_by("pk"))
    deliveries = (
        WebhookDelivery.objects.filter(company=company)
        .select_related("endpoint")
        .prefetch_related(Prefetch("attempt_log"))
        .order_by("-pk")[:RECENT]
    )
    context = {
        "company": company,
        "endpoints": endpoints,
        "deliveries": deliveries,
        "event_types": webhooks.EVENT_TYPES.items(),
        "data": data or {"url": "", "description": "", "event_types": []},
        "errors": {e.field: e.message for e in errors or []},
        "created": created,
    }
    return render(request, "web/webhooks/list.html", context, status=status)


@staff_required
def webhook_list(request, company_id: int):
    company = get_company(company_id)
    if request.method != "POST":
        return _page(request, company)
    data = {
        "url": request.POST.get("url", ""),
        "description": request.POST.get("description", ""),
        "event_types": request.POST.getlist("event_types"),
    }
    try:
        endpoint, secret = webhooks.create_endpoint(company, data, actor=actor(request))
    except DomainError as exc:
        if not exc.errors:
            messages.error(request, exc.message)
        return _page(request, company, data=data, errors=exc.errors, status=422)
    # Rendered, not redirected: the secret must not travel through a session or a cookie.
    return _page(request, company, created={"endpoint": endpoint, "secret": secret}, status=201)


def _endpoint(company_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(pk=endpoint_id, company_id=company_id).first()


@staff_required
@require_POST
def webhook_toggle(request, company_id: int, endpoint_id: int):
    endpoint = _endpoint(company_id, endpoint_id)
    if endpoint is not None:
        endpoint = webhooks.update_endpoint(endpoint, {"active": not endpoint.active},
                                            actor=actor(request))  # fmt: skip
        state = "on" if endpoint.active else "off"
        messages.success(request, f"Webhook endpoint {endpoint.url} is {state}.")
    return redirect("web:webhook_list", company_id=company_id)


@staff_required
@require_POST
def webhook_delete(request, company_id: int, endpoint_id: int):
    endpoint = _endpoint(company_id, endpoint_id)
    if endpoint is not None:
        webhooks.delete_endpoint(endpoint, actor=actor(request))
        messages.success(request, f"Webhook endpoint {endpoint.url} deleted, with its deliveries.")
    return redirect("web:webhook_list", company_id=company_id)


@staff_required
@require_POST
def webhook_redeliver(request, company_id: int, delivery_id: int):
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, company_id=company_id).first()
    if delivery is None:
        messages.error(request, f"Delivery #{delivery_id} does not exist.")
    else:
        try:
            webhooks.redeliver(delivery, actor=actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Delivery #{delivery.pk} ({delivery.event_type}) is "
                             "queued again: the next outbox pass sends it.")  # fmt: skip
    return redirect("web:webhook_list", company_id=company_id)
