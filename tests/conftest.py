import os

import pytest
from django.test import Client as HttpClient

from groupbill.api.actions import create_api_key
from groupbill.clients.actions import create_client, create_group
from groupbill.companies.actions import create_company, update_company

ACTOR = "test"
REQUIRE_ALL = os.environ.get("GROUPBILL_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose system component is missing, except in CI where it must run."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (GROUPBILL_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _reset_test_module():
    """The scripted `test` provisioning module is process-wide; ids repeat between tests."""
    from groupbill.provisioning import test as test_module

    test_module.reset()
    yield
    test_module.reset()


@pytest.fixture
def company(db):
    return create_company(
        {"name": "Acme Hosting", "timezone": "Europe/Berlin", "default_currency": "EUR"},
        actor=ACTOR,
    )


# A German seller charging VAT by the EU's rules, as invoices print it.
EU_SELLER = {
    "legal_name": "Acme Hosting GmbH",
    "address_line1": "Hauptstraße 1",
    "postcode": "10115",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE136695976",
    "registration_number": "HRB 12345, Amtsgericht Berlin",
    "bank_details": "Acme Hosting GmbH, IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
    "notify_email": "billing@acme.example",
    "charges_eu_vat": True,
}


@pytest.fixture
def eu_seller(company):
    return update_company(company, EU_SELLER, actor=ACTOR)


@pytest.fixture
def default_group(company):
    return company.client_groups.order_by("pk").first()


@pytest.fixture
def group(company):
    return create_group(company, {"name": "Resellers", "color": "#1e88e5"}, actor=ACTOR)


@pytest.fixture
def make_client(company):
    def make(group=None, **data):
        data.setdefault("first_name", "Ada")
        data.setdefault("last_name", "Lovelace")
        data.setdefault("email", "ada@example.com")
        if group is not None:
            data["group_id"] = group.pk
        return create_client(company, data, actor=ACTOR)

    return make


@pytest.fixture
def ada(make_client, group):
    """Ada Lovelace in the Resellers group (her currency is the company's, EUR)."""
    return make_client(group=group)


PROBLEM = "application/problem+json"


def field_errors(response) -> dict[str, str]:
    """An API refusal's errors, field to message."""
    assert response["Content-Type"] == PROBLEM
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def failure_fields(exc_info) -> dict[str, str]:
    """A refused action's errors (`pytest.raises(ValidationFailed)`), field to message."""
    return {e.field: e.message for e in exc_info.value.errors}


@pytest.fixture
def api_key(db):
    _, raw = create_api_key("tests", actor=ACTOR)
    return raw


@pytest.fixture
def api(api_key):
    """A JSON client for /api/v1 authenticated with a fresh API key."""

    class Api:
        def __init__(self):
            self.http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {api_key}")

        def _call(self, method, path, body=None):
            kwargs = {"content_type": "application/json"} if body is not None else {}
            if body is not None:
                kwargs["data"] = body
            return getattr(self.http, method)(f"/api/v1{path}", **kwargs)

        def get(self, path):
            return self._call("get", path)

        def post(self, path, body):
            return self._call("post", path, body)

        def put(self, path, body):
            return self._call("put", path, body)

        def patch(self, path, body):
            return self._call("patch", path, body)

        def delete(self, path):
            return self._call("delete", path)

    return Api()


ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts")


def _chromium_path() -> str | None:
    import shutil

    return os.environ.get("GROUPBILL_CHROMIUM") or shutil.which("chromium")


@pytest.fixture
def browser_page(live_server):
    """A logged-out Playwright page in Debian's headless Chromium (never a downloaded one)."""
    executable = _chromium_path()
    if executable is None:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between page actions are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    os.makedirs(ARTIFACTS, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            # ORM calls made while Playwright's loop runs use connections local to its
            # context; close them here, or PostgreSQL cannot drop the test database.
            from django.db import connections

            connections.close_all()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        "staff", "staff@example.com", "correct horse", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff(staff_user):
    """An HTTP client signed in as staff: a client of its own, so `client` stays anonymous."""
    http = HttpClient()
    http.force_login(staff_user)
    return http


def sign_in(http: HttpClient, username="staff", password="correct horse") -> bool:
    """A staff sign-in through the login form, as the sign-in limits see one (Django's
    test client `login()` passes no request, which django-axes refuses)."""
    return http.post("/login/", {"username": username, "password": password}).status_code == 302


def login(page, username="staff", password="correct horse") -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


PORTAL_PASSWORD = "portal pass 2026"


def portal_account(client, password: str = PORTAL_PASSWORD):
    """Give the client's primary contact portal access with a known password."""
    from groupbill.portal import accounts

    contact = client.contacts.get(role="primary")
    account = accounts.grant_access(contact, actor=ACTOR)
    return accounts.set_password(account, password, actor=ACTOR)


def portal_session(client, password: str = PORTAL_PASSWORD) -> HttpClient:
    """An HTTP client signed in to the portal as this client (CSRF is not checked, as in
    Django's test client; tests/portal/test_authz.py checks it)."""
    account = portal_account(client, password)
    http = HttpClient()
    response = http.post("/portal/login/", {"email": account.login, "password": password})
    assert response.status_code == 302, response.content[:500]
    return http
