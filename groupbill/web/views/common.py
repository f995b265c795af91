from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from groupbill.errors import DomainError, FieldError, NotFound, ValidationFailed
from groupbill.settings_catalog.catalog import CATALOG
from groupbill.ui.forms import add_domain_errors
from groupbill.web import settings_form


def staff_required(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None

    return wrapper


def actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


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
