"""What every portal page shares: the signed-in client, and how domain errors become
pages (404 for what is not theirs, 403 with the reason for what their group forbids)."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from groupbill.errors import Forbidden, NotFound
from groupbill.portal import session
from groupbill.portal.accounts import actor_for, principal_for


def client_required(view: Callable) -> Callable:
    """Only a signed-in client; `request.client`, `request.account`, `request.actor` and
    `request.principal` are theirs. Staff are another kind of principal: without a client
    session they sign in here like anyone else."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = session.current(request)
        if account is None:
            login = reverse("portal:login")
            return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        request.account = account
        request.client = account.contact.client
        request.actor = actor_for(account)
        request.principal = principal_for(account)
        # Timestamps (payments, changes) are shown on the company's calendar, like the
        # invoice dates next to them.
        with timezone.override(request.client.company.timezone):
            try:
                return view(request, *args, **kwargs)
            except (NotFound, Http404):
                return not_found(request)
            except Forbidden as exc:
                return forbidden(request, exc.message)

    return wrapper


def not_found(request: HttpRequest) -> HttpResponse:
    """The portal's own 404, the same for what does not exist and what is another
    client's (so ids reveal nothing)."""
    return render(request, "portal/not_found.html", status=404)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def own(queryset, request: HttpRequest, pk: int):
    """The client's own object, or 404 as if no such object existed."""
    obj = queryset.filter(client=request.client, pk=pk).first()
    if obj is None:
        raise Http404("No such page.")
    return obj
