"""Clients and contacts: creation with a flat primary contact, groups, required contact
fields on every path, attributes, moves with history, deletion, lists."""

from datetime import date

import pytest

from groupbill.clients.actions import add_contact, create_client, update_client, update_contact
from groupbill.clients.models import Client, ClientGroup, ClientHistory, Contact
from groupbill.companies.actions import create_company
from groupbill.errors import ValidationFailed
from groupbill.settings_catalog.actions import set_company_settings, set_group_setting
from tests.conftest import ACTOR, failure_fields, field_errors

PROBLEM = "application/problem+json"
CONTACT_FIELDS = ("first_name", "last_name", "company", "title", "email", "address1",
                  "address2", "city", "state", "zip", "country", "phone", "fax")  # fmt: skip
ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


def post_client(api, company, **data):
    return api.post("/clients", {"company_id": company.pk, **ADA, **data})


@pytest.fixture
def strict_group(group):
    """Resellers require an email and a phone on every contact."""
    set_group_setting(group, "required_contact_fields", ["phone", "email"], actor=ACTOR)
    return group


# --- Creating clients ---------------------------------------------------------------------


def test_create_client_with_flat_primary_contact(api, company, default_group):
    r = post_client(api, company, city="Berlin", country="de", phone="+49 30 1234")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["company_id"] == company.pk
    assert body["group_id"] == default_group.pk  # no group_id: the default group
    assert body["status"] == "active"
    assert body["autosuspend"] is True
    assert body["suspension_delayed_until"] is None
    assert body["tax_exempt"] is False
    assert body["default_currency"] == "EUR"  # the company's
    assert body["language"] == "en"
    assert {k: body[k] for k in CONTACT_FIELDS} == {
        **dict.fromkeys(CONTACT_FIELDS, ""),
        **ADA,
        "city": "Berlin",
        "country": "DE",
        "phone": "+49 30 1234",
    }
    assert api.get(f"/clients/{body['id']}").json() == body
    contacts = api.get(f"/clients/{body['id']}/contacts").json()
    assert contacts["count"] == 1
    (primary,) = contacts["items"]
    assert primary["role"] == "primary"
    assert primary["client_id"] == body["id"]
    assert primary["city"] == "Berlin"
    assert ClientHistory.objects.filter(client_id=body["id"], event="client.create").count() == 1


def test_create_client_in_a_group(api, company, group):
    r = post_client(api, company, group_id=group.pk)
    assert r.status_code == 201
    assert r.json()["group_id"] == group.pk


def test_group_of_another_company_is_refused_on_group_id(api, company):
    other = create_company(
        {"name": "Other", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR
    )
    theirs = other.client_groups.get()
    r = post_client(api, company, group_id=theirs.pk)
    assert r.status_code == 422
    assert list(field_errors(r)) == ["group_id"]
    r = post_client(api, company, group_id=999_999)
    assert r.status_code == 422
    assert list(field_errors(r)) == ["group_id"]
    r = post_client(api, company, group_id="1")
    assert r.status_code == 422
    assert "group_id" in field_errors(r)
    assert not Client.objects.exists()


def test_unknown_company_or_missing_company_id(api):
    r = api.post("/clients", {"company_id": 999_999, **ADA})
    assert r.status_code == 404
    assert r["Content-Type"] == PROBLEM
    r = api.post("/clients", ADA)
    assert r.status_code == 422
    assert "company_id" in field_errors(r)


def test_unknown_field_refused(api, company):
    r = post_client(api, company, nickname="Addy")
    assert r.status_code == 422
    assert list(field_errors(r)) == ["nickname"]
    assert not Client.objects.exists()


def test_invalid_contact_values(api, company):
    r = post_client(api, company, email="not-an-email", country="Germany", zip="1" * 33)
    assert r.status_code == 422
    assert set(field_errors(r)) == {"email", "country", "zip"}
    assert not Client.objects.exists()


# --- Client attributes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "deleted"),
        ("status", "Active"),
        ("language", "english"),
        ("language", "e"),
        ("language", "en\n"),
        ("language", 1),
        ("default_currency", "XXX"),
        ("default_currency", "EURO"),
        ("default_currency", 978),
        ("suspension_delayed_until", "2025-13-01"),
        ("suspension_delayed_until", "tomorrow"),
        ("suspension_delayed_until", 20250101),
        ("autosuspend", "yes"),
        ("autosuspend", 1),
        ("tax_exempt", 0),
        ("tax_id", "x" * 65),
    ],
)
def test_invalid_client_attribute_refused(api, company, make_client, field, value):
    r = post_client(api, company, **{field: value})
    assert r.status_code == 422, r.content
    assert list(field_errors(r)) == [field]
    client = make_client()
    r = api.patch(f"/clients/{client.pk}", {field: value})
    assert r.status_code == 422
    assert list(field_errors(r)) == [field]
    assert Client.objects.count() == 1


def test_client_attributes_accepted(api, company):
    r = post_client(
        api,
        company,
        status="fraud",
        language="pt_BR",
        default_currency="usd",
        suspension_delayed_until="2030-06-01",
        autosuspend=False,
        tax_exempt=True,
        tax_id="DE136695976",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["language"], body["default_currency"]) == ("fraud", "pt_BR", "USD")
    assert body["suspension_delayed_until"] == "2030-06-01"
    assert (body["autosuspend"], body["tax_exempt"], body["tax_id"]) == (False, True, "DE136695976")
    client = Client.objects.get(pk=body["id"])
    assert client.suspension_delayed_until == date(2030, 6, 1)
    r = api.patch(f"/clients/{client.pk}", {"suspension_delayed_until": None, "status": "inactive"})
    assert r.status_code == 200
    assert r.json()["suspension_delayed_until"] is None
    assert r.json()["status"] == "inactive"


# --- Required contact fields on every path ------------------------------------------------------


def test_required_fields_on_api_post_client(api, company, strict_group, default_group):
    r = post_client(api, company, group_id=strict_group.pk)
    assert r.status_code == 422
    errors = field_errors(r)
    assert list(errors) == ["phone"]  # email is there
    assert "Resellers" in errors["phone"]
    r = post_client(api, company, group_id=strict_group.pk, phone="  ", email="")
    assert r.status_code == 422
    assert set(field_errors(r)) == {"phone", "email"}
    assert not Client.objects.exists()
    assert post_client(api, company, group_id=strict_group.pk, phone="+1 555").status_code == 201
    # The default group does not require a phone.
    assert post_client(api, company, group_id=default_group.pk).status_code == 201


def test_required_fields_inherited_from_company(api, company, default_group):
    set_company_settings(company, {"required_contact_fields": ["city"]}, actor=ACTOR)
    r = post_client(api, company)
    assert r.status_code == 422
    assert list(field_errors(r)) == ["city"]


def test_required_fields_on_api_post_contact(api, company, strict_group, make_client):
    client = make_client(strict_group, phone="+1 555")
    url = f"/clients/{client.pk}/contacts"
    r = api.post(url, {"first_name": "Bob", "role": "billing", "email": "bob@example.com"})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["phone"]
    assert client.contacts.count() == 1
    r = api.post(url, {"first_name": "Bob", "role": "billing", "email": "b@x.io", "phone": "1"})
    assert r.status_code == 201
    assert r.json()["role"] == "billing"


def test_required_fields_on_actions(company, strict_group, make_client):
    with pytest.raises(ValidationFailed) as exc_info:
        create_client(company, {**ADA, "group_id": strict_group.pk}, actor=ACTOR)
    assert list(failure_fields(exc_info)) == ["phone"]
    client = make_client(strict_group, phone="+1 555")
    with pytest.raises(ValidationFailed) as exc_info:
        add_contact(client, {"first_name": "Bob", "role": "other"}, actor=ACTOR)
    assert set(failure_fields(exc_info)) == {"phone", "email"}
    contact = client.contacts.get()
    with pytest.raises(ValidationFailed) as exc_info:
        update_contact(contact, {"phone": ""}, actor=ACTOR)
    assert list(failure_fields(exc_info)) == ["phone"]
    with pytest.raises(ValidationFailed):
        update_contact(contact, {"email": None}, actor=ACTOR)
    contact.refresh_from_db()
    assert (contact.phone, contact.email) == ("+1 555", "ada@example.com")
    update_contact(contact, {"phone": "+1 556", "first_name": "Augusta"}, actor=ACTOR)
    contact.refresh_from_db()
    assert (contact.phone, contact.first_name) == ("+1 556", "Augusta")


