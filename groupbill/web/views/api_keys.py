"""A company's API keys: the keys that work in it (its own and those of every company),
an owner makes one (shown once, on the answer to the making) or revokes one. The domain
is companies.api_keys."""

from django.contrib import messages
from django.shortcuts import redirect, render

from groupbill.companies import api_keys
from groupbill.companies.queries import get_company
from groupbill.companies.roles import Action, in_every_company
from groupbill.errors import DomainError
from groupbill.web.views.common import actor, staff_required


def _page(request, company, *, name="", read_only=False, errors=None, created=None, status=200):
    keys = list(api_keys.keys_for(company))
    # A key of every company works in companies this owner may not manage: only who
    # manages staff everywhere revokes it.
    every = in_every_company(request.user, Action.MANAGE_STAFF)
    for key in keys:
        key.revocable = key.revoked_at is None and (key.company_id is not None or every)
    context = {
        "company": company,
        "keys": keys,
        "name": name,
        "read_only": read_only,
        "errors": {e.field: e.message for e in errors or []},
        "created": created,
    }
    response = render(request, "web/companies/api_keys.html", context, status=status)
    if created:
        response["Cache-Control"] = "no-store"  # the raw key is in this page
    return response


@staff_required
def company_api_keys(request, company_id: int):
    company = get_company(company_id)
    if request.method != "POST":
        return _page(request, company)
    if "revoke" in request.POST:
        return _revoke(request, company)
    name, read_only = request.POST.get("name", ""), request.POST.get("read_only") == "on"
    try:
        key, raw = api_keys.create_api_key(
            name, actor=actor(request), user=request.user, company_id=company.pk,
            read_only=read_only,
        )  # fmt: skip
    except DomainError as exc:
        return _page(request, company, name=name, read_only=read_only, errors=exc.errors,
                     status=422)  # fmt: skip
    # Rendered, not redirected: the key must not travel through a session or a cookie.
    return _page(request, company, created={"key": key, "raw": raw}, status=201)


def _revoke(request, company):
    key = api_keys.keys_for(company).filter(pk=_id(request.POST["revoke"])).first()
    if key is None or not (key.company_id or in_every_company(request.user, Action.MANAGE_STAFF)):
        messages.error(request, "No such key here.")
    elif key.revoked_at is not None:
        messages.info(request, f'"{key.name}" was revoked already.')
    else:
        api_keys.revoke_api_key(key.pk, actor=actor(request))
        messages.success(request, f'"{key.name}" is revoked: requests with it are refused.')
    return redirect("web:company_api_keys", company_id=company.pk)


def _id(value: str) -> int:
    return int(value) if value.isdigit() and len(value) <= 18 else 0
