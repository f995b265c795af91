"""The final payment notice tells a client their services may be suspended only when the
engine would suspend them: not in a group that never suspends, nor for a client exempt
from automatic suspension. Rendered as the client reads it."""

from groupbill.clients.actions import add_contact, update_client
from groupbill.notices.models import OutboxMessage
from groupbill.notices.sender import build_email
from tests.conftest import ACTOR
from tests.engine.test_collections import (  # noqa: F401 (fixtures)
    DUE,
    at,
    bill,
    customer,
    day,
    other_group,
    paid_on,
    settings,
    sim,
)

WARNING = "This is the final notice before your services may be suspended."


def _final_notice_text(invoice) -> str:
    message = OutboxMessage.objects.get(invoice=invoice, template="notice_third")
    return build_email(message).body


def test_the_final_notice_warns_only_clients_whose_services_would_be_suspended(
    group,
    other_group,  # noqa: F811
    make_client,
    sim,  # noqa: F811
):
    settings(other_group, suspend_services_days_after_due="never")
    ada = customer(make_client, group, "Ada")  # suspended 7 days after the due date
    bob = customer(make_client, other_group, "Bob")  # his group never suspends
    cleo = customer(make_client, group, "Cleo")
    update_client(cleo, {"autosuspend": False}, actor=ACTOR)  # exempt
    bills = {c.pk: bill(c, 2550, issued=day(1), due=DUE) for c in (ada, bob, cleo)}

    sim.days(day(1), day(17))

    assert WARNING in _final_notice_text(bills[ada.pk])
    for client in (bob, cleo):
        text = _final_notice_text(bills[client.pk])
        assert "This is the final notice." in text
        assert "suspended" not in text


def test_a_final_notice_queued_before_the_wording_knew_keeps_the_warning(
    group,
    make_client,
    sim,  # noqa: F811
):
    ada = customer(make_client, group, "Ada")
    invoice = bill(ada, 2550, issued=day(1), due=DUE)
    sim.days(day(1), day(17))
    message = OutboxMessage.objects.get(invoice=invoice, template="notice_third")
    del message.context["suspends"]
    message.save()
    assert WARNING in _final_notice_text(invoice)


def test_every_client_message_goes_to_the_billing_contacts_else_the_primary(
    group,
    make_client,
    sim,  # noqa: F811
):
    """One rule for every message: a payment received, a notice and a delivered invoice
    all go to Ada's billing contact once she has one; Bob, with none, gets them all."""
    ada = customer(make_client, group, "Ada")
    bob = customer(make_client, group, "Bob")
    add_contact(ada, {"role": "billing", "first_name": "Accounts", "email": "ap@ada.example"},
                actor=ACTOR)  # fmt: skip
    first, second = bill(ada, 1000, issued=day(1), due=DUE), bill(ada, 500, issued=day(1), due=DUE)
    bobs = bill(bob, 1000, issued=day(1), due=DUE)
    sim.days(day(1), day(9))
    for invoice in (first, second, bobs):
        paid_on(at(day(9), 15), invoice, invoice.total)
    to = {
        (m.invoice_id, m.template): [r["email"] for r in m.recipients]
        for m in OutboxMessage.objects.filter(template__in=["payment_received", "notice_first"])
    }
    assert to == {
        (first.pk, "notice_first"): ["ap@ada.example"],
        (second.pk, "notice_first"): ["ap@ada.example"],
        (bobs.pk, "notice_first"): ["bob@example.com"],
        (first.pk, "payment_received"): ["ap@ada.example"],
        (second.pk, "payment_received"): ["ap@ada.example"],
        (bobs.pk, "payment_received"): ["bob@example.com"],
    }