def test_contact_created_before_the_rule_stays_valid(api, company, group, make_client):
    client = make_client(group)  # no phone
    contact = client.contacts.get()
    set_group_setting(group, "required_contact_fields", ["phone", "email"], actor=ACTOR)
    # Editing something else, leaving the already-empty phone empty, is fine.
    update_contact(contact, {"first_name": "Augusta"}, actor=ACTOR)
    update_contact(contact, {"phone": "", "city": "London"}, actor=ACTOR)
    contact.refresh_from_db()
    assert (contact.first_name, contact.city, contact.phone) == ("Augusta", "London", "")
    # Also through the API (PATCH client edits the primary contact).
    r = api.patch(f"/clients/{client.pk}", {"last_name": "King"})
    assert r.status_code == 200
    assert r.json()["last_name"] == "King"
    # But a field that is filled may not be emptied.
    r = api.patch(f"/clients/{client.pk}", {"email": ""})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["email"]
    contact.refresh_from_db()
    assert contact.email == "ada@example.com"
    # Once filled, the phone may not be emptied again.
    update_contact(contact, {"phone": "+44 20"}, actor=ACTOR)
    with pytest.raises(ValidationFailed):
        update_contact(contact, {"phone": "   "}, actor=ACTOR)


def test_moving_a_client_keeps_its_existing_contacts_valid(api, company, strict_group, make_client):
    client = make_client()  # default group, no phone
    r = api.patch(f"/clients/{client.pk}", {"group_id": strict_group.pk})
    assert r.status_code == 200
    assert r.json()["group_id"] == strict_group.pk


def test_refused_patch_changes_nothing(api, company, default_group, strict_group, make_client):
    client = make_client(default_group)
    set_company_settings(company, {"required_contact_fields": ["email"]}, actor=ACTOR)
    r = api.patch(
        f"/clients/{client.pk}", {"group_id": strict_group.pk, "status": "inactive", "email": ""}
    )
    assert r.status_code == 422
    client.refresh_from_db()
    assert (client.group_id, client.status) == (default_group.pk, "active")
    assert client.contacts.get().email == "ada@example.com"
    assert not ClientHistory.objects.filter(client=client, event="group.change").exists()


# --- Contacts ---------------------------------------------------------------------------------


def test_only_one_primary_contact(api, make_client):
    client = make_client()
    url = f"/clients/{client.pk}/contacts"
    r = api.post(url, {"first_name": "Bob", "role": "primary"})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["role"]
    with pytest.raises(ValidationFailed):
        add_contact(client, {"first_name": "Bob", "role": "primary"}, actor=ACTOR)
    assert client.contacts.filter(role="primary").count() == 1
    r = api.post(url, {"first_name": "Bob", "role": "boss"})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["role"]
    for role in ("billing", "other", "billing"):
        assert api.post(url, {"first_name": "Bob", "role": role}).status_code == 201
    r = api.post(url, {"first_name": "Carol"})
    assert r.status_code == 201
    assert r.json()["role"] == "other"
    listed = api.get(url).json()
    assert listed["count"] == 5
    assert [c["role"] for c in listed["items"]] == [
        "primary",
        "billing",
        "other",
        "billing",
        "other",
    ]
    assert api.get(f"{url}?limit=2&offset=4").json()["items"][0]["first_name"] == "Carol"


def test_contacts_of_unknown_client(api):
    assert api.get("/clients/999999/contacts").status_code == 404
    assert api.post("/clients/999999/contacts", {"first_name": "X"}).status_code == 404


def test_contact_unknown_field(api, make_client):
    client = make_client()
    r = api.post(f"/clients/{client.pk}/contacts", {"first_name": "Bob", "nick": "B"})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["nick"]


# --- Editing and moving -------------------------------------------------------------------------


