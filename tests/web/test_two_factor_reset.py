"""An owner resets a staff member's two-factor sign-in from the company's staff page (a
lost phone): their app and recovery codes stop working, they sign in with their password
and set one up again where the company requires it; audited."""

import os

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp import user_has_device

from groupbill.audit.models import AuditEntry
from groupbill.companies.actions import create_company, set_staff_role, set_two_factor_required
from tests.conftest import ARTIFACTS, login, sign_in
from tests.web.test_two_factor import set_up_two_factor

ACTOR = "test"
RESET = "Reset two-factor</button>"


def staff_member(django_user_model, company, role, name):
    """A member signed in with their password (and their second factor, once set up)."""
    user = django_user_model.objects.create_user(name, password="pw pw pw", is_staff=True)
    set_staff_role(company, user, role, actor=ACTOR)
    http = HttpClient()
    assert sign_in(http, name, "pw pw pw")
    return user, http


@pytest.fixture
def clerk(company, django_user_model):
    """A billing clerk of the company with an authenticator app and recovery codes."""
    user, http = staff_member(django_user_model, company, "billing", "clerk")
    set_up_two_factor(http)
    return user, http


def test_an_owner_resets_a_members_two_factor_and_they_set_it_up_again(
    company, clerk, django_user_model
):
    user, clerk_http = clerk
    _, owner = staff_member(django_user_model, company, "owner", "owner")
    staff_page = reverse("web:company_staff", args=[company.pk])
    assert owner.get(staff_page).content.decode().count(RESET) == 1  # the clerk's row only
    done = owner.post(staff_page, {"reset_two_factor": user.pk}, follow=True).content.decode()
    assert "clerk: two-factor sign-in reset" in done
    assert not user_has_device(user)
    assert RESET not in done
    entry = AuditEntry.objects.get(action="company.staff_two_factor_reset")
    assert (entry.company_id, entry.key, entry.actor) == (company.pk, "clerk", "staff:owner")
    assert entry.old == {"value": ["Authenticator app", "Recovery codes"]}
    # Their password alone signs them in now; once the company requires a second factor,
    # their next page sends them to set one up again.
    fresh = HttpClient()
    assert sign_in(fresh, "clerk", "pw pw pw")
    dashboard = reverse("web:company_dashboard", args=[company.pk])
    assert fresh.get(dashboard).status_code == 200
    set_two_factor_required(company, True, actor=ACTOR)
    for http in (fresh, clerk_http):
        assert http.get(dashboard)["Location"].startswith(reverse("web:two_factor_setup"))


def test_only_an_owner_may_reset_it(company, clerk, django_user_model):
    user, _ = clerk
    _, billing = staff_member(django_user_model, company, "billing", "colleague")
    staff_page = reverse("web:company_staff", args=[company.pk])
    assert RESET not in billing.get(staff_page).content.decode()
    assert billing.post(staff_page, {"reset_two_factor": user.pk}).status_code == 403
    assert user_has_device(user)


def test_an_owner_of_one_of_their_companies_may_not(company, clerk, django_user_model):
    """The same second factor guards every company the member works in."""
    user, _ = clerk
    elsewhere = create_company({"name": "Elsewhere"}, actor=ACTOR)
    set_staff_role(elsewhere, user, "support", actor=ACTOR)
    _, owner = staff_member(django_user_model, company, "owner", "owner")
    staff_page = reverse("web:company_staff", args=[company.pk])
    assert RESET not in owner.get(staff_page).content.decode()
    refused = owner.post(staff_page, {"reset_two_factor": user.pk}, follow=True)
    assert "also works in a company whose staff you do not manage" in refused.content.decode()
    assert user_has_device(user)
    assert not AuditEntry.objects.filter(action="company.staff_two_factor_reset").exists()


def test_a_staff_user_outside_the_company_is_not_reset(company, django_user_model):
    elsewhere = create_company({"name": "Elsewhere"}, actor=ACTOR)
    user, http = staff_member(django_user_model, elsewhere, "billing", "stranger")
    set_up_two_factor(http)
    set_staff_role(elsewhere, user, None, actor=ACTOR)  # now a member of no company
    _, owner = staff_member(django_user_model, company, "owner", "owner")
    staff_page = reverse("web:company_staff", args=[company.pk])
    refused = owner.post(staff_page, {"reset_two_factor": user.pk}, follow=True).content.decode()
    assert "No such staff user in Acme Hosting." in refused
    assert "stranger" not in refused  # nor named: an owner learns no other staff's names
    assert user_has_device(user)


@pytest.mark.browser
def test_resetting_two_factor_in_the_browser(browser_page, company, clerk, django_user_model):
    staff_member(django_user_model, company, "owner", "owner")
    page = browser_page
    login(page, "owner", "pw pw pw")
    page.goto(reverse("web:company_staff", args=[company.pk]))
    page.screenshot(path=os.path.join(ARTIFACTS, "company-staff-reset-offered.png"),
                    full_page=True)  # fmt: skip
    page.get_by_role("button", name="Reset the two-factor sign-in of clerk").click()
    assert "clerk: two-factor sign-in reset" in page.locator(".messages").inner_text()
    page.screenshot(path=os.path.join(ARTIFACTS, "company-staff-reset-done.png"), full_page=True)
