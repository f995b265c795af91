import segno
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from groupbill.web import two_factor


def _staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Staff only.")


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if ok else "/"


def _clean(code: str) -> str:
    return "".join(code.split())


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: a code from the authenticator app, or a recovery code."""
    _staff(request)
    error = ""
    if request.method == "POST":
        code = _clean(request.POST.get("code", ""))
        with transaction.atomic():
            device = next(
                (d for d in devices_for_user(request.user, for_verify=True)
                 if code and d.verify_token(code)),
                None,
            )  # fmt: skip
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        error = _refusal(devices_for_user(request.user), "or a recovery code already used")
    return render(request, "web/two_factor/verify.html", {"error": error, "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code, type a code to confirm; then the
    recovery codes are shown, once."""
    _staff(request)
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None:
        if not user.is_verified():
            return redirect(f"{_verify_url()}?next={request.path}")
        codes = None
        if request.method == "POST" and request.POST.get("action") == "recovery":
            codes = two_factor.new_recovery_codes(user)
        return render(request, "web/two_factor/setup.html", {"done": True, "codes": codes})
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    error = ""
    if request.method == "POST":
        if device.verify_token(_clean(request.POST.get("code", ""))):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            codes = two_factor.new_recovery_codes(user)
            return render(
                request,
                "web/two_factor/setup.html",
                {"done": True, "codes": codes, "next": _next(request)},
            )
        error = _refusal([device], "type the 6 digits your app shows now")
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "web/two_factor/setup.html",
        {
            "done": False,
            "qr_svg": qr.svg_inline(scale=4, light="#fff"),
            "otpauth": device.config_url,
            "required": two_factor.required_for(user),
            "error": error,
            "next": _next(request),
        },
    )


def _verify_url() -> str:
    return reverse("web:two_factor_verify")


def _refusal(devices, hint: str) -> str:
    """Why a code was refused: wrong, or (django-otp's throttling) tried again too soon."""
    if any(not d.verify_is_allowed()[0] for d in devices):
        return (
            f"That code is not right ({hint}), or it came too soon after a wrong one: "
            "wait a few seconds and try again."
        )
    return f"That code is not right ({hint}). Try again."
