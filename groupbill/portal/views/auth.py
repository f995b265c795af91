"""Signing in and out of the portal, and setting a password from an emailed link."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from groupbill.addresses import client_address
from groupbill.errors import ValidationFailed
from groupbill.portal import accounts, session
from groupbill.portal.links import reset_link_builder


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    home = reverse("portal:dashboard")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    if safe and target.startswith(home):
        return target
    return home


@sensitive_post_parameters("password")
def login(request):
    error, locked, login_value = "", False, ""
    if request.method == "POST":
        login_value = request.POST.get("email", "")
        result = accounts.sign_in(
            login_value,
            request.POST.get("password", ""),
            address=client_address(request),
            now=timezone.now(),
        )
        if result.account is not None:
            session.start(request, result.account)
            return redirect(_next(request))
        error, locked = result.error, result.locked
    return render(request, "portal/login.html",
                  {"error": error, "email": login_value, "next": _next(request)},
                  status=429 if locked else 200)  # fmt: skip


@require_POST
def logout(request):
    session.end(request)
    messages.success(request, "You are signed out.")
    return redirect("portal:login")


def reset_request(request):
    if request.method == "POST":
        link_for = reset_link_builder(request)
        accounts.request_reset(request.POST.get("email", ""), link_for=link_for, now=timezone.now())
        # The same answer whether or not the address has an account.
        messages.success(
            request,
            "If that address has portal access, a link to choose a new password is on its "
            "way. It works for a limited time.",
        )
        return redirect("portal:login")
    return render(request, "portal/reset_request.html")


@sensitive_post_parameters("password", "password2")
def reset_confirm(request, uid: str, token: str):
    account = accounts.account_for_reset(uid, token)
    if account is None:
        return render(request, "portal/reset_invalid.html", status=400)
    errors: list[str] = []
    if request.method == "POST":
        password = request.POST.get("password", "")
        if password != request.POST.get("password2", ""):
            errors.append("The two passwords differ.")
        else:
            try:
                accounts.set_password(account, password, actor=accounts.actor_for(account))
            except ValidationFailed as exc:
                errors = [e.message for e in exc.errors]
            else:
                messages.success(request, "Your password is set. Sign in with it now.")
                return redirect("portal:login")
    return render(request, "portal/reset_confirm.html", {"errors": errors, "account": account},
                  status=400 if errors else 200)  # fmt: skip
