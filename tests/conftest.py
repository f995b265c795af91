import os

import pytest
from django.test import Client as HttpClient

from groupbill.api.actions import create_api_key
from groupbill.clients.actions import create_client, create_group
from groupbill.companies.actions import create_company

ACTOR = "test"
REQUIRE_ALL = os.environ.get("GROUPBILL_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose system component is missing, except in CI where it must run."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (GROUPBILL_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture
def company(db):
    return create_company(
        {"name": "Acme Hosting", "timezone": "Europe/Berlin", "default_currency": "EUR"},
        actor=ACTOR,
    )


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