def test_patch_client_moves_group_and_writes_history(
    api, company, default_group, group, make_client
):
    client = make_client(default_group)
    r = api.patch(f"/clients/{client.pk}", {"group_id": group.pk, "language": "de"})
    assert r.status_code == 200
    assert r.json()["group_id"] == group.pk
    assert r.json()["language"] == "de"
    (move,) = ClientHistory.objects.filter(client=client, event="group.change")
    assert '"General"' in move.message and '"Resellers"' in move.message
    assert move.actor == "apikey:tests"
    assert move.data == {"from_group_id": default_group.pk, "to_group_id": group.pk}
    assert ClientHistory.objects.filter(client=client, event="client.language").count() == 1
    # Patching to the same group writes nothing new.
    api.patch(f"/clients/{client.pk}", {"group_id": group.pk})
    assert ClientHistory.objects.filter(client=client, event="group.change").count() == 1
    # Settings follow the group.
    api.put(f"/client-groups/{group.pk}/settings/autodebit_attempts", {"value": 9})
    assert api.get(f"/clients/{client.pk}/settings").json()["autodebit_attempts"] == {
        "value": 9,
        "source": "group",
    }


def test_patch_client_to_group_of_another_company(api, company, make_client):
    other = create_company({"name": "O", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR)
    client = make_client()
    r = api.patch(f"/clients/{client.pk}", {"group_id": other.client_groups.get().pk})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["group_id"]
    client.refresh_from_db()
    assert client.group.company_id == company.pk


def test_update_client_action_edits_primary_contact(make_client):
    client = make_client()
    update_client(client, {"first_name": "Augusta", "tax_exempt": True}, actor=ACTOR)
    client.refresh_from_db()
    assert client.tax_exempt is True
    assert client.contacts.get(role="primary").first_name == "Augusta"


# --- Delete -------------------------------------------------------------------------------------


def test_delete_client(api, make_client):
    client = make_client()
    keep = make_client()
    api.put(f"/clients/{client.pk}/settings/autodebit_enabled", {"value": False})
    r = api.delete(f"/clients/{client.pk}")
    assert r.status_code == 204
    assert r.content == b""
    assert api.get(f"/clients/{client.pk}").status_code == 404
    assert api.delete(f"/clients/{client.pk}").status_code == 404
    assert not Contact.objects.filter(client_id=client.pk).exists()
    assert Client.objects.filter(pk=keep.pk).exists()


# --- Lists --------------------------------------------------------------------------------------


def test_list_filter_by_group(api, company, default_group, group, make_client):
    in_group = [make_client(group).pk for _ in range(3)]
    in_default = [make_client(default_group).pk for _ in range(2)]
    r = api.get(f"/clients?group_id={group.pk}")
    assert r.status_code == 200
    assert r.json()["count"] == 3
    assert [c["id"] for c in r.json()["items"]] == in_group
    assert [c["id"] for c in api.get(f"/clients?group_id={default_group.pk}").json()["items"]] == (
        in_default
    )
    assert api.get("/clients").json()["count"] == 5
    assert api.get("/clients?group_id=999999").json() == {"items": [], "count": 0}


def test_list_pagination(api, company, default_group):
    Client.objects.bulk_create(
        Client(company=company, group=default_group, default_currency="EUR") for _ in range(60)
    )
    ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    body = api.get("/clients").json()
    assert body["count"] == 60
    assert [c["id"] for c in body["items"]] == ids[:50]  # default limit 50
    body = api.get("/clients?limit=7&offset=10").json()
    assert body["count"] == 60
    assert [c["id"] for c in body["items"]] == ids[10:17]
    assert [c["id"] for c in api.get("/clients?limit=500").json()["items"]] == ids
    assert api.get("/clients?offset=58").json()["items"][-1]["id"] == ids[-1]
    assert api.get("/clients?offset=100").json() == {"items": [], "count": 60}
    # A client without any contact lists with empty contact fields.
    assert api.get("/clients?limit=1").json()["items"][0]["first_name"] == ""
    for bad in ("limit=501", "limit=0", "limit=-1", "offset=-1", "limit=abc"):
        r = api.get(f"/clients?{bad}")
        assert r.status_code == 422, bad
        assert list(field_errors(r)) == [bad.split("=")[0]]


def test_list_groups_of_company_are_scoped(api, company, group):
    assert ClientGroup.objects.count() == 2
    other = create_company({"name": "O", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR)
    r = api.get(f"/companies/{other.pk}/client-groups").json()
    assert [g["name"] for g in r["items"]] == ["General"]
