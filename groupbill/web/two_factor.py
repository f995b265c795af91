"""Staff two-factor sign-in with django-otp: a TOTP device (an authenticator app) and ten
recovery codes (a static device, each code used once). A staff user with a device is asked
for a code after their password; one without a device whose company requires a second factor
is sent to set one up first."""

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from groupbill.companies.models import Company

RECOVERY_CODES = 10


def required_for(user) -> bool:
    """A company the user belongs to requires a second factor (a superuser without a
    membership: any company that does)."""
    companies = Company.objects.filter(two_factor_required=True)
    if not user.is_superuser or user.memberships.exists():
        companies = companies.filter(memberships__user=user)
    return companies.exists()


def redirect_if_needed(request: HttpRequest) -> HttpResponseRedirect | None:
    user = request.user
    next_query = urlencode({"next": request.get_full_path()})
    if user_has_device(user):
        if not user.is_verified():
            return HttpResponseRedirect(f"{reverse('web:two_factor_verify')}?{next_query}")
        return None
    if required_for(user):
        return HttpResponseRedirect(f"{reverse('web:two_factor_setup')}?{next_query}")
    return None


def new_recovery_codes(user) -> list[str]:
    """Ten fresh recovery codes in place of any earlier ones: shown once, each used once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes
