"""The portal's self-service actions, driven over HTTP (GET the preview, POST to confirm),
checked to the cent against the ledger.

The company charges 19 % VAT on top of prices in Germany, where Ada lives. Her Basic
hosting (10.00 EUR a month, Pro is 30.00) started on January 10th, 2026, so her period is
January 10th to February 10th: 31 days. "Today" is set with `groupbill.clock.frozen_at`
(noon in Berlin), which is what `company_today` reads.
"""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import count
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from groupbill import clock
from groupbill.audit.models import AuditEntry
from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS
from groupbill.automation.tasks import service_changes as service_changes_task
from groupbill.billing import charges, payments
from groupbill.billing.models import (
    Application,
    CreditNote,
    CreditNoteSequence,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    SandboxCharge,
    Transaction,
)
from groupbill.catalog.models import Package, PackagePrice
from groupbill.companies.models import TaxRule
from groupbill.notices.models import OutboxMessage
from groupbill.portal import actions as portal_actions
from groupbill.portal.preview import Line, Reduced
from groupbill.provisioning import test as test_module
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceChange, ServiceEvent
from groupbill.settings_catalog.actions import set_group_settings
from tests.conftest import ACTOR, portal_session

BERLIN = ZoneInfo("Europe/Berlin")
JAN10 = date(2026, 1, 10)  # the services' anchor: periods run from the 10th to the 10th
JAN25 = date(2026, 1, 25)  # 16 of the period's 31 days are left (January 25th - February 9th)
FEB05 = date(2026, 2, 5)  # the March period is invoiced (5 days before renewal), due Feb 10th
FEB10 = date(2026, 2, 10)


@contextmanager
def on(day: date):
    """Noon in Berlin on `day`, for everything that asks `groupbill.clock`."""
    with clock.frozen_at(datetime.combine(day, time(12), tzinfo=BERLIN)):
        yield


@pytest.fixture
def prices(company):
    def package(name):
        return Package.objects.create(company=company, name=name, module="test")

    basic, pro, backup = package("Basic"), package("Pro"), package("Backup")
    backup.addon_of.add(basic, pro)

    def price(pkg, amount, unit="month"):
        return PackagePrice.objects.create(package=pkg, unit=unit, count=1, currency="EUR",
                                           price=amount)  # fmt: skip

    return {
        "basic": price(basic, 1000),
        "basic_year": price(basic, 10000, "year"),
        "pro": price(pro, 3000),
        "backup": price(backup, 500),
    }


@pytest.fixture
def configure(group):
    """The group's settings for a test; every self-service action allowed."""

    def apply(**values):
        allowed = {
            "client_can_cancel_services": True,
            "client_can_change_package": True,
            "client_can_change_term": True,
            "client_can_create_addons": True,
        }
        set_group_settings(group, allowed | values, actor=ACTOR)

    apply()
    return apply


_emails = count(1)


@pytest.fixture
def german_ada(company, group, make_client, configure):
    TaxRule.objects.create(company=company, level=1, name="VAT", country="DE", rate=Decimal("19"))
    return make_client(group=group, country="DE", email=f"ada{next(_emails)}@example.com")


@pytest.fixture
def http(german_ada):
    return portal_session(german_ada)


def active(client, pricing, day=JAN10) -> Service:
    """Ordered on `day`, its first invoice paid, provisioned."""
    with on(day):
        service = services.add_service(client, pricing=pricing, start_on=day, actor=ACTOR)
        first = service.first_invoice
        payments.pay_invoice(first, amount=first.total, actor=ACTOR)
        return services.provision(service, actor=ACTOR)


def run_engine(company, day, tasks=TASKS):
    reports = execute(AsOf(day=day), companies=[company], tasks=tasks)
    failed = [a for r in reports for a in r.actions if a["outcome"] == "failed"]
    assert not failed, failed


def ledger(client) -> tuple[int, int]:
    """(due on open invoices, loose credit) in EUR."""
    for b in payments.balances([client.pk])[client.pk]:
        if b.currency == "EUR":
            return b.due, b.credit
    return 0, 0


def fresh(obj):
    obj.refresh_from_db()
    return obj


def new_invoices(client, after: int) -> list[Invoice]:
    return list(Invoice.objects.filter(client=client, pk__gt=after).order_by("pk"))


def last_invoice_pk() -> int:
    last = Invoice.objects.order_by("-pk").first()
    return last.pk if last else 0


