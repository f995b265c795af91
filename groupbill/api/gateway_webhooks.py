"""Webhooks payment gateways send: `POST /api/v1/gateways/stripe/webhook`. No API key:
Stripe signs each event with the endpoint's secret (GROUPBILL_STRIPE_WEBHOOK_SECRET), and
billing verifies that signature before anything is read. A plain view routed ahead of the
API (groupbill/urls.py), so the API's key check does not apply, and not in the OpenAPI
document: it is Stripe's to call, not an API client's."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from groupbill.api.problems import problem
from groupbill.billing import stripe_events


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """200 once the event is handled (or known already, or of a type Groupbill ignores):
    Stripe sends it again on any other answer. 400 for a signature that does not verify;
    404 while no webhook secret is configured."""
    if request.method != "POST":
        response = problem(405, f"{request.method} is not allowed here (POST).")
        response["Allow"] = "POST"
        return response
    try:
        received = stripe_events.receive(request.body, request.headers.get("Stripe-Signature"))
    except stripe_events.NotConfigured:
        return problem(404, "Stripe webhooks are not configured here.")
    except stripe_events.BadEvent as exc:
        return problem(400, str(exc))
    return JsonResponse({"received": received.event_id, "status": received.status})
