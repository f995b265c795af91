"""Client groups: the default group, deleting a group, identity rules, the REST resource."""

import pytest

from groupbill.audit.models import AuditEntry
from groupbill.clients import actions
from groupbill.clients.actions import create_group, delete_group
from groupbill.clients.models import Client, ClientGroup, ClientHistory
from groupbill.errors import Conflict, ValidationFailed
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import resolve_client
from tests.conftest import ACTOR, field_errors

PROBLEM = "application/problem+json"
NEW_COMPANY = {"name": "Beta", "timezone": "UTC", "default_currency": "USD"}


def groups_of(api, company_id) -> list[dict]:
    r = api.get(f"/companies/{company_id}/client-groups")
    assert r.status_code == 200
    return r.json()["items"]


# --- The default group ---------------------------------------------------------------------


def test_new_company_gets_general_as_default_group(api):
    r = api.post("/companies", NEW_COMPANY)
    assert r.status_code == 201
    company = r.json()
    (general,) = groups_of(api, company["id"])
    assert general == {
        "id": company["default_group_id"],
        "company_id": company["id"],
        "name": "General",
        "color": "#9E9E9E",
        "description": "",
        "is_default": True,
        "client_count": 0,
    }


def test_is_default_only_on_the_lowest_id(api, company, default_group):
    for name in ("B", "C"):
        assert api.post(f"/companies/{company.pk}/client-groups", {"name": name}).status_code == 201
    items = groups_of(api, company.pk)
    assert [(g["name"], g["is_default"]) for g in items] == [
        ("General", True),
        ("B", False),
        ("C", False),
    ]
    assert items[0]["id"] == default_group.pk == min(g["id"] for g in items)
    # Renaming does not move the default.
    api.patch(f"/client-groups/{default_group.pk}", {"name": "Main"})
    assert api.get(f"/client-groups/{default_group.pk}").json()["is_default"] is True
    assert api.get(f"/client-groups/{items[1]['id']}").json()["is_default"] is False
    # Each company has its own default.
    other = api.post("/companies", NEW_COMPANY).json()
    assert [g["is_default"] for g in groups_of(api, other["id"])] == [True]


def test_default_group_cannot_be_deleted(api, company, default_group, make_client):
    make_client(default_group)
    r = api.delete(f"/client-groups/{default_group.pk}")
    assert r.status_code == 409
    assert r["Content-Type"] == PROBLEM
    assert '"General"' in r.json()["detail"]
    assert ClientGroup.objects.filter(pk=default_group.pk).exists()
    assert not ClientHistory.objects.filter(event="group.moved").exists()
    # Named by its current name.
    api.patch(f"/client-groups/{default_group.pk}", {"name": "Main"})
    r = api.delete(f"/client-groups/{default_group.pk}")
    assert r.status_code == 409
    assert '"Main"' in r.json()["detail"]


def test_default_group_cannot_be_deleted_via_action(default_group):
    with pytest.raises(Conflict, match="General"):
        delete_group(default_group, actor=ACTOR)


# --- Deleting a group ------------------------------------------------------------------------


def test_deleting_a_group_moves_its_clients_to_the_default_group(
    api, company, default_group, group, make_client
):
    movers = [make_client(group) for _ in range(3)]
    stayer = make_client(default_group)
    api.put(f"/client-groups/{group.pk}/settings/invoice_days_before_renewal", {"value": 30})
    assert resolve_client(movers[0].pk)["invoice_days_before_renewal"].value == 30
    assert api.get(f"/client-groups/{group.pk}").json()["client_count"] == 3
    assert api.get(f"/client-groups/{default_group.pk}").json()["client_count"] == 1

    r = api.delete(f"/client-groups/{group.pk}")
    assert r.status_code == 204
    assert r.content == b""
    assert api.get(f"/client-groups/{group.pk}").status_code == 404
    assert api.get(f"/client-groups/{default_group.pk}").json()["client_count"] == 4
    for client in movers:
        client.refresh_from_db()
        assert client.group_id == default_group.pk
        (entry,) = ClientHistory.objects.filter(client=client, event="group.moved")
        assert "Resellers" in entry.message and "General" in entry.message
        assert entry.actor == "apikey:tests"
        # The deleted group's settings went with it.
        assert resolve_client(client.pk)["invoice_days_before_renewal"].source.value == "default"
    assert not ClientHistory.objects.filter(client=stayer, event="group.moved").exists()
    assert not SettingValue.objects.filter(group_id=group.pk).exists()
    assert [g["name"] for g in groups_of(api, company.pk)] == ["General"]


def test_deleting_an_empty_group(company, group):
    assert delete_group(group, actor=ACTOR) == 0
    assert not ClientGroup.objects.filter(pk=group.pk).exists()


def test_group_delete_is_one_transaction(monkeypatch, default_group, group, make_client):
    movers = [make_client(group) for _ in range(2)]

    def fail(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(actions, "record", fail)
    with pytest.raises(RuntimeError):
        delete_group(group, actor=ACTOR)
    assert ClientGroup.objects.filter(pk=group.pk).exists()
    for client in movers:
        client.refresh_from_db()
        assert client.group_id == group.pk
    assert not ClientHistory.objects.filter(event="group.moved").exists()


def test_deleting_a_group_of_another_company_does_not_touch_ours(api, company, group, make_client):
    client = make_client(group)
    other = api.post("/companies", NEW_COMPANY).json()
    theirs = api.post(f"/companies/{other['id']}/client-groups", {"name": "Resellers"}).json()
    assert api.delete(f"/client-groups/{theirs['id']}").status_code == 204
    client.refresh_from_db()
    assert client.group_id == group.pk


def test_client_count_follows_moves(api, company, default_group, group, make_client):
    client = make_client(default_group)
    make_client(group)
    counts = {g["name"]: g["client_count"] for g in groups_of(api, company.pk)}
    assert counts == {"General": 1, "Resellers": 1}
    api.patch(f"/clients/{client.pk}", {"group_id": group.pk})
    counts = {g["name"]: g["client_count"] for g in groups_of(api, company.pk)}
    assert counts == {"General": 0, "Resellers": 2}
    api.delete(f"/clients/{client.pk}")
    assert api.get(f"/client-groups/{group.pk}").json()["client_count"] == 1


# --- Colour -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("#1e88e5", "#1E88E5"),
        ("#ABCDEF", "#ABCDEF"),
        ("#aBc123", "#ABC123"),
        ("#000000", "#000000"),
    ],
)
def test_color_accepted_in_either_case_stored_upper(api, company, sent, stored):
    r = api.post(f"/companies/{company.pk}/client-groups", {"name": "X", "color": sent})
    assert r.status_code == 201
    assert r.json()["color"] == stored
    assert ClientGroup.objects.get(pk=r.json()["id"]).color == stored


def test_color_defaults_to_grey(api, company, group):
    assert group.color == "#1E88E5"
    r = api.post(f"/companies/{company.pk}/client-groups", {"name": "X"})
    assert r.json()["color"] == "#9E9E9E"


@pytest.mark.parametrize(
    "bad", ["1E88E5", "#12345", "#1234567", "#GGGGGG", "red", "#1E88E5 ", "#1E88E5\n", 123]
)
def test_invalid_color_refused(api, company, group, bad):
    r = api.post(f"/companies/{company.pk}/client-groups", {"name": "X", "color": bad})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["color"]
    r = api.patch(f"/client-groups/{group.pk}", {"color": bad})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["color"]
    assert ClientGroup.objects.get(pk=group.pk).color == "#1E88E5"
    assert not ClientGroup.objects.filter(name="X").exists()


# --- Name ----------------------------------------------------------------------------------------


def test_name_length(api, company):
    url = f"/companies/{company.pk}/client-groups"
    assert api.post(url, {"name": "N"}).status_code == 201
    assert api.post(url, {"name": "x" * 64}).status_code == 201
    for bad in ("", "   ", "y" * 65):
        r = api.post(url, {"name": bad})
        assert r.status_code == 422, bad
        assert list(field_errors(r)) == ["name"]
    r = api.post(url, {"color": "#123456"})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["name"]


def test_name_unique_case_insensitive_within_company(api, company, group):
    url = f"/companies/{company.pk}/client-groups"
    for dup in ("Resellers", "resellers", "RESELLERS", "general"):
        r = api.post(url, {"name": dup})
        assert r.status_code == 422, dup
        assert list(field_errors(r)) == ["name"]
    assert ClientGroup.objects.filter(company=company).count() == 2
    other = api.post("/companies", NEW_COMPANY).json()
    r = api.post(f"/companies/{other['id']}/client-groups", {"name": "Resellers"})
    assert r.status_code == 201


def test_name_unique_case_insensitive_beyond_ascii(api, company):
    url = f"/companies/{company.pk}/client-groups"
    assert api.post(url, {"name": "Ärzte"}).status_code == 201
    for dup in ("ärzte", "ÄRZTE"):
        r = api.post(url, {"name": dup})
        assert r.status_code == 422, dup
        assert list(field_errors(r)) == ["name"]


def test_duplicate_name_via_actions(company, group):
    with pytest.raises(ValidationFailed) as exc_info:
        create_group(company, {"name": "RESELLERS"}, actor=ACTOR)
    assert [e.field for e in exc_info.value.errors] == ["name"]


def test_rename_rules(api, company, group):
    other = create_group(company, {"name": "Partners"}, actor=ACTOR)
    r = api.patch(f"/client-groups/{other.pk}", {"name": "resellers"})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["name"]
    assert ClientGroup.objects.get(pk=other.pk).name == "Partners"
    # Changing only the case of its own name is fine.
    r = api.patch(f"/client-groups/{group.pk}", {"name": "RESELLERS"})
    assert r.status_code == 200
    assert r.json()["name"] == "RESELLERS"
    r = api.patch(f"/client-groups/{group.pk}", {"name": ""})
    assert r.status_code == 422


# --- The resource ----------------------------------------------------------------------------


def test_create_read_patch_group(api, company):
    r = api.post(
        f"/companies/{company.pk}/client-groups",
        {"name": "VIP", "color": "#ff0000", "description": "Big spenders"},
    )
    assert r.status_code == 201
    created = r.json()
    assert created == {
        "id": created["id"],
        "company_id": company.pk,
        "name": "VIP",
        "color": "#FF0000",
        "description": "Big spenders",
        "is_default": False,
        "client_count": 0,
    }
    assert api.get(f"/client-groups/{created['id']}").json() == created
    r = api.patch(f"/client-groups/{created['id']}", {"description": "Very big"})
    assert r.status_code == 200
    assert r.json() == created | {"description": "Very big"}
    r = api.patch(f"/client-groups/{created['id']}", {"name": "VIPs", "color": "#00ff00"})
    assert r.json() == created | {"description": "Very big", "name": "VIPs", "color": "#00FF00"}
    assert api.get(f"/client-groups/{created['id']}").json()["name"] == "VIPs"


def test_patch_unknown_field_or_unknown_group(api, group):
    r = api.patch(f"/client-groups/{group.pk}", {"colour": "#000000"})
    assert r.status_code == 422
    assert list(field_errors(r)) == ["colour"]
    r = api.patch(f"/client-groups/{group.pk}", {"is_default": True})
    assert r.status_code == 422
    for method in ("get", "delete"):
        r = getattr(api, method)("/client-groups/999999")
        assert r.status_code == 404
        assert r["Content-Type"] == PROBLEM
    assert api.patch("/client-groups/999999", {"name": "x"}).status_code == 404
    assert api.get("/companies/999999/client-groups").status_code == 404
    assert api.post("/companies/999999/client-groups", {"name": "x"}).status_code == 404


def test_group_list_pagination(api, company):
    for i in range(5):
        create_group(company, {"name": f"G{i}"}, actor=ACTOR)
    r = api.get(f"/companies/{company.pk}/client-groups?limit=2&offset=1")
    body = r.json()
    assert body["count"] == 6
    assert [g["name"] for g in body["items"]] == ["G0", "G1"]
    assert api.get(f"/companies/{company.pk}/client-groups?limit=501").status_code == 422


def test_group_clients_survive_only_in_their_company(company, default_group, group, make_client):
    make_client(group)
    delete_group(group, actor=ACTOR)
    assert set(Client.objects.values_list("group_id", flat=True)) == {default_group.pk}


def test_group_create_and_update_are_audited(api, company):
    r = api.post(f"/companies/{company.pk}/client-groups", {"name": "VIP"})
    gid = r.json()["id"]
    api.patch(f"/client-groups/{gid}", {"name": "VIP2", "description": ""})
    created = AuditEntry.objects.get(action="group.create", object_id=gid)
    assert created.new["value"]["name"] == "VIP"
    (renamed,) = AuditEntry.objects.filter(action="group.update", object_id=gid)
    assert (renamed.key, renamed.old, renamed.new) == ("name", {"value": "VIP"}, {"value": "VIP2"})


def test_nul_characters_are_refused_not_a_server_error(api, company):
    r = api.post(f"/companies/{company.pk}/client-groups", {"name": "Bad\x00name"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "name", "message": "must not contain NUL characters"}]
    r = api.post("/clients", {"company_id": company.pk, "first_name": "A\x00"})
    assert r.status_code == 422
