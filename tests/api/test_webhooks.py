"""/api/v1/webhook-endpoints: staff register endpoints, read deliveries with their
responses, and redeliver; the signing secret is shown once."""

import json

import pytest

from groupbill.audit.models import AuditEntry
from tests.conftest import field_errors
from tests.webhook_receiver import Receiver, deliver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_crud_shows_the_secret_once(api, company):
    created = api.post("/webhook-endpoints", {
        "company_id": company.pk, "url": "https://hooks.example.com/groupbill",
        "event_types": ["invoice.paid", "client.created"], "description": "ERP"})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert body["event_types"] == ["invoice.paid", "client.created"]
    endpoint_id = body["id"]

    answers = [
        api.get("/webhook-endpoints"),
        api.get(f"/webhook-endpoints?company_id={company.pk}"),
        api.get(f"/webhook-endpoints/{endpoint_id}"),
        api.patch(f"/webhook-endpoints/{endpoint_id}", {"active": False}),
        api.get(f"/webhook-endpoints/{endpoint_id}/deliveries"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.content
        assert secret not in answer.content.decode()
        assert "secret" not in answer.content.decode()
    assert answers[1].json()["count"] == 1
    assert answers[3].json()["active"] is False
    assert api.delete(f"/webhook-endpoints/{endpoint_id}").status_code == 204
    assert api.get(f"/webhook-endpoints/{endpoint_id}").status_code == 404
    audit = list(AuditEntry.objects.filter(action__startswith="webhook_endpoint.").values())
    assert len(audit) == 3 and secret not in json.dumps(audit, default=str)


def test_refusals_name_the_field(api, company):
    answer = api.post("/webhook-endpoints", {"company_id": company.pk,
                                             "url": "javascript:alert(1)",
                                             "event_types": ["invoice.sent"]})  # fmt: skip
    assert answer.status_code == 422
    errors = field_errors(answer)
    assert errors["url"] == "must be an http:// or https:// URL"
    assert errors["event_types"].startswith("unknown event type 'invoice.sent'")
    answer = api.post("/webhook-endpoints", {"company_id": 999999, "url": "https://a.example",
                                             "event_types": ["invoice.paid"]})  # fmt: skip
    assert answer.status_code == 422 and "company_id" in field_errors(answer)
    twice = ["invoice.paid", "invoice.paid"]
    answer = api.post("/webhook-endpoints", {"company_id": company.pk, "url": "https://a.example",
                                             "event_types": twice})  # fmt: skip
    assert answer.status_code == 422
    assert field_errors(answer)["event_types"] == "names 'invoice.paid' more than once"


def test_deliveries_list_their_responses_and_redeliver(api, company, make_client, receiver):
    body = {"company_id": company.pk, "url": receiver.url, "event_types": ["client.created"]}
    endpoint = api.post("/webhook-endpoints", body).json()
    client = make_client()
    receiver.status = 503
    assert "webhooks: 0 sent, 1 retry" in deliver()
    listed = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries").json()
    [delivery] = listed["items"]
    assert delivery["event_id"] == f"client.created.{client.pk}"
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert (delivery["response_code"], delivery["response_excerpt"]) == (503, "receiver says")
    assert delivery["last_error"] == "answered HTTP 503"
    assert delivery["payload"]["data"]["client"]["id"] == client.pk
    assert [a["response_code"] for a in delivery["attempt_log"]] == [503]

    receiver.status = 200
    path = f"/webhook-endpoints/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
    answer = api.post(path, {})
    assert answer.status_code == 202
    assert answer.json()["status"] == "pending" and answer.json()["next_attempt_at"] is None
    assert "webhooks: 1 sent" in deliver()
    [delivery] = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries").json()["items"]
    assert delivery["status"] == "sent"
    log = [(a["response_code"], a["redelivery"]) for a in delivery["attempt_log"]]
    assert log == [(503, False), (200, True)]
    assert len(receiver.requests) == 2
    assert api.post(f"/webhook-endpoints/{endpoint['id']}/deliveries/999/redeliver",
                    {}).status_code == 404  # fmt: skip
