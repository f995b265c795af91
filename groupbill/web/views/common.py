from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from groupbill.companies.roles import ROLE_LABELS, company_ids_of, role_in, staff_actions
from groupbill.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from groupbill.settings_catalog.catalog import CATALOG
from groupbill.ui.forms import add_domain_errors
from groupbill.ui.permissions import NO_COMPANY, company_of
from groupbill.web import permissions, settings_form, two_factor


def staff_required(view: Callable) -> Callable:
    """Signed-in staff with the role the request needs in the page's company (one rule for
    every page: groupbill.web.permissions), past the second factor where they have one or
    their company requires it. A company the user does not belong to, and anything of it,
    answers 404 as a missing id does."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        second_factor = two_factor.redirect_if_needed(request)
        if second_factor is not None:
            return second_factor
        company_id = company_of(kwargs)
        url_name = request.resolver_match.url_name
        action = permissions.needed(url_name, request.method)
        actions = staff_actions(request.user, None if company_id is NO_COMPANY else company_id)
        if isinstance(company_id, int) and not actions:
            raise Http404("No such page.")
        request.staff_can = permissions.Can(actions, url_name)
        if action not in actions:
            return forbidden(request, action, company_id, permissions.FORM_ONLY.get(url_name))
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None

    return wrapper


def of_my_companies(request: HttpRequest, queryset, field: str = "company_id"):
    """A list across companies shows only the rows of the user's companies."""
    ids = company_ids_of(request.user)
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


def forbidden(request: HttpRequest, action: str, company_id, doing: str | None) -> HttpResponse:
    """403, saying what the role cannot do: on a page that only makes something (`doing`,
    e.g. "add packages") the user's role in its company is named."""
    role = role_in(request.user, company_id) if doing and isinstance(company_id, int) else None
    context = {"action": action, "doing": doing, "role": ROLE_LABELS[role] if role else None}
    return render(request, "web/forbidden.html", context, status=403)


def actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


def keyed_form(call: Callable[[], Any], undone: str, again: str) -> Any:
    """`call()` for a form that carries its own idempotency key; the key refused (the
    form sent before with other values, or without its key) says so as a conflict."""
    try:
        return call()
    except ValidationFailed as exc:
        if [e.field for e in exc.errors] != ["idempotency_key"]:
            raise
        raise Conflict(
            "This form was already sent with another amount or reference, or is incomplete; "
            f"{undone}. Reload the page to {again}."
        ) from None


def principal(request: HttpRequest) -> str:
    """Whose idempotency keys these are: each staff user has their own."""
    return f"staff:{request.user.pk}"


def save_with_settings(
    request: HttpRequest,
    keys: list[str],
    save: Callable[[dict[str, Any], list[FieldError]], None],
    form: forms.Form | None = None,
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """Save a page holding settings rows: `save(posted, unreadable)` is the domain action,
    all or nothing, given what was posted and the values that could not be read. Returns
    (None, []) on success, else the posted settings to re-show and the settings errors;
    other errors go onto `form`."""
    posted, errors = settings_form.parse(request.POST, keys, CATALOG)
    try:
        save(posted, errors)
    except DomainError as exc:
        setting_errors = errors + [e for e in exc.errors if e.field in CATALOG and e not in errors]
        other = [e for e in exc.errors if e.field not in CATALOG]
        if form is not None and (other or not exc.errors):
            add_domain_errors(form, ValidationFailed(other) if other else exc)
        return posted, setting_errors
    return None, []