def footprint():
    """Everything an action could write."""
    return {
        "invoices": list(
            Invoice.objects.order_by("pk").values_list(
                "pk", "status", "total", "credited", "amount_paid"
            )
        ),
        "lines": InvoiceLine.objects.count(),
        "credit_notes": CreditNote.objects.count(),
        "credit_note_sequence": list(
            CreditNoteSequence.objects.values_list("company_id", "next_number")
        ),
        "transactions": list(
            Transaction.objects.order_by("pk").values_list("pk", "kind", "status", "amount")
        ),
        "applications": list(Application.objects.order_by("pk").values_list("pk", "amount")),
        "audit": AuditEntry.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "sequence": list(InvoiceSequence.objects.values_list("company_id", "next_number")),
        "services": list(
            Service.objects.order_by("pk").values_list(
                "pk",
                "status",
                "package_id",
                "pricing_id",
                "anchor_date",
                "renew_date",
                "cancel_at",
                "next_period",
            )
        ),
        "changes": ServiceChange.objects.count(),
        "events": ServiceEvent.objects.count(),
        "sandbox": SandboxCharge.objects.count(),
        "module_calls": list(test_module.calls),
    }


def preview(http, url: str, **params):
    r = http.get(url, params)
    assert r.status_code == 200, r.content[:2000]
    assert not r.context["error"], r.context["error"]
    assert r.context["effect"] is not None
    return r.context["effect"], r.content.decode()


def confirm(http, url: str, **params):
    r = http.post(url, params)
    assert r.status_code == 302, r.content[:2000]
    follow = http.get(r["Location"])
    return follow.content.decode()


def change_url(service) -> str:
    return f"/portal/services/{service.pk}/change-package/"


def cancel_url(service) -> str:
    return f"/portal/services/{service.pk}/cancel/"


# --- Upgrade -------------------------------------------------------------------------------


def test_upgrade_mid_period_is_invoiced_to_the_cent_and_applied_at_once(german_ada, http, prices):
    """Basic -> Pro on January 25th, 16 of 31 days left: (30.00 - 10.00) x 16/31 = 10.3226
    -> 10.32; VAT 19 % of 10.32 = 1.9608 -> 1.96; total 12.28. Queueing is off: Ada is on
    Pro at once."""
    site = active(german_ada, prices["basic"])
    url, after = change_url(site), last_invoice_pk()
    with on(JAN25):
        before = footprint()
        effect, html = preview(http, url, pricing=prices["pro"].pk)
        assert footprint() == before
        [inv] = effect.invoices
        assert (inv.subtotal, inv.tax_total, inv.total, inv.paid_by_credit) == (1032, 196, 1228, 0)
        assert inv.lines == [Line("Change of Basic: Jan 25, 2026 \u2013 Feb 9, 2026", 1032, 196)]
        assert (inv.currency, inv.due_on) == ("EUR", JAN25)
        assert '<td class="effect-total"><strong>€12.28</strong></td>' in html
        assert effect.outcome == "The new package is active now."
        assert (effect.reduced, effect.credits) == ([], {})
        assert ledger(german_ada) == (0, 0)

        page = confirm(http, url, pricing=prices["pro"].pk)
        assert "The new package is active now." in page

    [created] = new_invoices(german_ada, after)
    assert (created.subtotal, created.tax_total, created.total) == (1032, 196, 1228)
    assert (created.status, created.issued_on, created.due_on) == ("open", JAN25, JAN25)
    [line] = created.lines.all()
    assert (line.kind, line.service_id, line.amount, line.tax1_amount, line.total) == (
        "proration", site.pk, 1032, 196, 1228,
    )  # fmt: skip
    assert (line.period_start, line.period_end) == (JAN25, FEB10)
    assert ledger(german_ada) == (1228, 0)  # moved by exactly the invoice's total
    site = fresh(site)
    assert (site.package.name, site.pricing_id) == ("Pro", prices["pro"].pk)
    change = ServiceChange.objects.get(service=site)
    assert (change.status, change.invoice_id, change.credit_amount) == ("applied", created.pk, 0)
    assert [c[:2] for c in test_module.calls if c[0] != "add"] == [("change_package", site.pk)]


def test_a_queued_upgrade_waits_for_payment_by_a_card_added_in_the_portal(
    company, german_ada, http, prices, configure
):
    """Same upgrade (12.28) in a group that queues changes until paid: the invoice is made,
    Ada stays on Basic; she adds a card (4242 4242 4242 4242) on the payment-methods page
    and pays the invoice with it; the engine applies the paid change the same day."""
    configure(queue_service_changes_until_paid=True)
    site = active(german_ada, prices["basic"])
    url, after = change_url(site), last_invoice_pk()
    with on(JAN25):
        effect, html = preview(http, url, pricing=prices["pro"].pk)
        assert [i.total for i in effect.invoices] == [1228]
        assert effect.outcome == "The change is made once its invoice is paid."
        assert '<td class="effect-total"><strong>€12.28</strong></td>' in html
        confirm(http, url, pricing=prices["pro"].pk)

        [created] = new_invoices(german_ada, after)
        assert (created.total, created.status) == (1228, "open")
        assert ledger(german_ada) == (1228, 0)
        change = ServiceChange.objects.get(service=site)
        assert (change.status, change.invoice_id) == ("queued", created.pk)
        assert fresh(site).package.name == "Basic"

        card_form = {"number": "4242 4242 4242 4242", "expiry": "12/30", "label": "Visa"}
        r = http.post("/portal/payment-methods/add/", card_form)
        assert r.status_code == 302, r.content[:2000]
        [card] = german_ada.payment_accounts.all()
        assert (card.gateway, card.last4) == ("test", "4242")
        assert "4242424242424242" not in card.reference

        page = http.get(f"/portal/invoices/{created.pk}/")
        assert '<td id="total"><strong>€12.28</strong></td>' in page.content.decode()
        pay = {"method": "account", "account": card.pk}
        r = http.post(f"/portal/invoices/{created.pk}/pay/", pay)
        assert r.status_code == 302

    created = fresh(created)
    assert (created.status, created.amount_paid) == ("paid", 1228)
    [payment] = Transaction.objects.filter(client=german_ada, payment_account=card)
    assert (payment.kind, payment.status, payment.amount, payment.method) == (
        "payment", "approved", 1228, "test",
    )  # fmt: skip
    assert ledger(german_ada) == (0, 0)
    assert fresh(site).package.name == "Basic"  # paid; the engine applies it

    run_engine(company, JAN25, tasks=[service_changes_task])
    site = fresh(site)
    assert (site.package.name, fresh(change).status) == ("Pro", "applied")
    assert ledger(german_ada) == (0, 0)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(day=st.integers(min_value=0, max_value=30))
@example(day=0)  # the whole period: 20.00
@example(day=30)  # its last day: 20.00 / 31 = 0.645 -> 0.65
def test_for_any_day_of_the_period_the_preview_is_what_confirming_invoices(
    german_ada, http, prices, day
):
    """Upgrading Basic -> Pro on January 10th + `day`: the preview's total, the confirmed
    invoice's total and (20.00 x days left / 31, then 19 % VAT, each rounded half up) agree."""
    site = active(german_ada, prices["basic"])
    today = JAN10 + timedelta(days=day)
    left = (FEB10 - today).days
    net = _half_up(Fraction(2000 * left, 31))
    expected = net + _half_up(Fraction(net * 19, 100))
    url, after = change_url(site), last_invoice_pk()
    with on(today):
        effect, _ = preview(http, url, pricing=prices["pro"].pk)
        confirm(http, url, pricing=prices["pro"].pk)
    [created] = new_invoices(german_ada, after)
    assert [i.total for i in effect.invoices] == [created.total] == [expected]
    assert [i.subtotal for i in effect.invoices] == [created.subtotal] == [net]


def _half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


@pytest.mark.parametrize("days", [7, 3])
def test_a_queued_change_left_unpaid_is_cancelled_and_its_paid_part_returned(
    company, german_ada, http, prices, configure, days
):
    """The queued upgrade (12.28, due January 25th); Ada applies 5.00 of loose credit to it
    from the invoice page and pays no more. `days` after the due date the engine cancels
    the change: the invoice is voided, the 5.00 is credit again, she stays on Basic."""
    configure(queue_service_changes_until_paid=True, cancel_service_changes_days_after_due=days)
    site = active(german_ada, prices["basic"])
    payments.add_credit(german_ada, amount=500, currency="EUR", actor=ACTOR, note="goodwill")
    url, after = change_url(site), last_invoice_pk()
    with on(JAN25):
        confirm(http, url, pricing=prices["pro"].pk)
        [created] = new_invoices(german_ada, after)
        r = http.post(f"/portal/invoices/{created.pk}/pay/", {"method": "credit"})
        assert r.status_code == 302
    created = fresh(created)
    assert (created.total, created.amount_paid, created.status) == (1228, 500, "open")
    assert ledger(german_ada) == (728, 0)
    change = ServiceChange.objects.get(service=site)

    run_engine(company, JAN25 + timedelta(days=days - 1), tasks=[service_changes_task])
    assert fresh(change).status == "queued"
    run_engine(company, JAN25 + timedelta(days=days), tasks=[service_changes_task])
    assert fresh(change).status == "canceled"
    assert (fresh(created).status, fresh(created).amount_paid) == ("void", 0)
    assert ledger(german_ada) == (0, 500)
    assert fresh(site).package.name == "Basic"
    [notice] = OutboxMessage.objects.filter(template="service_change_cancelled")
    assert notice.client_id == german_ada.pk


def test_cancelling_now_drops_a_queued_change_and_a_pending_addon_with_their_invoices(
    german_ada, http, prices, configure
):
    """Even with `void_invoices_on_cancel` off: Ada's queued upgrade (12.28, 5.00 of it paid
    from credit) and her unpaid Backup addon (3.07) go with the service. The upgrade's
    invoice is voided because its change will never happen, and the 5.00 is credit again;
    the addon's invoice stays open, as the group says."""
    configure(queue_service_changes_until_paid=True, void_invoices_on_cancel=False)
    site = active(german_ada, prices["basic"])
    payments.add_credit(german_ada, amount=500, currency="EUR", actor=ACTOR, note="goodwill")
    after = last_invoice_pk()
    with on(JAN25):
        confirm(http, change_url(site), pricing=prices["pro"].pk)
        [upgrade] = new_invoices(german_ada, after)
        http.post(f"/portal/invoices/{upgrade.pk}/pay/", {"method": "credit"})
        confirm(http, f"/portal/services/{site.pk}/addons/order/", pricing=prices["backup"].pk)
        [_, addon_invoice] = new_invoices(german_ada, after)
        addon = Service.objects.get(parent=site)
        assert ledger(german_ada) == (728 + 307, 0)

    with on(date(2026, 1, 27)):
        before = footprint()
        effect, html = preview(http, cancel_url(site), when="now")
        assert footprint() == before
        assert effect.reduced == [Reduced(upgrade.number, "EUR", 1228, 0, True, 500)]
        assert effect.credits == {"EUR": 500}
        assert "Credit to your account: <strong>€5.00</strong>" in html
        confirm(http, cancel_url(site), when="now")

    assert (fresh(site).status, fresh(addon).status) == ("canceled", "canceled")
    assert ServiceChange.objects.get(service=site).status == "canceled"
    assert (fresh(upgrade).status, fresh(upgrade).amount_paid) == ("void", 0)
    assert fresh(addon_invoice).status == "open"
    assert ledger(german_ada) == (307, 500)
    # The pending addon was never provisioned: only the service is cancelled in the module.
    assert [c[:2] for c in test_module.calls if c[0] != "add"] == [("cancel", site.pk)]


# --- Downgrade -----------------------------------------------------------------------------


@pytest.mark.parametrize("prorate", [True, False])
def test_downgrade_credits_the_prorated_difference_only_when_the_group_says_so(
    german_ada, http, prices, configure, prorate
):
    """Pro -> Basic on January 25th: (10.00 - 30.00) x 16/31 = -10.3226 -> 10.32 credited
    when `prorate_downgrade_credits` holds; nothing otherwise. No invoice either way, and
    the package changes at once."""
    configure(prorate_downgrade_credits=prorate)
    site = active(german_ada, prices["pro"])
    url, after = change_url(site), last_invoice_pk()
    credits_before = Transaction.objects.filter(client=german_ada, kind="credit").count()
    with on(JAN25):
        before = footprint()
        effect, html = preview(http, url, pricing=prices["basic"].pk)
        assert footprint() == before
        assert (effect.invoices, effect.reduced) == ([], [])
        if prorate:
            assert effect.credits == {"EUR": 1032}
            assert "Credit to your account: <strong>€10.32</strong>" in html
            assert effect.outcome == (
                "The new package is active now; the unused difference is credited to you."
            )
        else:
            assert effect.credits == {}
            assert "No new invoice, and no change to your invoices." in html
            assert effect.outcome == "The new package is active now."
        confirm(http, url, pricing=prices["basic"].pk)

    assert new_invoices(german_ada, after) == []
    assert fresh(site).package.name == "Basic"
    change = ServiceChange.objects.get(service=site)
    credits = Transaction.objects.filter(client=german_ada, kind="credit").order_by("pk")
    if prorate:
        [credit] = credits[credits_before:]
        assert (credit.amount, credit.currency, credit.status) == (1032, "EUR", "approved")
        assert change.credit_amount == 1032
        assert ledger(german_ada) == (0, 1032)
    else:
        assert credits.count() == credits_before
        assert change.credit_amount == 0
        assert ledger(german_ada) == (0, 0)


