from functools import wraps

from django.http import HttpRequest, HttpResponseNotAllowed
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from groupbill.api import (
    automation,
    client_groups,
    client_records,
    clients,
    companies,
    credit_notes,
    invoices,
    packages,
    payment_accounts,
    portal_access,
    problems,
    recurring,
    services,
    settings,
    transactions,
    webhooks,
)
from groupbill.api.auth import BearerKey
from groupbill.api.openapi import declare_errors


def _problem_on_405(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = problems.problem(405, f"{request.method} is not allowed here ({allowed}).")
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt
def _unknown_path(request: HttpRequest, *args, **kwargs):
    return problems.problem(404, f"The API has no {request.path}.")


class ProblemNinjaAPI(NinjaAPI):
    """Every error is problem+json, also the two django-ninja answers by itself: a method
    the path does not support (405) and a path under the API that does not exist (404)."""

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            pattern.callback = _problem_on_405(pattern.callback)
        urls.append(re_path(r"^", _unknown_path))
        return urls

    def get_openapi_schema(self, **kwargs):
        return declare_errors(super().get_openapi_schema(**kwargs))


api = ProblemNinjaAPI(
    title="Groupbill API",
    version="1",
    description="Client groups, their settings, clients and billing. "
    "Authenticate with `Authorization: Bearer <key>` (create a key with "
    "`groupbill apikey create --name NAME`).",
    auth=BearerKey(),
    urls_namespace="api",
)
problems.install(api)
for module in (
    companies,
    client_groups,
    clients,
    client_records,
    portal_access,
    settings,
    packages,
    services,
    invoices,
    credit_notes,
    transactions,
    payment_accounts,
    recurring,
    automation,
    webhooks,
):
    api.add_router("", module.router)
