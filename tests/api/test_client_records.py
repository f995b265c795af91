"""API parity with the client's page: its messages and their status, its notes and its
history; a payment account's label and auto debit; suspension dated by `today`."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from groupbill.audit.models import AuditEntry
from groupbill.companies.queries import company_today
from groupbill.notices.models import OutboxMessage
from groupbill.services.models import Service
from tests.api.test_auth import assert_problem
from tests.api.test_ledger import CARD, catalog, fields, order  # noqa: F401 (fixture)
from tests.conftest import field_errors


def _message(client, template, status, **extra):
    return OutboxMessage.objects.create(
        company=client.company,
        client=client,
        template=template,
        recipients=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
        key=f"{template}:{client.pk}",
        status=status,
        **extra,
    )


def test_a_clients_messages_with_their_status_and_a_status_filter(api, ada, make_client):
    sent = _message(ada, "invoice_created", "sent", attempts=1)
    _message(ada, "notice_first", "failed", attempts=3, last_error="550 mailbox unavailable")
    _message(make_client(email="bob@example.com"), "invoice_created", "sent")
    r = api.get(f"/clients/{ada.pk}/messages")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    assert [(m["template"], m["status"], m["status_label"], m["attempts"], m["last_error"])
            for m in body["items"]] == [
        ("invoice_created", "sent", "Sent", 1, ""),
        ("notice_first", "failed", "Failed", 3, "550 mailbox unavailable"),
    ]  # fmt: skip
    assert body["items"][0]["recipients"] == [{"name": "Ada Lovelace", "email": "ada@example.com"}]
    assert body["items"][0]["id"] == sent.pk
    failed = api.get(f"/clients/{ada.pk}/messages?status=failed").json()
    assert [m["template"] for m in failed["items"]] == ["notice_first"]
    r = api.get(f"/clients/{ada.pk}/messages?status=lost")
    assert (r.status_code, fields(r)) == (422, ["status"])
    assert_problem(api.get("/clients/999999/messages"), 404)


def test_add_and_list_notes_and_read_the_history(api, ada):
    r = api.post(f"/clients/{ada.pk}/notes", {"text": "  Prefers calls after 10:00  "})
    assert r.status_code == 201, r.content
    note = r.json()
    assert (note["client_id"], note["text"], note["actor"]) == (
        ada.pk,
        "Prefers calls after 10:00",
        "apikey:tests",
    )
    api.post(f"/clients/{ada.pk}/notes", {"text": "Asked for a paper invoice"})
    listed = api.get(f"/clients/{ada.pk}/notes").json()
    assert [n["text"] for n in listed["items"]] == [
        "Prefers calls after 10:00",
        "Asked for a paper invoice",
    ]
    r = api.post(f"/clients/{ada.pk}/notes", {"text": "   "})
    assert (r.status_code, list(field_errors(r))) == (422, ["text"])
    r = api.post(f"/clients/{ada.pk}/notes", {})
    assert (r.status_code, fields(r)) == (422, ["text"])
    assert_problem(api.post("/clients/999999/notes", {"text": "x"}), 404)

    api.patch(f"/clients/{ada.pk}", {"status": "inactive"})
    history = api.get(f"/clients/{ada.pk}/history").json()
    assert history["count"] == ada.history.count() >= 1
    last = history["items"][-1]
    assert (last["client_id"], last["actor"]) == (ada.pk, "apikey:tests")
    assert set(last) == {"id", "client_id", "at", "actor", "event", "message", "data"}
    assert_problem(api.get("/clients/999999/history"), 404)


def _card(api, client, **extra):
    r = api.post(f"/clients/{client.pk}/payment-accounts", CARD | extra)
    assert r.status_code == 201, r.content
    return r.json()


def test_a_payment_account_is_renamed_and_its_auto_debit_turned_on_and_off(api, ada):
    visa = _card(api, ada, label="Visa", is_autodebit=True)
    bank = _card(api, ada, reference="tok_other", last4="1111", label="Old")
    r = api.patch(f"/payment-accounts/{bank['id']}", {"label": "Company card"})
    assert (r.status_code, r.json()["label"], r.json()["is_autodebit"]) == (
        200,
        "Company card",
        False,
    )
    r = api.patch(f"/payment-accounts/{bank['id']}", {"is_autodebit": True})
    assert (r.status_code, r.json()["is_autodebit"]) == (200, True)
    assert api.get(f"/payment-accounts/{visa['id']}").json()["is_autodebit"] is False
    r = api.patch(f"/payment-accounts/{bank['id']}", {"is_autodebit": False})
    assert (r.status_code, r.json()["is_autodebit"], r.json()["label"]) == (
        200,
        False,
        "Company card",
    )
    accounts = api.get(f"/clients/{ada.pk}/payment-accounts").json()["items"]
    assert [a["is_autodebit"] for a in accounts] == [False, False]
    assert AuditEntry.objects.filter(action="payment_account.update").count() == 2
    # Nothing else changes, nothing may be null, the number is never the caller's.
    for body, field in [
        ({"label": None}, "label"),
        ({"is_autodebit": "yes"}, "is_autodebit"),
        ({"label": "x" * 65}, "label"),
        ({"last4": "9999"}, "last4"),
    ]:
        r = api.patch(f"/payment-accounts/{bank['id']}", body)
        assert (r.status_code, fields(r)) == (422, [field]), body
    assert api.get(f"/payment-accounts/{bank['id']}").json()["label"] == "Company card"
    assert_problem(api.patch("/payment-accounts/999999", {"label": "x"}), 404)


def test_staff_suspend_and_unsuspend_take_today(api, catalog, ada):  # noqa: F811
    sid = order(api, ada, catalog.host_month)["id"]
    api.post(f"/services/{sid}/provision", {})
    today = company_today(ada.company)
    day = today - timedelta(days=3)
    r = api.post(f"/services/{sid}/suspend", {"reason": "abuse", "today": day.isoformat()})
    assert (r.status_code, r.json()["status"]) == (200, "suspended")
    service = Service.objects.get(pk=sid)
    local = service.suspended_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert local.date() == day
    r = api.post(f"/services/{sid}/unsuspend", {"reason": "paid up", "today": today.isoformat()})
    assert (r.status_code, r.json()["status"]) == (200, "active")
    events = api.get(f"/services/{sid}/history").json()["items"]
    assert [(e["event"], e["reason"]) for e in events[-2:]] == [
        ("suspend", "abuse"),
        ("unsuspend", "paid up"),
    ]
    r = api.post(f"/services/{sid}/suspend", {"reason": "abuse", "today": "0001-01-01"})
    assert (r.status_code, fields(r)) == (422, ["today"])
    assert Service.objects.get(pk=sid).status == "active"