# --- Change of term ------------------------------------------------------------------------


def test_a_new_term_invoices_nothing_now_and_starts_at_the_next_renewal(
    company, german_ada, http, prices
):
    """Basic monthly -> Basic yearly (100.00) on January 25th: no invoice now; the yearly
    term starts on February 10th, and the renewal invoiced on February 5th is one year at
    100.00 + 19.00 VAT = 119.00, due February 10th."""
    site = active(german_ada, prices["basic"])
    url = f"/portal/services/{site.pk}/change-term/"
    after = last_invoice_pk()
    with on(JAN25):
        before = footprint()
        effect, html = preview(http, url, pricing=prices["basic_year"].pk)
        assert footprint() == before
        assert (effect.invoices, effect.reduced, effect.credits) == ([], [], {})
        assert effect.outcome == "The new term starts at your next renewal, on Feb 10, 2026."
        assert "No new invoice, and no change to your invoices." in html
        confirm(http, url, pricing=prices["basic_year"].pk)

    assert new_invoices(german_ada, after) == []
    assert ledger(german_ada) == (0, 0)
    site = fresh(site)
    assert (site.pricing_id, site.anchor_date, site.renew_date) == (
        prices["basic_year"].pk, FEB10, FEB10,
    )  # fmt: skip

    run_engine(company, FEB05)
    [renewal] = new_invoices(german_ada, after)
    assert (renewal.subtotal, renewal.tax_total, renewal.total) == (10000, 1900, 11900)
    assert (renewal.issued_on, renewal.due_on) == (FEB05, FEB10)
    [line] = renewal.lines.all()
    assert (line.period_start, line.period_end) == (FEB10, date(2027, 2, 10))
    assert fresh(site).renew_date == date(2027, 2, 10)


# --- Cancellation --------------------------------------------------------------------------


def renewal(company, client, after: int) -> Invoice:
    """The February 10th - March 10th invoice, made by the engine on February 5th."""
    run_engine(company, FEB05)
    [invoice] = new_invoices(client, after)
    assert (invoice.due_on, invoice.status) == (FEB10, "open")
    return invoice


def test_cancel_now_voids_the_open_invoice_and_returns_its_paid_part_as_credit(
    company, german_ada, http, prices
):
    """The March period (10.00 + 1.90 VAT = 11.90) is invoiced on February 5th and Ada pays
    5.00 of it. On the 7th she cancels now: the invoice is not past due (-3 days, limit 0),
    so it is voided and her 5.00 is loose credit again."""
    site = active(german_ada, prices["basic"])
    invoice = renewal(company, german_ada, last_invoice_pk())
    assert invoice.total == 1190
    payments.pay_invoice(invoice, amount=500, actor=ACTOR)
    assert ledger(german_ada) == (690, 0)
    with on(date(2026, 2, 7)):
        before = footprint()
        effect, html = preview(http, cancel_url(site), when="now")
        assert footprint() == before
        assert effect.invoices == []
        assert effect.reduced == [Reduced(invoice.number, "EUR", 1190, 0, True, 500)]
        assert effect.credits == {"EUR": 500}
        assert "Credit to your account: <strong>€5.00</strong>" in html
        assert "€5.00 you paid on it becomes credit" in html
        assert effect.outcome == "Basic ends now."
        confirm(http, cancel_url(site), when="now")

    invoice = fresh(invoice)
    assert (invoice.status, invoice.amount_paid) == ("void", 0)
    assert ledger(german_ada) == (0, 500)
    assert fresh(site).status == "canceled"
    assert [c[:2] for c in test_module.calls if c[0] != "add"] == [("cancel", site.pk)]


