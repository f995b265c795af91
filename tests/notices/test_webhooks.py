"""The company's outgoing webhooks against a real receiver on loopback, driven as the
scheduler and the worker drive them (`groupbill deliver --now`)."""

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from groupbill.billing import invoices, payments
from groupbill.clients.actions import update_client
from groupbill.errors import ValidationFailed
from groupbill.notices import webhook_sender, webhooks
from groupbill.notices.models import WebhookAttempt, WebhookDelivery
from tests import book
from tests.webhook_receiver import Receiver

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = "staff:test"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def readme_verifier():
    """The Python snippet of README.md's "Outgoing webhooks", exactly as printed there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Outgoing webhooks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(code, namespace)
    return namespace["verified_event"]


def deliver(at: datetime) -> str:
    out = io.StringIO()
    call_command("deliver", "--now", at.isoformat(), stdout=out)
    return out.getvalue()


def subscribe(company, url, *types):
    return webhooks.create_endpoint(company, {"url": url, "event_types": list(types)},
                                    actor=ACTOR)  # fmt: skip


def events_of(receiver, secret):
    verify = readme_verifier()
    return [verify(secret, r["headers"]["Groupbill-Signature"], r["body"])
            for r in receiver.requests]  # fmt: skip


def test_a_receiver_failing_twice_gets_each_event_once_after_the_retries(
    company, make_client, receiver
):
    _, secret = subscribe(company, receiver.url + "/hooks", "client.created",
                          "invoice.created", "invoice.issued")  # fmt: skip
    client = make_client(first_name="Grace", email="grace@example.com")
    line = invoices.NewLine(description="Consulting", unit_amount=10000)
    invoice = invoices.create_invoice(client, [line], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=date(2026, 3, 2), actor=ACTOR)
    payments.pay_invoice(invoice, amount=invoice.total, actor=ACTOR)  # paid: not subscribed

    receiver.statuses = [500, 500, 500, 503, 503, 503]  # each event fails twice
    assert "webhooks: 0 sent, 3 retry" in deliver(T0)
    assert "webhooks" not in deliver(T0 + timedelta(seconds=59))  # backing off: 1 minute
    assert "webhooks: 0 sent, 3 retry" in deliver(T0 + timedelta(minutes=1))
    assert "webhooks" not in deliver(T0 + timedelta(minutes=2))  # then 2 minutes
    assert "webhooks: 3 sent" in deliver(T0 + timedelta(minutes=3))
    assert "webhooks" not in deliver(T0 + timedelta(hours=2))  # a 2xx is never sent again

    events = events_of(receiver, secret)
    assert all(events), "every request is signed with the endpoint's secret"
    assert [e["type"] for e in events[-3:]] == ["client.created", "invoice.created",
                                                "invoice.issued"]  # fmt: skip
    assert len(events) == 9 and len({e["id"] for e in events}) == 3  # retries keep the id
    answered_200 = [e["id"] for e in events[6:]]
    assert sorted(answered_200) == sorted({e["id"] for e in events})
    assert {r["path"] for r in receiver.requests} == {"/hooks"}

    issued = events[-1]
    assert issued == {
        "id": f"invoice.issued.{invoice.pk}",
        "type": "invoice.issued",
        "created_at": issued["created_at"],
        "company_id": company.pk,
        "data": {"invoice": {
            "id": invoice.pk, "number": 1, "client_id": client.pk, "status": "open",
            "currency": "EUR", "subtotal": 10000, "tax_total": issued["data"]["invoice"][
                "tax_total"], "total": invoice.total, "credited": 0, "amount_paid": 0,
            "balance_due": invoice.total, "issued_on": "2026-03-02", "due_on": "2026-03-02",
        }},
    }  # fmt: skip
    headers = receiver.requests[-1]["headers"]
    assert headers["Groupbill-Event-Id"] == issued["id"]
    assert headers["Groupbill-Event-Type"] == "invoice.issued"
    assert headers["Content-Type"] == "application/json"

    delivery = WebhookDelivery.objects.get(event_id=issued["id"])
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 3, 200)
    assert delivery.response_excerpt == "receiver says"
    log = list(delivery.attempt_log.values_list("response_code", flat=True))
    assert log == [500, 503, 200]
    # Paid and payment events were not subscribed to: never written, never sent.
    assert set(WebhookDelivery.objects.values_list("event_type", flat=True)) == {
        "client.created", "invoice.created", "invoice.issued"}  # fmt: skip


def test_a_tampered_body_or_a_wrong_secret_fails_the_readme_check(company, make_client, receiver):
    _, secret = subscribe(company, receiver.url, "client.created")
    make_client()
    deliver(T0)
    [request] = receiver.requests
    verify = readme_verifier()
    header, body = request["headers"]["Groupbill-Signature"], request["body"]
    assert verify(secret, header, body)["type"] == "client.created"
    assert verify(secret + "x", header, body) is None
    assert verify(secret, header, body.replace(b"client", b"cliant")) is None


def test_redelivery_sends_again_and_logs_it(company, make_client, receiver):
    _, secret = subscribe(company, receiver.url, "client.created", "client.changed")
    client = make_client()
    update_client(client, {"language": "de"}, actor=ACTOR)
    assert "webhooks: 2 sent" in deliver(T0)
    created = WebhookDelivery.objects.get(event_type="client.created")
    changed = events_of(receiver, secret)[1]
    assert changed["data"]["client"]["changed"] == ["language"]
    assert changed["data"]["client"]["language"] == "de"

    webhooks.redeliver(created, actor=ACTOR)
    assert "webhooks: 1 sent" in deliver(T0 + timedelta(minutes=5))
    events = events_of(receiver, secret)
    assert [e["id"] for e in events] == [created.event_id, changed["id"], created.event_id]
    log = WebhookAttempt.objects.filter(delivery=created)
    assert [(a.response_code, a.redelivery) for a in log] == [(200, False), (200, True)]
    created.refresh_from_db()
    assert (created.status, created.attempts) == ("sent", 2)


def test_nothing_is_queued_for_a_change_rolled_back_or_an_inactive_endpoint(
    company, make_client, receiver
):
    endpoint, _ = subscribe(company, receiver.url, "client.created")
    with pytest.raises(RuntimeError), transaction.atomic():
        make_client()
        raise RuntimeError("the change fails after its event was written")
    webhooks.update_endpoint(endpoint, {"active": False}, actor=ACTOR)
    make_client(email="later@example.com")
    assert not WebhookDelivery.objects.exists()
    deliver(T0)
    assert receiver.requests == []


def test_an_endpoint_is_validated_with_clear_messages(company):
    with pytest.raises(ValidationFailed) as failed:
        webhooks.create_endpoint(
            company, {"url": "ftp://example.com", "event_types": ["invoice.sent"]}, actor=ACTOR
        )
    messages = {e.field: e.message for e in failed.value.errors}
    assert messages["url"] == "must be an http:// or https:// URL"
    assert messages["event_types"].startswith("unknown event type 'invoice.sent'; known: ")
    with pytest.raises(ValidationFailed) as failed:
        webhooks.create_endpoint(company, {"url": "https://example.com/h"}, actor=ACTOR)
    assert {e.field: e.message for e in failed.value.errors} == {"event_types": "is required"}


def test_a_receiver_that_never_answers_2xx_is_given_up_after_8_attempts(
    company, make_client, receiver
):
    subscribe(company, receiver.url, "client.created")
    make_client()
    receiver.status = 410
    moment = T0
    for _ in range(8):
        deliver(moment)
        moment += timedelta(hours=1)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 8)
    assert delivery.last_error == "gave up after 8 attempts: answered HTTP 410"
    deliver(moment + timedelta(days=1))
    assert len(receiver.requests) == 8


@pytest.mark.django_db(transaction=True)
def test_engine_runs_announce_their_invoices_and_the_run(company, make_client, receiver):
    book.build(company, make_client)
    _, secret = subscribe(company, receiver.url, "invoice.issued", "engine.run_finished")
    with pytest.raises(SystemExit):
        call_command("run", "--as-of", "2026-03-02T12:00:00+01:00", "--json",
                     stdout=io.StringIO())  # fmt: skip
    deliver(datetime.now(UTC))
    events = events_of(receiver, secret)
    issued = [e for e in events if e["type"] == "invoice.issued"]
    assert issued, "the renewals issued invoices"
    assert all(e["data"]["invoice"]["currency"] == "EUR" for e in issued)
    [finished] = [e for e in events if e["type"] == "engine.run_finished"]
    tasks = {t["name"]: t for t in finished["data"]["run"]["tasks"]}
    assert finished["data"]["run"]["status"] in ("done", "failed")
    assert sum(t["applied"] for t in tasks.values()) >= len(issued)
    assert json.loads(json.dumps(finished)) == finished
    # The run's moment is in the company's zone; the events say it in UTC.
    assert all(e["created_at"].endswith("Z") for e in events)


def test_a_services_life_and_its_money_each_send_their_event(company, make_client, receiver):
    """Ordered, paid (payment and invoice), suspended, unsuspended, cancelled (its unpaid
    renewal voided), a payment refunded: each event once, in that order, signed."""
    from groupbill.catalog.models import Package, PackagePrice
    from groupbill.services import actions as services

    _, secret = subscribe(company, receiver.url, *webhooks.EVENT_TYPES)
    client = make_client()
    hosting = Package.objects.create(company=company, name="Hosting")
    monthly = PackagePrice.objects.create(package=hosting, unit="month", count=1,
                                          currency="EUR", price=1000)  # fmt: skip
    service = services.add_service(client, pricing=monthly, start_on=date(2026, 3, 2),
                                   actor=ACTOR)  # fmt: skip
    invoice = service.first_invoice
    payments.pay_invoice(invoice, amount=invoice.total + 500, actor=ACTOR)  # 500 left over
    services.provision(service, actor=ACTOR)
    services.suspend(service, actor=ACTOR, reason="abuse report")
    services.unsuspend(service, actor=ACTOR)
    extra = invoices.create_invoice(client, [invoices.NewLine("Setup help", 2000)], actor=ACTOR)
    invoices.void_invoice(extra, actor=ACTOR, reason="agreed free")
    services.cancel(service, actor=ACTOR, today=date(2026, 3, 20), reason="moving away")
    payment = invoice.applications.get().transaction
    payments.refund(payment, amount=500, actor=ACTOR, reference="bank")
    deliver(T0)

    events = events_of(receiver, secret)
    assert all(events)
    assert [e["type"] for e in events] == [
        "client.created", "invoice.created", "invoice.issued", "service.created",
        "invoice.paid", "payment.succeeded", "service.suspended", "service.unsuspended",
        "invoice.created", "invoice.voided", "service.cancelled", "payment.refunded",
    ]  # fmt: skip
    by_type = {e["type"]: e["data"] for e in events}
    assert by_type["payment.succeeded"]["payment"] | {"id": 0} == {
        "id": 0, "client_id": client.pk, "kind": "payment", "status": "approved",
        "amount": invoice.total + 500, "currency": "EUR", "method": "manual",
        "refund_of": None}  # fmt: skip
    assert by_type["payment.succeeded"]["invoice"]["status"] == "paid"
    refund = by_type["payment.refunded"]["payment"]
    assert (refund["kind"], refund["amount"], refund["currency"]) == ("refund", 500, "EUR")
    assert refund["refund_of"] == payment.pk
    assert by_type["service.suspended"]["service"]["reason"] == "abuse report"
    assert by_type["service.cancelled"]["service"]["status"] == "canceled"
    assert by_type["service.cancelled"]["service"]["reason"] == "moving away"
    assert by_type["invoice.voided"]["reason"] == "agreed free"
    assert by_type["invoice.voided"]["invoice"]["total"] == 2000
    assert len({e["id"] for e in events}) == len(events)


def test_an_endpoint_deleted_while_its_delivery_is_sent_ends_quietly(
    company, make_client, receiver
):
    endpoint, _ = subscribe(company, receiver.url, "client.created")
    make_client()
    receiver.hold = True  # the receiver waits until released

    def delete_then_answer(url, body, headers):
        webhooks.delete_endpoint(endpoint, actor=ACTOR)
        receiver.release.set()
        return webhook_sender.post(url, body, headers)

    assert webhook_sender.deliver(T0, poster=delete_then_answer)["deleted"] == 1
    assert not WebhookDelivery.objects.exists() and not WebhookAttempt.objects.exists()


def test_a_primary_contacts_edit_is_a_client_change_announced_once(company, make_client, receiver):
    from groupbill.clients.actions import update_contact
    from groupbill.clients.queries import primary_contact

    client = make_client()
    _, secret = subscribe(company, receiver.url, "client.changed")
    update_contact(primary_contact(client), {"email": "ada@new.example"}, actor=ACTOR)
    update_client(client, {"first_name": "Augusta", "language": "fr"}, actor=ACTOR)
    update_client(client, {"first_name": "Augusta"}, actor=ACTOR)  # nothing changes
    deliver(T0)
    changes = [e["data"]["client"]["changed"] for e in events_of(receiver, secret)]
    assert changes == [["email"], ["language", "first_name"]]
