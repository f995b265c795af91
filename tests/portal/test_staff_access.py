"""Staff manage a contact's portal access, from the API and from the client's page: give it
(the contact gets a link to set a password, through the outbox), send another link, disable
and enable. And the demo book signs in to the portal."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from groupbill.audit.models import AuditEntry
from groupbill.clients.actions import add_contact, update_contact
from groupbill.demo import DEMO_CLIENT_LOGIN, DEMO_PASSWORD, load_demo
from groupbill.notices.models import OutboxMessage
from groupbill.portal.accounts import RESETS_PER_HOUR
from groupbill.portal.models import PortalAccount
from groupbill.settings_catalog.actions import set_company_settings
from groupbill.settings_catalog.resolver import resolve_client, values
from tests.conftest import ACTOR

PORTAL_URL = "https://billing.example.com"
NEW_PASSWORD = "a fresh password 1"


@pytest.fixture
def portal_url(settings):
    settings.PORTAL_BASE_URL = PORTAL_URL


@pytest.fixture
def no_portal_url(settings):
    settings.PORTAL_BASE_URL = ""


@pytest.fixture
def mixed_case_ada(make_client):
    return make_client(email="Ada@Example.com")


@pytest.fixture
def contact(mixed_case_ada):
    return mixed_case_ada.contacts.get(role="primary")


def resets():
    return OutboxMessage.objects.filter(template="password_reset").order_by("pk")


def audit(action):
    return list(AuditEntry.objects.filter(action=action).values_list("actor", flat=True))


def sign_in(login, password):
    http = HttpClient()
    response = http.post("/portal/login/", {"email": login, "password": password})
    return http, response


def set_password_from(message, password=NEW_PASSWORD):
    """Follow the emailed link the way the contact would, and choose a password."""
    path = urlsplit(message.context["reset_url"]).path
    http = HttpClient()
    assert http.get(path).status_code == 200
    response = http.post(path, {"password": password, "password2": password})
    assert response.status_code == 302, response.content[:500]


# --- API -----------------------------------------------------------------------------------


def test_give_access_sends_the_link_and_the_contact_signs_in(api, contact, portal_url):
    url = f"/contacts/{contact.pk}/portal-access"
    assert api.get(url).status_code == 404

    r = api.post(url, {})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["login"] == "ada@example.com"
    assert body["is_active"] is True and body["last_login_at"] is None
    assert body["created_at"]

    (message,) = resets()
    # To the login: the contact's email as given access, lower-cased.
    assert message.recipients == [{"name": contact.display_name, "email": "ada@example.com"}]
    assert message.client_id == contact.client_id
    assert message.context["reset_url"].startswith(f"{PORTAL_URL}/portal/password-reset/")
    assert audit("portal.grant") == ["apikey:tests"]
    assert audit("portal.password_link") == ["apikey:tests"]

    set_password_from(message)
    _, response = sign_in("ada@example.com", NEW_PASSWORD)
    assert response.status_code == 302
    read = api.get(url).json()
    assert read["login"] == "ada@example.com" and read["last_login_at"] is not None


def test_the_body_may_be_left_out(api, contact, portal_url):
    r = api.http.generic("POST", f"/api/v1/contacts/{contact.pk}/portal-access")
    assert r.status_code == 201, r.content
    assert resets().count() == 1


def test_give_access_without_a_link(api, contact, no_portal_url):
    r = api.post(f"/contacts/{contact.pk}/portal-access", {"send_link": False})
    assert r.status_code == 201
    assert PortalAccount.objects.filter(contact=contact).exists()
    assert not resets().exists()
    assert audit("portal.password_link") == []


def test_a_link_needs_the_portal_address(api, contact, no_portal_url):
    url = f"/contacts/{contact.pk}/portal-access"
    r = api.post(url, {"send_link": True})
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "portal_url"
    assert "GROUPBILL_PORTAL_URL" in r.json()["detail"]
    # Refused before anything is written.
    assert not PortalAccount.objects.exists() and not resets().exists()
    assert audit("portal.grant") == []

    assert api.post(url, {"send_link": False}).status_code == 201
    r = api.post(f"{url}/password-link", {})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "portal_url"  # the same field for both
    assert "GROUPBILL_PORTAL_URL" in r.json()["detail"]
    assert not resets().exists()


def test_refusals(api, company, make_client, contact, portal_url):
    url = f"/contacts/{contact.pk}/portal-access"
    assert api.post("/contacts/999999/portal-access", {}).status_code == 404
    assert api.get("/contacts/999999/portal-access").status_code == 404
    for bad in ({"send_link": "yes"}, {"send_lnk": True}):
        r = api.post(url, bad)
        assert r.status_code == 422, bad
    assert not PortalAccount.objects.exists()

    assert api.post(url, {}).status_code == 201
    r = api.post(url, {})
    assert r.status_code == 409
    assert "already has portal access" in r.json()["detail"]

    # The same email on another client's contact: one login, one account.
    twin = make_client(email="ada@example.com").contacts.get(role="primary")
    r = api.post(f"/contacts/{twin.pk}/portal-access", {})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "email", "message": "ada@example.com already signs in to the portal"}
    ]

    # No email, nothing to sign in with.
    tech = add_contact(contact.client, {"role": "other", "first_name": "Tech"}, actor=ACTOR)
    r = api.post(f"/contacts/{tech.pk}/portal-access", {})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "email"
    assert PortalAccount.objects.count() == 1 and resets().count() == 1


def test_disable_and_enable(api, contact, portal_url):
    url = f"/contacts/{contact.pk}/portal-access"
    assert api.patch(url, {"is_active": False}).status_code == 404
    api.post(url, {})
    set_password_from(resets().get())
    signed_in, response = sign_in("ada@example.com", NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in.get("/portal/").status_code == 200

    r = api.patch(url, {"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert audit("portal.disable") == ["apikey:tests"]
    # The open session ends, and signing in again is refused.
    assert signed_in.get("/portal/").status_code == 302
    _, response = sign_in("ada@example.com", NEW_PASSWORD)
    assert response.status_code == 200
    assert b"do not match a portal account" in response.content
    # No links for a disabled account.
    r = api.post(f"{url}/password-link", {})
    assert r.status_code == 409
    assert resets().count() == 1

    # Disabling again changes nothing (and audits nothing).
    assert api.patch(url, {"is_active": False}).status_code == 200
    assert len(audit("portal.disable")) == 1
    for bad in ({}, {"is_active": "no"}, {"is_active": True, "login": "x@example.com"}):
        assert api.patch(url, bad).status_code == 422, bad

    r = api.patch(url, {"is_active": True})
    assert r.status_code == 200 and r.json()["is_active"] is True
    assert audit("portal.enable") == ["apikey:tests"]
    # The password is kept; the session from before stays ended.
    assert signed_in.get("/portal/").status_code == 302
    _, response = sign_in("ada@example.com", NEW_PASSWORD)
    assert response.status_code == 302


def test_password_link(api, contact, portal_url):
    url = f"/contacts/{contact.pk}/portal-access/password-link"
    assert api.post(url, {}).status_code == 404  # no access yet
    api.post(f"/contacts/{contact.pk}/portal-access", {"send_link": False})
    for _ in range(RESETS_PER_HOUR):
        r = api.post(url, {})
        assert r.status_code == 202, r.content
    body = r.json()
    assert body["email"] == "ada@example.com" and body["valid_hours"] == 24  # the login
    assert body["message_id"] == resets().last().pk
    assert resets().count() == RESETS_PER_HOUR
    assert audit("portal.password_link") == ["apikey:tests"] * RESETS_PER_HOUR

    r = api.post(url, {})
    assert r.status_code == 429
    assert "try again later" in r.json()["detail"]
    assert resets().count() == RESETS_PER_HOUR

    # Each link works; the newest one sets the password.
    set_password_from(resets().last())
    assert sign_in("ada@example.com", NEW_PASSWORD)[1].status_code == 302


def test_links_go_to_the_login_whatever_the_contact_email_becomes(api, staff, contact, portal_url):
    url = f"/contacts/{contact.pk}/portal-access"
    api.post(url, {"send_link": False})
    update_contact(contact, {"email": "mallory@evil.example"}, actor=ACTOR)

    r = api.post(f"{url}/password-link", {})
    assert r.status_code == 202 and r.json()["email"] == "ada@example.com"
    page = post(staff, f"/contacts/{contact.pk}/portal/password-link/")
    assert "A link to set a password is queued to ada@example.com" in page
    assert [m.recipients[0]["email"] for m in resets()] == ["ada@example.com"] * 2
    assert api.get(url).json()["login"] == "ada@example.com"


def test_disable_and_give_access_again_to_change_the_login(api, contact, portal_url):
    url = f"/contacts/{contact.pk}/portal-access"
    api.post(url, {})
    set_password_from(resets().get())
    update_contact(contact, {"email": "ada@lovelace.example"}, actor=ACTOR)
    assert api.post(url, {}).status_code == 409  # while enabled: it has access

    assert api.patch(url, {"is_active": False}).status_code == 200
    r = api.post(url, {})
    assert r.status_code == 201, r.content
    assert (r.json()["login"], r.json()["is_active"]) == ("ada@lovelace.example", True)
    assert PortalAccount.objects.count() == 1
    assert audit("portal.grant") == ["apikey:tests"] * 2
    link = resets().last()
    assert link.recipients[0]["email"] == "ada@lovelace.example"
    # Neither the old login nor the old password signs in; the new link sets one.
    for login in ("ada@example.com", "ada@lovelace.example"):
        assert sign_in(login, NEW_PASSWORD)[1].status_code == 200
    set_password_from(link, "the newest password")
    assert sign_in("ada@lovelace.example", "the newest password")[1].status_code == 302


def test_the_api_is_in_the_openapi_document(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/contacts/{contact_id}/portal-access"]) == {"get", "post", "patch"}
    assert "post" in paths["/api/v1/contacts/{contact_id}/portal-access/password-link"]


# --- Admin UI ------------------------------------------------------------------------------


def row(html, contact):
    start = html.index(f'<tr data-contact="{contact.pk}">')
    return html[start : html.index("</tr>", start)]


def post(http, url):
    response = http.post(url, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_client_page_gives_and_manages_access(staff, mixed_case_ada, contact, no_portal_url):
    page = staff.get(f"/clients/{mixed_case_ada.pk}/").content.decode()
    assert "<th>Portal</th>" in page
    assert "Give portal access" in row(page, contact)

    page = post(staff, f"/contacts/{contact.pk}/portal/grant/")
    assert "Portal access given; a link to set a password is queued to ada@example.com" in page
    cell = row(page, contact)
    assert "Send password link" in cell and "Disable" in cell and "never signed in" in cell
    (message,) = resets()
    # Without GROUPBILL_PORTAL_URL the link is on the address staff use.
    assert message.context["reset_url"].startswith("http://testserver/portal/password-reset/")
    assert audit("portal.grant") == ["staff:staff"]
    assert audit("portal.password_link") == ["staff:staff"]
    set_password_from(message)

    page = post(staff, f"/contacts/{contact.pk}/portal/password-link/")
    assert "A link to set a password is queued to ada@example.com" in page
    assert resets().count() == 2

    page = post(staff, f"/contacts/{contact.pk}/portal/disable/")
    assert "Portal access for ada@example.com disabled" in page
    cell = row(page, contact)
    assert "Enable" in cell and "Send password link" not in cell
    assert audit("portal.disable") == ["staff:staff"]
    _, response = sign_in("ada@example.com", NEW_PASSWORD)
    assert response.status_code == 200  # refused: the form again

    page = post(staff, f"/contacts/{contact.pk}/portal/enable/")
    assert "Portal access for ada@example.com enabled" in page
    assert "Send password link" in row(page, contact)
    assert sign_in("ada@example.com", NEW_PASSWORD)[1].status_code == 302


def test_client_page_uses_the_configured_portal_address(staff, contact, portal_url):
    post(staff, f"/contacts/{contact.pk}/portal/grant/")
    assert resets().get().context["reset_url"].startswith(f"{PORTAL_URL}/portal/")


def test_client_page_shows_refusals(staff, make_client, mixed_case_ada, contact, no_portal_url):
    tech = add_contact(mixed_case_ada, {"role": "other", "first_name": "Tech"}, actor=ACTOR)
    page = post(staff, f"/contacts/{tech.pk}/portal/grant/")
    assert "Portal access not given: the contact needs an email address to sign in with" in page
    assert "Give portal access" in row(page, tech)

    post(staff, f"/contacts/{contact.pk}/portal/grant/")
    twin = make_client(email="ada@example.com")
    twin_contact = twin.contacts.get(role="primary")
    page = post(staff, f"/contacts/{twin_contact.pk}/portal/grant/")
    assert "Portal access not given: ada@example.com already signs in to the portal" in page

    for _ in range(RESETS_PER_HOUR - 1):
        post(staff, f"/contacts/{contact.pk}/portal/password-link/")
    page = post(staff, f"/contacts/{contact.pk}/portal/password-link/")
    assert "No password link sent:" in page and "try again later" in page
    assert PortalAccount.objects.count() == 1
    assert resets().count() == RESETS_PER_HOUR


def test_staff_contact_edit_marks_only_the_required_fields_the_contact_has_filled(
    staff, company, mixed_case_ada, contact
):
    set_company_settings(company, {"required_contact_fields": ["email", "phone"]}, actor=ACTOR)

    def field(page, name):
        label = re.search(rf'<label for="id_{name}"[^>]*>([^<]*)</label>', page).group(1)
        return label.strip(), re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)

    page = staff.get(f"/contacts/{contact.pk}/edit/").content.decode()
    label, tag = field(page, "email")
    assert label.startswith("Email *") and " required" in tag
    label, tag = field(page, "phone")  # empty, and allowed to stay so
    assert "*" not in label and " required" not in tag

    page = staff.get(f"/clients/{mixed_case_ada.pk}/contacts/add/").content.decode()
    assert " required" in field(page, "phone")[1]  # a new contact needs them all


def test_portal_buttons_are_staff_only_and_post_only(client, staff, contact, django_user_model):
    url = f"/contacts/{contact.pk}/portal/grant/"
    assert staff.get(url).status_code == 405
    assert staff.post("/contacts/999999/portal/grant/").status_code == 404
    assert client.post(url).status_code == 302  # to the staff login
    clerk = django_user_model.objects.create_user("clerk", password="not staff 123")
    client.force_login(clerk)
    assert client.post(url).status_code == 403
    assert not PortalAccount.objects.exists()


# --- Demo ----------------------------------------------------------------------------------


def test_demo_clients_sign_in_to_the_portal(db, capsys):
    call_command("demo", "--if-empty")
    out = capsys.readouterr().out
    assert f"Demo client (portal, /portal/): {DEMO_CLIENT_LOGIN} / {DEMO_PASSWORD}" in out

    primaries = PortalAccount.objects.filter(contact__role="primary")
    assert primaries.count() == PortalAccount.objects.count() >= 6
    http, response = sign_in(DEMO_CLIENT_LOGIN, DEMO_PASSWORD)
    assert response.status_code == 302
    assert http.get("/portal/services/").status_code == 200

    # One group lets its clients change and cancel services in the portal, another does not.
    gates = ("client_can_cancel_services", "client_can_change_package", "client_can_change_term")
    allowed = set()
    for account in PortalAccount.objects.select_related("contact"):
        effective = values(resolve_client(account.contact.client_id))
        allowed.add(tuple(effective[key] for key in gates))
    assert (True, True, True) in allowed and (False, False, False) in allowed
    tom = PortalAccount.objects.get(login=DEMO_CLIENT_LOGIN).contact.client
    assert all(values(resolve_client(tom.pk))[key] for key in gates)
    active = tom.services.filter(status="active").first()
    page = http.get(f"/portal/services/{active.pk}/").content.decode()
    for action in ("Change package", "Change billing term", "Cancel service"):
        assert action in page


def test_serve_says_where_the_portal_is(db, capsys, monkeypatch):
    from groupbill.web.management.commands import serve

    monkeypatch.setattr(serve, "call_command", lambda *args, **kwargs: None)
    load_demo()
    call_command("serve", "--port", "8000")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/portal/" in out
    assert f"Demo client: {DEMO_CLIENT_LOGIN} / {DEMO_PASSWORD}" in out


def test_client_page_changes_a_disabled_login_to_the_contacts_new_email(
    staff, mixed_case_ada, contact, no_portal_url
):
    post(staff, f"/contacts/{contact.pk}/portal/grant/")
    post(staff, f"/contacts/{contact.pk}/portal/disable/")
    cell = row(staff.get(f"/clients/{mixed_case_ada.pk}/").content.decode(), contact)
    assert "signs in as ada@example.com" in cell and "Give access as" not in cell
    update_contact(contact, {"email": "Ada@Lovelace.example"}, actor=ACTOR)
    cell = row(staff.get(f"/clients/{mixed_case_ada.pk}/").content.decode(), contact)
    assert "Give access as ada@lovelace.example" in cell
    post(staff, f"/contacts/{contact.pk}/portal/grant/")
    account = PortalAccount.objects.get()
    assert (account.login, account.is_active) == ("ada@lovelace.example", True)
    assert resets().last().recipients[0]["email"] == "ada@lovelace.example"
