"""A company's staff page lists its own members only (a superuser: every staff user); an
owner adds a member by typing their exact username or email, never by choosing from a
list of every company's staff."""

import os

import pytest
from django.urls import reverse

from groupbill.audit.models import AuditEntry
from groupbill.companies.actions import create_company, set_staff_role
from groupbill.companies.models import StaffMembership
from tests.conftest import ARTIFACTS, login
from tests.web.lists_helpers import rows
from tests.web.test_two_factor_reset import ACTOR, staff_member

NOT_FOUND = "No staff user with that username or email."


@pytest.fixture
def elsewhere(company, django_user_model):
    """Beatrix works only in another company; lonestaff is staff of no company."""
    other = create_company({"name": "Elsewhere"}, actor=ACTOR)
    beatrix = django_user_model.objects.create_user(
        "beatrix", "Beatrix@Elsewhere.example", "pw pw pw", is_staff=True
    )
    set_staff_role(other, beatrix, "billing", actor=ACTOR)
    django_user_model.objects.create_user("lonestaff", "lone@nowhere.example", "pw", is_staff=True)
    return beatrix


@pytest.fixture
def owner(company, django_user_model, elsewhere):
    staff_member(django_user_model, company, "billing", "clerk")
    return staff_member(django_user_model, company, "owner", "owner")[1]


def page(http, company) -> str:
    response = http.get(reverse("web:company_staff", args=[company.pk]))
    assert response.status_code == 200
    return response.content.decode()


def shown(html) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in rows(html, "staff")]


def add(http, company, username, role="support") -> str:
    url = reverse("web:company_staff", args=[company.pk])
    return http.post(url, {"username": username, "role": role}, follow=True).content.decode()


def test_an_owner_sees_only_the_companys_members(owner, company):
    html = page(owner, company)
    assert shown(html) == [("clerk", "Billing"), ("owner", "Owner")]
    # Not listed, not offered in any form, not named anywhere on the page.
    for other in ("beatrix", "Beatrix@Elsewhere", "lonestaff"):
        assert other.lower() not in html.lower()
    assert html.count('<input type="text"') == 1  # adding is typing a name


def test_a_superuser_sees_every_staff_user(staff, owner, company):
    html = page(staff, company)
    assert shown(html) == [("beatrix", "—"), ("clerk", "Billing"), ("lonestaff", "—"),
                           ("owner", "Owner"), ("staff (superuser)", "—")]  # fmt: skip


@pytest.mark.parametrize("typed", ["beatrix", " beatrix ", "beatrix@elsewhere.EXAMPLE"])
def test_an_owner_adds_a_member_by_username_or_email(owner, company, elsewhere, typed):
    html = add(owner, company, typed)
    assert "beatrix: role saved." in html
    assert ("beatrix", "Support (read-only)") in shown(html)
    assert StaffMembership.objects.get(user=elsewhere, company=company).role == "support"
    entry = AuditEntry.objects.get(action="company.staff_role", key="beatrix", actor="staff:owner")
    assert (entry.company_id, entry.new) == (company.pk, {"value": "support"})


@pytest.mark.parametrize("typed", ["Beatrix", "beat", "nobody@example.com", "", "anna"])
def test_no_such_staff_user_is_said_and_nothing_added(owner, company, typed, django_user_model):
    django_user_model.objects.create_user("anna", "anna@example.com", "pw")  # not staff
    before = set(StaffMembership.objects.values_list("user_id", "company_id", "role"))
    html = add(owner, company, typed)
    assert NOT_FOUND in html
    assert set(StaffMembership.objects.values_list("user_id", "company_id", "role")) == before
    assert shown(html) == [("clerk", "Billing"), ("owner", "Owner")]


def test_a_role_needs_choosing_to_add(owner, company):
    assert "Choose the role they get." in add(owner, company, "beatrix", role="")
    assert not StaffMembership.objects.filter(company=company, user__username="beatrix").exists()


def test_a_non_member_cannot_be_reached_by_id(owner, company, elsewhere):
    """The role and reset forms post a user id: another company's user is unknown there,
    and not named in the answer."""
    url = reverse("web:company_staff", args=[company.pk])
    for form in ({"user": elsewhere.pk, "role": "owner"}, {"reset_two_factor": elsewhere.pk}):
        html = owner.post(url, form, follow=True).content.decode()
        assert "No such staff user in Acme Hosting." in html
        assert "beatrix" not in html.lower()
    assert not StaffMembership.objects.filter(company=company, user=elsewhere).exists()


def test_taking_a_members_role_away_removes_them_from_the_list(owner, company):
    clerk = StaffMembership.objects.get(company=company, user__username="clerk").user
    url = reverse("web:company_staff", args=[company.pk])
    html = owner.post(url, {"user": clerk.pk, "role": ""}, follow=True).content.decode()
    assert shown(html) == [("owner", "Owner")]
    assert shown(add(owner, company, "clerk", role="billing")) == [  # and back by name
        ("clerk", "Billing"),
        ("owner", "Owner"),
    ]


@pytest.mark.browser
def test_adding_a_member_in_the_browser(browser_page, owner, company):
    page = browser_page
    login(page, "owner", "pw pw pw")
    page.goto(reverse("web:company_staff", args=[company.pk]))
    page.fill("#add-username", "nobody")
    page.select_option("#add-role", "support")
    page.get_by_role("button", name="Add", exact=True).click()
    assert page.locator(".messages").inner_text().strip() == NOT_FOUND
    page.screenshot(path=os.path.join(ARTIFACTS, "company-staff-not-found.png"), full_page=True)
    page.fill("#add-username", "beatrix@elsewhere.example")
    page.select_option("#add-role", "billing")
    page.get_by_role("button", name="Add", exact=True).click()
    assert page.locator("#staff tbody tr").count() == 3
    page.screenshot(path=os.path.join(ARTIFACTS, "company-staff-added.png"), full_page=True)
