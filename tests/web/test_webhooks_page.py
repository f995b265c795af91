"""The company's Webhooks page: add an endpoint (its secret shown once), see deliveries
with their last response, Redeliver."""

import pytest

from groupbill.companies.actions import create_company
from groupbill.notices import webhooks
from groupbill.notices.models import WebhookDelivery
from tests.conftest import ARTIFACTS, login
from tests.webhook_receiver import Receiver, deliver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_the_secret_is_shown_on_the_answer_to_the_add_only(staff, company):
    url = f"/companies/{company.pk}/webhooks/"
    page = staff.get(url).content.decode()
    assert "No endpoints yet." in page and "No deliveries yet." in page

    refused = staff.post(url, {"url": "ftp://erp.example.com", "event_types": []})
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "URL must be an http:// or https:// URL" in text
    assert "Events: must be a list of at least one event type" in text
    assert 'value="ftp://erp.example.com"' in text  # what was typed stays

    added = staff.post(url, {"url": "https://erp.example.com/hook",
                             "event_types": ["invoice.paid", "client.created"]})  # fmt: skip
    assert added.status_code == 201
    [endpoint] = company.webhook_endpoints.all()
    assert endpoint.secret in added.content.decode()
    again = staff.get(url).content.decode()
    assert endpoint.secret not in again
    assert "https://erp.example.com/hook" in again and "invoice.paid, client.created" in again
    assert endpoint.secret not in staff.get(f"/companies/{company.pk}/").content.decode()


def test_other_companies_deliveries_cannot_be_redelivered(staff, company, make_client):
    webhooks.create_endpoint(
        company, {"url": "https://erp.example.com/h", "event_types": ["client.created"]},
        actor="test")  # fmt: skip
    make_client()
    delivery = WebhookDelivery.objects.get()
    other = create_company({"name": "Other Co", "timezone": "UTC", "default_currency": "USD"},
                           actor="test").pk  # fmt: skip
    answer = staff.post(f"/companies/{other}/webhook-deliveries/{delivery.pk}/redeliver/",
                        follow=True)  # fmt: skip
    assert f"Delivery #{delivery.pk} does not exist." in answer.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending" and not delivery.redeliver_requested


@pytest.mark.django_db(transaction=True)
def test_add_see_the_failure_and_redeliver_in_a_browser(
    browser_page, staff_user, company, make_client, receiver
):
    page = browser_page
    login(page)
    page.goto(f"/companies/{company.pk}/")
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL").fill(receiver.url + "/groupbill")
    page.get_by_label("Description").fill("ERP sync")
    page.get_by_role("checkbox", name="client.created").check()
    page.get_by_role("checkbox", name="invoice.issued").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret code").inner_text()
    assert secret.startswith("whsec_")
    page.screenshot(path=f"{ARTIFACTS}/webhooks-added.png", full_page=True)

    make_client(first_name="Grace", email="grace@example.com")
    receiver.status = 500
    assert "webhooks: 0 sent, 1 retry" in deliver()
    page.goto(f"/companies/{company.pk}/webhooks/")
    row = page.locator("#deliveries tbody tr").first
    assert "client.created" in row.inner_text()
    assert "HTTP 500: receiver says" in row.inner_text()
    assert secret not in page.content()

    receiver.status = 200
    row.get_by_role("button", name="Redeliver").click()
    assert "is queued again" in page.locator("body").inner_text()
    assert "webhooks: 1 sent" in deliver()
    page.reload()
    row = page.locator("#deliveries tbody tr").first
    assert "Sent" in row.inner_text() and "HTTP 200" in row.inner_text()
    row.locator("summary").click()
    assert "(redelivery)" in row.inner_text()
    page.screenshot(path=f"{ARTIFACTS}/webhooks-redelivered.png", full_page=True)
    assert len(receiver.requests) == 2