def test_cancel_now_takes_only_its_lines_off_an_invoice_shared_with_another_service(
    company, german_ada, http, prices
):
    """Basic and Pro renew together: 11.90 + 35.70 = 47.60 on one invoice, of which Ada pays
    40.00. Cancelling Basic takes its line off: credit note 1 credits its 11.90, the invoice
    (still 47.60, both lines) bills 35.70 and is paid, and the 4.30 paid beyond that is
    credit. Her invoice page lists the credit note."""
    site = active(german_ada, prices["basic"])
    other = active(german_ada, prices["pro"])
    invoice = renewal(company, german_ada, last_invoice_pk())
    assert invoice.total == 4760
    payments.pay_invoice(invoice, amount=4000, actor=ACTOR)
    with on(date(2026, 2, 7)):
        effect, page = preview(http, cancel_url(site), when="now")
        assert effect.reduced == [Reduced(invoice.number, "EUR", 4760, 3570, False, 430)]
        assert "is reduced to €35.70: a credit note credits €11.90" in page
        assert effect.credits == {"EUR": 430}
        confirm(http, cancel_url(site), when="now")
    invoice = fresh(invoice)
    assert (invoice.status, invoice.total, invoice.credited, invoice.amount_paid) == (
        "paid", 4760, 1190, 3570)  # fmt: skip
    assert [ln.service_id for ln in invoice.lines.all()] == [site.pk, other.pk]
    [note] = invoice.credit_notes.all()
    assert (note.number, note.total, note.issued_on) == (1, 1190, date(2026, 2, 7))
    assert [ln.invoice_line.service_id for ln in note.lines.all()] == [site.pk]
    assert ledger(german_ada) == (0, 430)
    page = http.get(f"/portal/invoices/{invoice.pk}/").content.decode()
    notes = page[page.index('id="credit-notes"') :]
    assert "Credit note 1</a></td><td>Feb 7, 2026</td><td>€11.90</td>" in notes
    assert '<td id="credited">€11.90</td>' in page
    assert '<td id="balance"><strong>€0.00</strong></td>' in page


@pytest.mark.parametrize(
    ("limit", "voided"),
    [(0, False), (2, False), (3, True), ("any", True)],
)
def test_void_on_cancel_max_days_past_due_keeps_older_invoices_open(
    company, german_ada, http, prices, configure, limit, voided
):
    """The same part-paid 11.90 invoice (5.00 paid), due February 10th; Ada cancels on the
    13th, 3 days past due: voided only when the limit is at least 3 (or "any")."""
    configure(void_on_cancel_max_days_past_due=limit)
    site = active(german_ada, prices["basic"])
    invoice = renewal(company, german_ada, last_invoice_pk())
    payments.pay_invoice(invoice, amount=500, actor=ACTOR)
    with on(date(2026, 2, 13)):
        effect, _ = preview(http, cancel_url(site), when="now")
        assert [r.voided for r in effect.reduced] == ([True] if voided else [])
        assert effect.credits == ({"EUR": 500} if voided else {})
        assert [d.balance_due for d in effect.still_due] == ([] if voided else [690])
        confirm(http, cancel_url(site), when="now")
    invoice = fresh(invoice)
    assert fresh(site).status == "canceled"
    if voided:
        assert (invoice.status, invoice.amount_paid) == ("void", 0)
        assert ledger(german_ada) == (0, 500)
    else:
        assert (invoice.status, invoice.amount_paid) == ("open", 500)
        assert ledger(german_ada) == (690, 0)


def test_cancel_now_without_void_on_cancel_leaves_invoices_alone(
    company, german_ada, http, prices, configure
):
    configure(void_invoices_on_cancel=False)
    site = active(german_ada, prices["basic"])
    invoice = renewal(company, german_ada, last_invoice_pk())
    payments.pay_invoice(invoice, amount=500, actor=ACTOR)
    with on(date(2026, 2, 7)):
        effect, html = preview(http, cancel_url(site), when="now")
        assert (effect.invoices, effect.reduced, effect.credits) == ([], [], {})
        # The client is told what they still owe for the service they cancel.
        assert [(d.number, d.balance_due) for d in effect.still_due] == [(invoice.number, 690)]
        assert f"Invoice {invoice.number} stays open: <strong>€6.90</strong> is still due." in html
        confirm(http, cancel_url(site), when="now")
    invoice = fresh(invoice)
    assert (invoice.status, invoice.total, invoice.amount_paid) == ("open", 1190, 500)
    assert ledger(german_ada) == (690, 0)
    assert fresh(site).status == "canceled"


