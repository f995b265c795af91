"""Staff two-factor sign-in (django-otp): set up an authenticator app, sign in with its
code, sign in once with a recovery code; an owner makes it mandatory for the company."""

import os
import re
import time

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from groupbill.companies.actions import set_staff_role, set_two_factor_required
from tests.conftest import ARTIFACTS, login, sign_in

ACTOR = "test"


def after_a_wrong_code():
    time.sleep(1.1)  # django-otp throttles: 1 s after the first wrong code, then doubling


def code_now(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows (a code is taken once: django-otp refuses it
    again, so a second sign-in in the same 30 s uses the next step's code, which the device
    accepts as clock drift)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def set_up_two_factor(http) -> tuple[TOTPDevice, list[str]]:
    setup = reverse("web:two_factor_setup")
    page = http.get(setup).content.decode()
    assert "<svg" in page and "otpauth://totp/Groupbill" in page
    device = TOTPDevice.objects.get(confirmed=False)
    wrong = http.post(setup, {"code": "000000" if code_now(device) != "000000" else "111111"})
    assert "That code is not right" in wrong.content.decode()
    after_a_wrong_code()
    done = http.post(setup, {"code": code_now(device)}).content.decode()
    assert "Two-factor sign-in is on" in done
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done)
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def test_sign_in_asks_for_the_code_and_takes_a_recovery_code_once(staff_user):
    http = HttpClient()
    assert sign_in(http)
    device, codes = set_up_two_factor(http)
    home = reverse("web:client_list")

    fresh = HttpClient()
    assert sign_in(fresh)
    asked = fresh.get(home)
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("web:two_factor_verify"))
    refused = fresh.post(reverse("web:two_factor_verify"), {"code": "12345x", "next": home})
    assert "That code is not right" in refused.content.decode()
    assert fresh.get(home).status_code == 302  # still not past the second factor
    after_a_wrong_code()
    # The app's code, made with django-otp's own TOTP, lets them in.
    answered = fresh.post(
        reverse("web:two_factor_verify"), {"code": code_now(device, steps_ahead=1), "next": home}
    )
    assert answered.status_code == 302 and answered["Location"] == home
    assert fresh.get(home).status_code == 200

    # A recovery code signs in once; the second time it is refused.
    for attempt in range(2):
        other = HttpClient()
        assert sign_in(other)
        response = other.post(reverse("web:two_factor_verify"), {"code": codes[0], "next": home})
        if attempt == 0:
            assert response.status_code == 302 and other.get(home).status_code == 200
        else:
            assert "That code is not right" in response.content.decode()
            assert other.get(home).status_code == 302


def test_a_company_that_requires_it_sends_staff_without_a_device_to_set_it_up(
    company, django_user_model
):
    user = django_user_model.objects.create_user("clerk", password="pw pw pw", is_staff=True)
    set_staff_role(company, user, "billing", actor=ACTOR)
    http = HttpClient()
    assert sign_in(http, "clerk", "pw pw pw")
    page = reverse("web:company_dashboard", args=[company.pk])
    assert http.get(page).status_code == 200
    set_two_factor_required(company, True, actor=ACTOR)
    sent = http.get(page)
    assert sent.status_code == 302
    assert sent["Location"].startswith(reverse("web:two_factor_setup"))
    assert "Your company requires two-factor sign-in" in http.get(sent["Location"]).content.decode()
    set_up_two_factor(http)
    assert http.get(page).status_code == 200


def test_only_an_owner_makes_it_mandatory(company, django_user_model):
    staff_page = reverse("web:company_staff", args=[company.pk])
    for role, status in (("billing", 403), ("owner", 302)):
        user = django_user_model.objects.create_user(role, password="pw pw pw", is_staff=True)
        set_staff_role(company, user, role, actor=ACTOR)
        http = HttpClient()
        http.force_login(user)
        offered = "Require two-factor sign-in</button>" in http.get(staff_page).content.decode()
        assert offered == (role == "owner")
        assert http.post(staff_page, {"two_factor_required": "on"}).status_code == status
    company.refresh_from_db()
    assert company.two_factor_required
    # The owner is held to it too: without a device of their own, they set one up next.
    assert http.get(staff_page)["Location"].startswith(reverse("web:two_factor_setup"))


@pytest.mark.browser
def test_setting_up_two_factor_in_the_browser(browser_page, company, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw pw pw", is_staff=True)
    set_staff_role(company, user, "owner", actor=ACTOR)
    set_two_factor_required(company, True, actor=ACTOR)
    page = browser_page
    login(page, "clerk", "pw pw pw")
    page.goto(reverse("web:company_dashboard", args=[company.pk]))
    assert page.get_by_role("alert").inner_text().startswith("Your company requires")
    assert page.locator(".qr svg").is_visible()
    page.screenshot(path=os.path.join(ARTIFACTS, "two-factor-setup.png"), full_page=True)
    page.fill("#code", code_now(TOTPDevice.objects.get(user=user)))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert page.locator(".recovery-codes li").count() == 10
    page.screenshot(path=os.path.join(ARTIFACTS, "two-factor-recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="Continue").click()
    assert page.url.endswith(reverse("web:company_dashboard", args=[company.pk]))
    page.goto(reverse("web:company_staff", args=[company.pk]))
    page.screenshot(path=os.path.join(ARTIFACTS, "company-staff.png"), full_page=True)
