"""Services, and what a client may do to them: each action previews its price effect
(a rolled-back dry run of the action itself) and runs only when confirmed by a POST."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render

from groupbill.companies.queries import company_today
from groupbill.errors import DomainError
from groupbill.portal import actions, once, queries
from groupbill.portal.dates import day_text
from groupbill.portal.preview import dry_run
from groupbill.portal.views.common import client_required, own
from groupbill.services.models import ChangeStatus, Service, ServiceStatus
from groupbill.settings_catalog.effective import ClientSettings
from groupbill.validation import parse_id


def _services():
    return Service.objects.select_related("package", "pricing", "parent__package")


@client_required
def service_list(request):
    services = _services().filter(client=request.client).order_by("status", "pk")
    return render(request, "portal/services/list.html", {"services": services})


@client_required
def service_detail(request, service_id: int):
    service = own(_services(), request, service_id)
    settings = ClientSettings.of(request.client.pk)
    open_service = service.status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
    return render(
        request,
        "portal/services/detail.html",
        {
            "service": service,
            "addons": service.addons.select_related("package").order_by("pk"),
            "changes": service.changes.select_related("invoice").order_by("-pk")[:10],
            "lines": service.lines.select_related("invoice")
            .exclude(invoice__status="draft")
            .order_by("-invoice_id", "position")[:20],
            "can": {
                gate: actions.allowed(request.client, gate, settings)
                for gate in ("cancel", "change_term", "change_package", "order_addon")
            },
            "open_service": open_service,
            "has_terms": open_service and queries.term_choices(service).exists(),
            "has_packages": open_service and queries.package_choices(service).exists(),
            "has_addons": open_service and queries.addon_choices(service).exists(),
        },
    )


def _change_outcome(change) -> str:
    if change.status == ChangeStatus.QUEUED:
        return "The change is made once its invoice is paid."
    if change.old["package_id"] == change.new["package_id"]:
        starts = day_text(change.service.anchor_date, change.service.client.language)
        return f"The new term starts at your next renewal, on {starts}."
    if change.credit_amount:
        return "The new package is active now; the unused difference is credited to you."
    return "The new package is active now."


def _self_service(request, service_id: int, gate: str, template: str, run: Callable,
                  describe: Callable, choices=None, watch: Callable | None = None):  # fmt: skip
    """GET: the choice, and with a choice the preview. POST: run it, then back to the
    service. The group's permission is checked before anything is shown or done."""
    service = own(_services(), request, service_id)
    actions.require(request.client, gate)
    today = company_today(request.client.company)
    params = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        key = params.get(once.FIELD, "")
        if not once.claim(request.account, key):
            messages.info(request, "That was confirmed already; it is done once.")
            return redirect("portal:service_detail", service_id=service.pk)
        try:
            result = run(service, params, today)
        except DomainError as exc:
            once.release(request.account, key)
            if exc.status == 403:
                raise
            messages.error(request, exc.message)
            # Back to the same choice, so the client sees it again with the reason.
            choice = {
                k: v for k, v in params.items() if k not in ("csrfmiddlewaretoken", once.FIELD)
            }
            return redirect(f"{request.path}?{urlencode(choice)}")
        messages.success(request, describe(result))
        return redirect("portal:service_detail", service_id=service.pk)
    effect, error = None, ""
    chosen = params.get("pricing") or params.get("when")
    if chosen:
        try:
            effect = dry_run(request.client, lambda: run(service, params, today), describe,
                             service_ids=watch(service) if watch else ())  # fmt: skip
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
    return render(request, template, {
        "service": service, "choices": choices(service) if choices else None,
        "chosen": chosen, "effect": effect, "error": error, "once": once.new_key(),
    })  # fmt: skip


@client_required
def service_cancel(request, service_id: int):
    def run(service, params, today):
        return actions.cancel_service(request.client, service, when=params.get("when", ""),
                                      today=today, actor=request.actor,
                                      reason=params.get("reason", ""))  # fmt: skip

    def describe(service):
        name = service.package.name
        if service.status == ServiceStatus.CANCELED:
            return f"{name} ends now."
        return f"{name} ends on {day_text(service.cancel_at, request.client.language)}."

    def watch(service):  # what a client still owes for the cancelled service and its addons
        return [service.pk, *service.addons.values_list("pk", flat=True)]

    return _self_service(request, service_id, "cancel", "portal/services/cancel.html", run,
                         describe, watch=watch)  # fmt: skip


def _change(request, service_id: int, gate: str, act: Callable, choices: Callable):
    def run(service, params, today):
        return act(request.client, service, pricing_id=parse_id(params.get("pricing")),
                   today=today, actor=request.actor)  # fmt: skip

    return _self_service(request, service_id, gate, f"portal/services/{gate}.html", run,
                         _change_outcome, choices)  # fmt: skip


@client_required
def service_change_term(request, service_id: int):
    return _change(request, service_id, "change_term", actions.change_term, queries.term_choices)


@client_required
def service_change_package(request, service_id: int):
    return _change(request, service_id, "change_package", actions.change_package,
                   queries.package_choices)  # fmt: skip


@client_required
def service_order_addon(request, service_id: int):
    def run(service, params, today):
        return actions.order_addon(request.client, service,
                                   pricing_id=parse_id(params.get("pricing")), today=today,
                                   actor=request.actor)  # fmt: skip

    def describe(addon):
        return f"{addon.package.name} is ordered; it starts once its invoice is paid."

    return _self_service(request, service_id, "order_addon", "portal/services/order_addon.html",
                         run, describe, queries.addon_choices)  # fmt: skip