def test_cancel_at_end_of_term_voids_the_period_after_it_at_once(company, german_ada, http, prices):
    """On February 7th (in the January 10th - February 10th period, with the invoice for
    February 10th - March 10th already issued and 5.00 paid) Ada cancels at the end of the
    term: cancel_at is February 10th. She will not get the next period, so its invoice is
    voided now (before auto debit or credit could pay it) and the 5.00 becomes credit; the
    preview says so. The engine ends the service on the 10th."""
    site = active(german_ada, prices["basic"])
    invoice = renewal(company, german_ada, last_invoice_pk())
    payments.pay_invoice(invoice, amount=500, actor=ACTOR)
    with on(date(2026, 2, 7)):
        before = footprint()
        effect, html = preview(http, cancel_url(site), when="end_of_term")
        assert footprint() == before
        assert "becomes credit" in html
        assert effect.invoices == []
        assert [(r.number, r.total_before, r.voided, r.returned_as_credit)
                for r in effect.reduced] == [(invoice.number, 1190, True, 500)]  # fmt: skip
        assert effect.credits == {"EUR": 500}
        assert effect.outcome == "Basic ends on Feb 10, 2026."
        confirm(http, cancel_url(site), when="end_of_term")
    site = fresh(site)
    assert (site.status, site.cancel_at) == ("active", FEB10)
    assert (fresh(invoice).status, fresh(invoice).amount_paid) == ("void", 0)
    assert ledger(german_ada) == (0, 500)

    run_engine(company, FEB10)
    assert fresh(site).status == "canceled"
    assert ledger(german_ada) == (0, 500)
    assert new_invoices(german_ada, invoice.pk) == []


def test_unscheduling_bills_the_voided_period_again(company, german_ada, http, prices):
    """Staff take the cancellation back on February 8th: the period from February 10th,
    whose invoice the scheduling voided, is invoiced again by the next engine run (once)."""
    site = active(german_ada, prices["basic"])
    invoice = renewal(company, german_ada, last_invoice_pk())
    with on(date(2026, 2, 7)):
        confirm(http, cancel_url(site), when="end_of_term")
    assert fresh(invoice).status == "void"
    with on(date(2026, 2, 8)):
        services.unschedule_cancellation(site, actor=ACTOR)
    run_engine(company, date(2026, 2, 8))
    run_engine(company, date(2026, 2, 8))
    [again] = new_invoices(german_ada, invoice.pk)
    assert (again.total, again.due_on, again.status) == (1190, FEB10, "open")
    line = again.lines.get()
    assert (line.period_start, line.period_end) == (FEB10, date(2026, 3, 10))
    assert fresh(site).renew_date == date(2026, 3, 10)


# --- Addons --------------------------------------------------------------------------------


@pytest.mark.parametrize("synchronize", [True, False])
def test_an_addon_ordered_mid_period_is_prorated_only_when_synchronized(
    german_ada, http, prices, configure, synchronize
):
    """Backup (5.00 a month) for Basic on January 25th. Synchronized: 5.00 x 16/31 = 2.5806
    -> 2.58, VAT 0.4902 -> 0.49, total 3.07, renewing with Basic on February 10th. Not
    synchronized: a full month, 5.00 + 0.95 = 5.95, renewing on February 25th."""
    configure(synchronize_addons=synchronize)
    site = active(german_ada, prices["basic"])
    url, after = f"/portal/services/{site.pk}/addons/order/", last_invoice_pk()
    net, tax, total = (258, 49, 307) if synchronize else (500, 95, 595)
    with on(JAN25):
        before = footprint()
        effect, html = preview(http, url, pricing=prices["backup"].pk)
        assert footprint() == before
        [inv] = effect.invoices
        assert (inv.subtotal, inv.tax_total, inv.total, inv.due_on) == (net, tax, total, JAN25)
        assert f'<td class="effect-total"><strong>€{total / 100:.2f}</strong></td>' in html
        confirm(http, url, pricing=prices["backup"].pk)

    [created] = new_invoices(german_ada, after)
    assert (created.subtotal, created.tax_total, created.total, created.status) == (
        net, tax, total, "open",
    )  # fmt: skip
    assert ledger(german_ada) == (total, 0)
    addon = Service.objects.get(parent=site)
    assert (addon.status, addon.package.name) == ("pending", "Backup")
    [line] = created.lines.all()
    if synchronize:
        assert (addon.anchor_date, addon.renew_date) == (JAN10, FEB10)
        assert (line.period_start, line.period_end) == (JAN25, FEB10)
    else:
        assert (addon.anchor_date, addon.renew_date) == (JAN25, date(2026, 2, 25))
        assert (line.period_start, line.period_end) == (JAN25, date(2026, 2, 25))


