"""Events queue their messages once, in the action's transaction, and each arrives through
a real SMTP server with its template's text."""

from datetime import UTC, date, datetime

from groupbill.billing import accounts, charges, invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.catalog.models import Package, PackagePrice
from groupbill.notices.models import OutboxMessage
from groupbill.notices.rendering import DEFAULTS
from groupbill.services import actions as services
from groupbill.settings_catalog.actions import set_group_setting
from tests.conftest import ACTOR
from tests.notices.test_outbox_sender import deliver


def _templates(client):
    return sorted(OutboxMessage.objects.filter(client=client).values_list("template", flat=True))


def test_each_event_queues_its_message_once_and_it_is_sent(company, group, make_client, smtp):
    server = smtp()
    ada = make_client(group=group, email="ada@example.com")
    package = Package.objects.create(company=company, name="Hosting")
    price = PackagePrice.objects.create(
        package=package, unit="month", count=1, currency="EUR", price=1000
    )
    service = services.add_service(ada, pricing=price, start_on=date(2026, 1, 1), actor=ACTOR)
    payments.pay_invoice(service.first_invoice, amount=1000, actor=ACTOR)  # payment_received
    services.provision(service, actor=ACTOR)
    services.suspend(service, actor=ACTOR, reason="abuse report")  # service_suspended
    services.unsuspend(service, actor=ACTOR)  # service_unsuspended

    declined = accounts.add_payment_account(
        ada,
        {
            "kind": "card",
            "gateway": "test",
            "reference": "tok_0002",
            "last4": "0002",
            "is_autodebit": True,
        },
        actor=ACTOR,
    )
    extra = invoices.create_invoice(ada, [NewLine("Extra IP", 300)], actor=ACTOR)
    invoices.issue_invoice(extra, issued_on=date(2026, 1, 5), actor=ACTOR)
    charges.pay_with_account(
        extra, declined, actor=ACTOR, principal=ACTOR, key="k1"
    )  # payment_declined
    accounts.disable_for_autodebit(declined, reason="3 declines", actor=ACTOR)
    accounts.disable_for_autodebit(declined, reason="3 declines", actor=ACTOR)  # once only

    set_group_setting(group, "queue_service_changes_until_paid", True, actor=ACTOR)
    bigger = PackagePrice.objects.create(
        package=Package.objects.create(company=company, name="Hosting XL"),
        unit="month",
        count=1,
        currency="EUR",
        price=3100,
    )
    change = services.change_service(service, pricing=bigger, today=date(2026, 1, 15), actor=ACTOR)
    services.cancel_queued_change(change, actor=ACTOR, reason="unpaid")  # change cancelled

    assert _templates(ada) == sorted(
        [
            "payment_received",
            "service_suspended",
            "service_unsuspended",
            "payment_declined",
            "payment_account_disabled",
            "service_change_cancelled",
        ]
    )
    services.suspend(service, actor=ACTOR, reason="again")
    assert _templates(ada).count("service_suspended") == 2  # each suspension is an event

    deliver(datetime(2026, 1, 16, tzinfo=UTC))
    statuses = set(OutboxMessage.objects.filter(client=ada).values_list("status", flat=True))
    assert statuses == {"sent"}
    subjects = sorted(str(msg["Subject"]) for _, msg in server.received)
    assert len(subjects) == 7
    for template in set(_templates(ada)):
        assert any(DEFAULTS[template][0].split("{")[0].strip() in s for s in subjects), template
