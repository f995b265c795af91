"""A company's API keys page: an owner makes a key (shown once, working in that company
only, read-only if ticked) and revokes one, both audited; other roles read the list."""

import os
import re
from html import unescape

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from groupbill.audit.models import AuditEntry
from groupbill.companies.actions import create_company, set_staff_role
from groupbill.companies.api_keys import create_api_key
from groupbill.companies.models import ApiKey
from tests.conftest import ARTIFACTS, login

ACTOR = "test"
SHOWN_ONCE = "It will not be shown again."


def member(django_user_model, company, role, name):
    user = django_user_model.objects.create_user(name, password="pw pw pw", is_staff=True)
    set_staff_role(company, user, role, actor=ACTOR)
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def owner(company, django_user_model):
    return member(django_user_model, company, "owner", "owner")


def page_of(company):
    return reverse("web:company_api_keys", args=[company.pk])


def raw_key(html: str) -> str:
    found = re.findall(r'<code class="secret">(gb_[^<]+)</code>', html)
    assert len(found) == 1
    return found[0]


def api(raw: str) -> HttpClient:
    return HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_an_owner_makes_a_key_shown_once_that_works_in_the_company_only(company, owner):
    other = create_company({"name": "Other"}, actor=ACTOR)
    made = owner.post(page_of(company), {"name": "ERP sync", "read_only": "on"})
    assert made.status_code == 201
    assert made["Cache-Control"] == "no-store"
    html = made.content.decode()
    assert SHOWN_ONCE in html and "copy it now" in html
    raw = raw_key(html)
    key = ApiKey.objects.get(name="ERP sync")
    assert (key.company_id, key.read_only, key.user.username) == (company.pk, True, "owner")
    # It reads its company, finds no other, and changes nothing.
    assert api(raw).get(f"/api/v1/companies/{company.pk}").status_code == 200
    assert api(raw).get(f"/api/v1/companies/{other.pk}").status_code == 404
    changed = api(raw).patch(f"/api/v1/companies/{company.pk}", {"name": "Renamed"},
                             content_type="application/json")  # fmt: skip
    assert changed.status_code == 403
    # The list names it, with its scope and its use; the key itself is never shown again.
    listed = owner.get(page_of(company)).content.decode()
    assert raw not in listed and SHOWN_ONCE not in listed
    row = re.search(rf'<tr id="key-{key.pk}">(.*?)</tr>', listed, re.S).group(1)
    assert "ERP sync" in row and "read only" in row and raw[:8] in row
    assert "never" not in row  # used a moment ago
    entry = AuditEntry.objects.get(action="apikey.create")
    assert (entry.company_id, entry.actor) == (company.pk, "staff:owner")


def test_a_read_write_key_and_a_nameless_one(company, owner):
    made = owner.post(page_of(company), {"name": "Deploy"})
    raw = raw_key(made.content.decode())
    assert not ApiKey.objects.get(name="Deploy").read_only
    renamed = api(raw).patch(f"/api/v1/companies/{company.pk}", {"name": "Renamed"},
                             content_type="application/json")  # fmt: skip
    assert renamed.status_code == 200
    refused = owner.post(page_of(company), {"name": "  "})
    assert refused.status_code == 422
    assert "Name is required" in refused.content.decode()
    assert ApiKey.objects.count() == 1


def test_an_owner_revokes_a_key_and_it_stops_working(company, owner):
    key, raw = create_api_key("Old", actor=ACTOR, company_id=company.pk)
    assert api(raw).get("/api/v1/companies").status_code == 200
    done = unescape(owner.post(page_of(company), {"revoke": key.pk}, follow=True).content.decode())
    assert '"Old" is revoked' in done
    assert "Revoked" in re.search(rf'<tr id="key-{key.pk}">(.*?)</tr>', done, re.S).group(1)
    assert api(raw).get("/api/v1/companies").status_code == 401
    entry = AuditEntry.objects.get(action="apikey.revoke")
    assert (entry.company_id, entry.object_id, entry.actor) == (company.pk, key.pk, "staff:owner")


def test_another_companys_key_is_neither_listed_nor_revoked(company, owner):
    other = create_company({"name": "Other"}, actor=ACTOR)
    theirs, _ = create_api_key("Theirs", actor=ACTOR, company_id=other.pk)
    every, _ = create_api_key("Everywhere", actor=ACTOR)
    html = owner.get(page_of(company)).content.decode()
    assert "Theirs" not in html
    # A key of every company works here too; only who manages every company revokes it.
    row = re.search(rf'<tr id="key-{every.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "Every company" in row and "Revoke" not in row
    for key in (theirs, every):
        refused = owner.post(page_of(company), {"revoke": key.pk}, follow=True)
        assert "No such key here." in refused.content.decode()
        key.refresh_from_db()
        assert key.revoked_at is None


def test_other_roles_read_the_list_and_change_nothing(company, django_user_model):
    key, _ = create_api_key("ERP sync", actor=ACTOR, company_id=company.pk)
    for role in ("billing", "support"):
        http = member(django_user_model, company, role, role)
        html = http.get(page_of(company)).content.decode()
        assert "ERP sync" in html
        assert "<form" not in html.split("<main")[1].split("</main>")[0]
        assert http.post(page_of(company), {"name": "Mine"}).status_code == 403
        assert http.post(page_of(company), {"revoke": key.pk}).status_code == 403
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.browser
def test_making_and_revoking_a_key_in_the_browser(browser_page, company, django_user_model):
    member(django_user_model, company, "owner", "owner")
    create_api_key("Nightly export", actor=ACTOR, company_id=company.pk, read_only=True)
    page = browser_page
    login(page, "owner", "pw pw pw")
    page.goto(reverse("web:company_edit", args=[company.pk]))
    page.get_by_role("link", name="API keys").click()
    page.fill("#key-name", "ERP sync")
    page.get_by_role("button", name="Make key").click()
    box = page.locator("#new-key")
    assert SHOWN_ONCE in box.inner_text()
    assert box.locator("code.secret").inner_text().startswith("gb_")
    page.screenshot(path=os.path.join(ARTIFACTS, "api-keys-made.png"), full_page=True)
    page.get_by_role("button", name="Revoke Nightly export").click()
    assert '"Nightly export" is revoked' in page.locator(".messages").inner_text()
    assert page.locator("#new-key").count() == 0
    page.screenshot(path=os.path.join(ARTIFACTS, "api-keys-revoked.png"), full_page=True)