# --- A preview writes nothing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "choice", "group_settings"),
    [
        ("change-package/", "pro", {"queue_service_changes_until_paid": True}),
        ("change-package/", "pro", {}),
        ("change-term/", "basic_year", {}),
        ("addons/order/", "backup", {}),
        ("cancel/", "now", {}),
        ("cancel/", "end_of_term", {}),
    ],
)
def test_a_preview_writes_nothing(company, german_ada, http, prices, configure, path, choice,
                                  group_settings):  # fmt: skip
    """With an open, part-paid invoice and loose credit around, so that voids, credits and
    invoice numbers would all show."""
    configure(**group_settings)
    site = active(german_ada, prices["basic"])
    invoice = renewal(company, german_ada, last_invoice_pk())
    payments.pay_invoice(invoice, amount=500, actor=ACTOR)
    payments.add_credit(german_ada, amount=300, currency="EUR", actor=ACTOR, note="goodwill")
    params = {"when": choice} if path == "cancel/" else {"pricing": prices[choice].pk}
    with on(date(2026, 2, 7)):
        before = footprint()
        for _ in range(2):  # twice: the first leaves nothing the second would see
            effect, _ = preview(http, f"/portal/services/{site.pk}/{path}", **params)
            assert footprint() == before
    assert effect.outcome


def test_the_same_payment_sent_twice_is_one_charge_and_a_retry_after_a_decline_is_new(
    german_ada, http, prices, monkeypatch
):
    """Two tabs (or a double click) pay the same open invoice with the same card while the
    first charge is still at the gateway: both name the same charge key, so the gateway
    charges once. Once a try is declined, trying again is a new charge."""
    site = active(german_ada, prices["basic"])
    with on(JAN25):
        confirm(http, f"/portal/services/{site.pk}/change-package/", pricing=prices["pro"].pk)
    [invoice] = Invoice.objects.filter(client=german_ada, status="open")
    declined = card_of(german_ada, "4000000000000002")
    url = f"/portal/invoices/{invoice.pk}/pay/"
    keys = []
    real = charges.pay_with_account

    def in_flight(invoice, account, *, actor, principal, key):  # the gateway has not answered yet
        keys.append(key)
        return SimpleNamespace(status="pending", note="")

    monkeypatch.setattr(charges, "pay_with_account", in_flight)
    first = http.post(url, {"method": "account", "account": declined.pk}, follow=True)
    http.post(url, {"method": "account", "account": declined.pk})
    assert "Your payment is being processed" in first.content.decode()
    assert keys[0] == keys[1]
    monkeypatch.setattr(charges, "pay_with_account", real)
    http.post(url, {"method": "account", "account": declined.pk})
    http.post(url, {"method": "account", "account": declined.pk})
    assert [c.outcome for c in SandboxCharge.objects.order_by("pk")] == ["declined", "declined"]
    http.post(url, {"method": "account", "account": card_of(german_ada, "4242424242424242").pk})
    assert fresh(invoice).status == "paid"


def card_of(client, number):
    return portal_actions.add_card(client, {"number": number}, actor=ACTOR)


def test_an_addon_confirmed_twice_is_ordered_once(german_ada, http, prices):
    """A double click on Confirm sends the page's one-time key twice: one addon, one invoice.
    A new preview gives a new key, so ordering a second one on purpose still works."""
    site = active(german_ada, prices["basic"])
    url, after = f"/portal/services/{site.pk}/addons/order/", last_invoice_pk()
    with on(JAN25):
        page = http.get(url, {"pricing": prices["backup"].pk})
        form = {"pricing": prices["backup"].pk, "once": page.context["once"]}
        assert f'name="once" value="{page.context["once"]}"' in page.content.decode()
        first = http.post(url, form)
        second = http.post(url, form, follow=True)
        assert first.status_code == 302
        assert "That was confirmed already" in second.content.decode()
        assert site.addons.count() == 1 and len(new_invoices(german_ada, after)) == 1
        again = http.get(url, {"pricing": prices["backup"].pk}).context["once"]
        confirm(http, url, pricing=prices["backup"].pk, once=again)
    assert site.addons.count() == 2 and len(new_invoices(german_ada, after)) == 2
