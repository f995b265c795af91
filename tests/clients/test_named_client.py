"""A client must be someone: an empty "Add client" form, or an API call with no name,
company or email, is refused with one clear message, and nothing is created."""

import pytest
from django.urls import reverse

from groupbill.clients.actions import UNNAMED, create_client, update_client
from groupbill.clients.models import Client
from groupbill.errors import ValidationFailed
from tests.conftest import ACTOR, failure_fields, field_errors


def test_a_client_with_no_name_company_or_email_is_refused(company):
    with pytest.raises(ValidationFailed) as exc_info:
        create_client(company, {"first_name": "  ", "phone": "+49 30 1234"}, actor=ACTOR)
    assert failure_fields(exc_info) == {"first_name": UNNAMED}
    assert not Client.objects.exists()
    for named in ({"last_name": "Hopper"}, {"company": "Initech"}, {"email": "x@example.com"}):
        assert create_client(company, named, actor=ACTOR).pk


def test_blanking_every_name_of_a_client_is_refused(company, ada):
    blank = {"first_name": "", "last_name": "", "company": "", "email": ""}
    with pytest.raises(ValidationFailed) as exc_info:
        update_client(ada, blank, actor=ACTOR)
    assert failure_fields(exc_info) == {"first_name": UNNAMED}
    update_client(ada, {"first_name": "", "last_name": ""}, actor=ACTOR)  # the email names her
    ada.refresh_from_db()
    assert ada.contacts.get().email == "ada@example.com"


def test_the_api_refuses_a_nameless_client_on_first_name(api, company):
    r = api.post("/clients", {"company_id": company.pk})
    assert r.status_code == 422
    assert field_errors(r) == {"first_name": UNNAMED}
    assert not Client.objects.exists()


def test_the_empty_add_client_form_says_what_is_missing(staff, company, default_group):
    url = reverse("web:client_add", args=[company.pk])
    page = staff.post(url, {"group": default_group.pk, "default_currency": "EUR",
                            "status": "active", "language": "en"})  # fmt: skip
    assert page.status_code == 200
    assert "Give a name, a company or an email address" in page.content.decode()
    assert not Client.objects.exists()
