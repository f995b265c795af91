"""The ledger over REST: services, invoices, transactions, balances and payment accounts.

Every endpoint's happy path and its main refusals (401, 404, 409, 422 naming the field),
then the whole story over the API alone, to the minor unit."""

import pytest
from django.test import Client as HttpClient

from groupbill.api.actions import create_api_key
from groupbill.billing import payments
from groupbill.billing.models import Invoice, PaymentAccount, Transaction
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.companies.models import TaxRule
from groupbill.companies.queries import company_today
from groupbill.services.models import Service
from groupbill.settings_catalog.actions import set_group_setting
from tests.api.test_auth import assert_problem, call
from tests.conftest import ACTOR

JAN_10 = "2026-01-10"


def fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.fixture
def catalog(company):
    """Web Hosting 10.00/month + 5.00 setup with Extra disk (2.00 per 10 GB); Pro at 25.00;
    Backup (3.00/month) is an addon of both."""
    hosting = Package.objects.create(company=company, name="Web Hosting")
    pro = Package.objects.create(company=company, name="Web Hosting Pro")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(hosting, pro)
    disk = ConfigOption.objects.create(package=hosting, name="Extra disk", kind="quantity")
    ten_gb = ConfigOptionValue.objects.create(option=disk, name="10 GB")
    ConfigOptionPrice.objects.create(value=ten_gb, unit="month", count=1, currency="EUR", price=200)

    def price(package, amount, setup=0, unit="month"):
        return PackagePrice.objects.create(
            package=package, unit=unit, count=1, currency="EUR", price=amount, setup_fee=setup
        )

    class Catalog:
        pass

    c = Catalog()
    c.hosting, c.pro, c.backup, c.disk, c.ten_gb = hosting, pro, backup, disk, ten_gb
    c.host_month = price(hosting, 1000, setup=500)
    c.host_year = price(hosting, 10000, unit="year")
    c.pro_month = price(pro, 2500)
    c.backup_month = price(backup, 300)
    return c


def order(api, client, pricing, **extra):
    body = {"client_id": client.pk, "pricing_id": pricing.pk, "start_on": JAN_10, **extra}
    r = api.post("/services", body)
    assert r.status_code == 201, r.content
    return r.json()


# --- Services ------------------------------------------------------------------------------


def test_order_a_service_with_options_answers_it_and_its_first_invoice(api, catalog, ada):
    body = order(
        api,
        ada,
        catalog.host_month,
        options={str(catalog.disk.pk): {"value_id": catalog.ten_gb.pk, "quantity": 2}},
    )
    service = Service.objects.get()
    assert body == {
        "id": service.pk,
        "client_id": ada.pk,
        "package_id": catalog.hosting.pk,
        "package_name": "Web Hosting",
        "pricing": {
            "id": catalog.host_month.pk,
            "unit": "month",
            "count": 1,
            "currency": "EUR",
            "price": 1000,
        },
        "parent_id": None,
        "quantity": 1,
        "status": "pending",
        "anchor_date": JAN_10,
        "renew_date": "2026-02-10",
        "last_renewed_on": None,
        "suspension_reason": "",
        "suspended_by": "",
        "cancel_at": None,
        "canceled_at": None,
        "renewal_failed": False,
        "renewal_attempts": 0,
        "options": [
            {
                "option_id": catalog.disk.pk,
                "option": "Extra disk",
                "value_id": catalog.ten_gb.pk,
                "value": "10 GB",
                "quantity": 2,
            }
        ],
        "first_invoice_id": Invoice.objects.get().pk,
    }
    invoice = Invoice.objects.get(pk=body["first_invoice_id"])
    assert (invoice.status, invoice.total, invoice.currency) == ("open", 1900, "EUR")
    assert [ln.amount for ln in invoice.lines.all()] == [1000, 400, 500]
    assert api.get(f"/services/{service.pk}").json() == {
        k: v for k, v in body.items() if k != "first_invoice_id"
    }
    history = api.get(f"/services/{service.pk}/history").json()
    assert history["count"] == 1
    assert history["items"][0] | {"id": 0, "at": ""} == {
        "id": 0,
        "at": "",
        "actor": "apikey:tests",
        "event": "order",
        "from_status": "pending",
        "to_status": "pending",
        "reason": "",
    }


def test_a_service_starts_today_in_the_company_time_zone_by_default(api, catalog, ada, company):
    r = api.post("/services", {"client_id": ada.pk, "pricing_id": catalog.backup_month.pk})
    assert r.status_code == 201, r.content
    assert r.json()["anchor_date"] == company_today(company).isoformat()


def test_an_addon_is_prorated_to_renew_with_its_parent(api, catalog, ada):
    site = order(api, ada, catalog.host_month)
    addon = order(api, ada, catalog.backup_month, parent_id=site["id"], start_on="2026-01-20")
    assert (addon["parent_id"], addon["renew_date"]) == (site["id"], "2026-02-10")
    assert Invoice.objects.get(pk=addon["first_invoice_id"]).total == 203  # 300 x 21/31


def test_ordering_refusals_name_the_field(api, catalog, ada, company):
    base = {"client_id": ada.pk, "pricing_id": catalog.host_month.pk}
    assert_problem(api.post("/services", base | {"client_id": 999_999}), 404)
    r = api.post("/services", base | {"pricing_id": 999_999})
    assert_problem(r, 422)
    assert fields(r) == ["pricing_id"]
    r = api.post("/services", base | {"parent_id": 999_999})
    assert fields(r) == ["parent_id"]
    site = order(api, ada, catalog.host_month)
    r = api.post("/services", base | {"parent_id": site["id"]})  # hosting is no addon of itself
    assert (r.status_code, fields(r)) == (422, ["parent_id"])
    for quantity in (0, 100_001):
        r = api.post("/services", base | {"quantity": quantity})
        assert (r.status_code, fields(r)) == (422, ["quantity"])
    r = api.post("/services", base | {"options": {"999999": {"value_id": catalog.ten_gb.pk}}})
    assert (r.status_code, fields(r)) == (422, ["options.999999"])
    r = api.post("/services", base | {"options": {"disk": {"value_id": 1}}})
    assert r.status_code == 422
    # Strict shapes: ids are numbers, not text; unknown fields are refused.
    r = api.post("/services", base | {"pricing_id": str(catalog.host_month.pk)})
    assert (r.status_code, fields(r)) == (422, ["pricing_id"])
    r = api.post("/services", base | {"quantiy": 2})
    assert (r.status_code, fields(r)) == (422, ["quantiy"])
    r = api.post("/services", base | {"start_on": "10/01/2026"})
    assert (r.status_code, fields(r)) == (422, ["start_on"])
    assert_problem(api.post("/services", {"client_id": ada.pk}), 422)
    # A retired package's price cannot be ordered.
    other = Package.objects.create(company=company, name="Retired", active=False)
    retired = PackagePrice.objects.create(
        package=other, unit="month", count=1, currency="EUR", price=100
    )
    r = api.post("/services", base | {"pricing_id": retired.pk})
    assert (r.status_code, fields(r)) == (422, ["pricing_id"])  # the field the body has
    assert Service.objects.count() == 1


def test_lifecycle_provision_suspend_unsuspend_and_their_conflicts(api, catalog, ada):
    sid = order(api, ada, catalog.host_month)["id"]
    assert_problem(api.post(f"/services/{sid}/suspend", {"reason": "abuse"}), 409)
    assert_problem(api.post(f"/services/{sid}/unsuspend", {}), 409)
    r = api.post(f"/services/{sid}/provision", {})
    assert (r.status_code, r.json()["status"]) == (200, "active")
    assert_problem(api.post(f"/services/{sid}/provision", {}), 409)
    r = api.post(f"/services/{sid}/suspend", {})
    assert (r.status_code, fields(r)) == (422, ["reason"])
    r = api.post(f"/services/{sid}/suspend", {"reason": "abuse report"})
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["suspension_reason"], body["suspended_by"]) == (
        "suspended",
        "abuse report",
        "staff",
    )
    r = api.post(f"/services/{sid}/unsuspend", {})
    body = r.json()
    assert (r.status_code, body["status"], body["suspension_reason"]) == (200, "active", "")
    events = [e["event"] for e in api.get(f"/services/{sid}/history").json()["items"]]
    assert events == ["order", "add", "suspend", "unsuspend"]


def test_cancel_at_the_end_of_the_term_unschedule_then_now(api, catalog, ada):
    site = order(api, ada, catalog.host_month)
    sid = site["id"]
    addon = order(api, ada, catalog.backup_month, parent_id=sid)
    api.post(f"/services/{sid}/provision", {})
    r = api.post(f"/services/{sid}/cancel", {"when": "later"})
    assert (r.status_code, fields(r)) == (422, ["when"])
    assert_problem(api.post(f"/services/{sid}/unschedule-cancellation", {}), 409)
    r = api.post(f"/services/{sid}/cancel", {"when": "end_of_term", "reason": "too dear"})
    assert (r.status_code, r.json()["cancel_at"], r.json()["status"]) == (
        200,
        "2026-02-10",
        "active",
    )
    r = api.post(f"/services/{sid}/unschedule-cancellation", {})
    assert (r.status_code, r.json()["cancel_at"]) == (200, None)
    # Now, on the day both invoices fall due: they are voided, the addon goes too.
    r = api.post(f"/services/{sid}/cancel", {"when": "now", "today": JAN_10})
    assert (r.status_code, r.json()["status"]) == (200, "canceled")
    assert r.json()["canceled_at"] is not None
    assert api.get(f"/services/{addon['id']}").json()["status"] == "canceled"
    for invoice_id in (site["first_invoice_id"], addon["first_invoice_id"]):
        assert Invoice.objects.get(pk=invoice_id).status == "void"
    assert_problem(api.post(f"/services/{sid}/cancel", {"when": "now"}), 409)


def test_one_time_services_have_no_end_of_term(api, catalog, ada):
    once = PackagePrice.objects.create(
        package=catalog.backup, unit="onetime", count=1, currency="EUR", price=5000
    )
    sid = order(api, ada, once)["id"]
    r = api.post(f"/services/{sid}/cancel", {"when": "end_of_term"})
    assert (r.status_code, fields(r)) == (422, ["when"])
    r = api.post(f"/services/{sid}/changes", {"quantity": 2})
    assert_problem(r, 409)


def test_list_services_by_client_and_status(api, catalog, ada, make_client):
    bob = make_client(first_name="Bob")
    first = order(api, ada, catalog.host_month)["id"]
    order(api, ada, catalog.pro_month)
    order(api, bob, catalog.pro_month)
    api.post(f"/services/{first}/provision", {})
    everything = api.get("/services").json()
    assert everything["count"] == 3
    assert [s["id"] for s in api.get(f"/services?client_id={ada.pk}").json()["items"]] == [
        first,
        first + 1,
    ]
    active = api.get(f"/services?client_id={ada.pk}&status=active").json()
    assert [s["id"] for s in active["items"]] == [first]
    page = api.get("/services?limit=1&offset=1").json()
    assert (page["count"], [s["id"] for s in page["items"]]) == (3, [first + 1])
    assert api.get("/services?status=sleeping").status_code == 422


def test_change_upgrade_is_invoiced_and_listed(api, catalog, ada):
    sid = order(api, ada, catalog.host_month)["id"]
    api.post(f"/services/{sid}/provision", {})
    r = api.post(
        f"/services/{sid}/changes", {"pricing_id": catalog.pro_month.pk, "today": "2026-01-25"}
    )
    assert r.status_code == 201, r.content
    change = r.json()
    invoice = Invoice.objects.order_by("pk").last()
    assert change | {"created_at": "", "resolved_at": ""} == {
        "id": change["id"],
        "service_id": sid,
        "status": "applied",
        "old": {
            "package_id": catalog.hosting.pk,
            "pricing_id": catalog.host_month.pk,
            "quantity": 1,
            "options": [],
        },
        "new": {
            "package_id": catalog.pro.pk,
            "pricing_id": catalog.pro_month.pk,
            "quantity": 1,
            "options": [],
        },
        "invoice_id": invoice.pk,
        "credit_amount": 0,
        "currency": "EUR",
        "actor": "apikey:tests",
        "created_at": "",
        "resolved_at": "",
    }
    assert invoice.total == 774  # 1500 x 16/31
    assert api.get(f"/services/{sid}").json()["package_name"] == "Web Hosting Pro"
    listed = api.get(f"/services/{sid}/changes").json()
    assert (listed["count"], listed["items"][0]["id"]) == (1, change["id"])


def test_change_refusals(api, catalog, ada, company):
    sid = order(api, ada, catalog.host_month)["id"]
    assert_problem(api.post(f"/services/{sid}/changes", {"quantity": 2}), 409)  # pending
    api.post(f"/services/{sid}/provision", {})
    r = api.post(f"/services/{sid}/changes", {"pricing_id": 999_999})
    assert (r.status_code, fields(r)) == (422, ["pricing_id"])
    r = api.post(f"/services/{sid}/changes", {"quantity": 1})
    assert (r.status_code, fields(r)) == (422, ["pricing_id"])  # nothing would change
    usd = PackagePrice.objects.create(
        package=catalog.pro, unit="month", count=1, currency="USD", price=100
    )
    r = api.post(f"/services/{sid}/changes", {"pricing_id": usd.pk})
    assert (r.status_code, fields(r)) == (422, ["pricing_id"])
    r = api.post(f"/services/{sid}/changes", {"options": {str(catalog.disk.pk): {"value_id": 0}}})
    assert (r.status_code, fields(r)) == (422, [f"options.{catalog.disk.pk}.value_id"])
    r = api.post(f"/services/{sid}/changes", {"today": "yesterday"})
    assert (r.status_code, fields(r)) == (422, ["today"])


def test_queued_change_waits_for_payment_then_applies(api, catalog, ada, group):
    set_group_setting(group, "queue_service_changes_until_paid", True, actor=ACTOR)
    sid = order(api, ada, catalog.host_month)["id"]
    api.post(f"/services/{sid}/provision", {})
    change = api.post(f"/services/{sid}/changes", {"quantity": 2, "today": "2026-01-25"}).json()
    assert (change["status"], change["new"]["quantity"]) == ("queued", 2)
    assert api.get(f"/services/{sid}").json()["quantity"] == 1
    assert_problem(api.post(f"/service-changes/{change['id']}/apply", {}), 409)  # unpaid
    # A second change while one waits is refused.
    assert_problem(api.post(f"/services/{sid}/changes", {"quantity": 3}), 409)
    invoice = Invoice.objects.get(pk=change["invoice_id"])
    assert invoice.total == 516  # 1000 x 16/31
    payments.pay_invoice(invoice, amount=516, actor=ACTOR)
    r = api.post(f"/service-changes/{change['id']}/apply", {})
    assert (r.status_code, r.json()["status"]) == (200, "applied")
    assert r.json()["resolved_at"] is not None
    assert api.get(f"/services/{sid}").json()["quantity"] == 2
    assert_problem(api.post(f"/service-changes/{change['id']}/apply", {}), 409)


def test_cancel_a_queued_change_voids_its_invoice_and_credits_what_was_paid(
    api, catalog, ada, group
):
    set_group_setting(group, "queue_service_changes_until_paid", True, actor=ACTOR)
    sid = order(api, ada, catalog.host_month)["id"]
    api.post(f"/services/{sid}/provision", {})
    change = api.post(f"/services/{sid}/changes", {"quantity": 2, "today": "2026-01-25"}).json()
    payments.pay_invoice(Invoice.objects.get(pk=change["invoice_id"]), amount=100, actor=ACTOR)
    r = api.post(f"/service-changes/{change['id']}/cancel", {})
    assert (r.status_code, fields(r)) == (422, ["reason"])
    r = api.post(f"/service-changes/{change['id']}/cancel", {"reason": "changed her mind"})
    assert (r.status_code, r.json()["status"]) == (200, "canceled")
    assert Invoice.objects.get(pk=change["invoice_id"]).status == "void"
    assert payments.balances([ada.pk])[ada.pk] == [payments.Balance("EUR", 1500, 100)]
    assert_problem(api.post(f"/service-changes/{change['id']}/cancel", {"reason": "x"}), 409)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/services/999999"),
        ("post", "/services/999999/provision"),
        ("post", "/services/999999/suspend"),
        ("post", "/services/999999/unsuspend"),
        ("post", "/services/999999/cancel"),
        ("post", "/services/999999/unschedule-cancellation"),
        ("get", "/services/999999/changes"),
        ("post", "/services/999999/changes"),
        ("get", "/services/999999/history"),
        ("post", "/service-changes/999999/apply"),
        ("post", "/service-changes/999999/cancel"),
    ],
)
def test_unknown_services_and_changes_are_404(api, method, path):
    body = {"suspend": {"reason": "x"}, "cancel": {"when": "now"}}.get(path.split("/")[-1], {})
    if path.startswith("/service-changes/") and path.endswith("/cancel"):
        body = {"reason": "x"}
    r = api.get(path) if method == "get" else api.post(path, body)
    assert_problem(r, 404)


# --- Invoices ------------------------------------------------------------------------------


@pytest.fixture
def taxed(company, make_client, group):
    """A client in Germany, where the company charges 19 % VAT on top of prices."""
    TaxRule.objects.create(company=company, level=1, name="VAT", country="DE", rate="19")
    return make_client(group=group, default_currency="EUR", country="DE")


def draft(api, client, lines=None, **extra):
    lines = lines or [{"description": "Consulting", "unit_amount": 1000}]
    r = api.post("/invoices", {"client_id": client.pk, "lines": lines, **extra})
    assert r.status_code == 201, r.content
    return r.json()


def test_create_a_draft_with_taxed_and_untaxed_lines(api, taxed, company):
    body = draft(
        api,
        taxed,
        [
            {"description": "Consulting", "unit_amount": 1000},
            {"description": "Domain fee", "unit_amount": 250, "quantity": 2, "taxable": False},
        ],
        notes="Thank you",
    )
    lines = Invoice.objects.get().lines.order_by("position")
    assert body == {
        "id": body["id"],
        "company_id": company.pk,
        "client_id": taxed.pk,
        "number": None,
        "status": "draft",
        "currency": "EUR",
        "issued_on": None,
        "due_on": None,
        "subtotal": 1500,
        "tax_total": 190,
        "total": 1690,
        "credited": 0,
        "amount_paid": 0,
        "balance_due": 1690,
        "delivery_method": "",
        "notes": "Thank you",
        "lines": [
            {
                "id": lines[0].pk,
                "service_id": None,
                "kind": "custom",
                "description": "Consulting",
                "period_start": None,
                "period_end": None,
                "quantity": 1,
                "unit_amount": 1000,
                "amount": 1000,
                "tax1_rate": "19.0000",
                "tax1_amount": 190,
                "tax2_rate": "0.0000",
                "tax2_amount": 0,
                "total": 1190,
            },
            {
                "id": lines[1].pk,
                "service_id": None,
                "kind": "custom",
                "description": "Domain fee",
                "period_start": None,
                "period_end": None,
                "quantity": 2,
                "unit_amount": 250,
                "amount": 500,
                "tax1_rate": "0.0000",
                "tax1_amount": 0,
                "tax2_rate": "0.0000",
                "tax2_amount": 0,
                "total": 500,
            },
        ],
        "payments": [],
        "credit_notes": [],
    }
    assert api.get(f"/invoices/{body['id']}").json() == body


def test_invoice_refusals_name_the_field(api, ada):
    assert_problem(api.post("/invoices", {"client_id": 999_999, "lines": []}), 404)
    r = api.post("/invoices", {"client_id": ada.pk, "currency": "EURO", "lines": []})
    assert (r.status_code, fields(r)) == (422, ["currency"])
    r = api.post(
        "/invoices",
        {
            "client_id": ada.pk,
            "lines": [
                {"description": "ok", "unit_amount": 100},
                {"description": " ", "unit_amount": 100, "quantity": 0},
                {"description": "x" * 501, "unit_amount": 10**16},
            ],
        },
    )
    assert_problem(r, 422)
    assert sorted(fields(r)) == [
        "lines.1.description",
        "lines.1.quantity",
        "lines.2.description",
        "lines.2.unit_amount",
    ]
    r = api.post("/invoices", {"client_id": ada.pk, "lines": [{"description": "no amount"}]})
    assert (r.status_code, fields(r)) == (422, ["lines.0.unit_amount"])
    r = api.post(
        "/invoices", {"client_id": ada.pk, "lines": [{"description": "a", "unit_amount": "10.00"}]}
    )
    assert (r.status_code, fields(r)) == (422, ["lines.0.unit_amount"])
    r = api.post("/invoices", {"client_id": ada.pk})
    assert (r.status_code, fields(r)) == (422, ["lines"])
    assert not Invoice.objects.exists()


def test_lines_are_added_and_removed_and_the_totals_follow(api, ada):
    invoice = draft(api, ada)
    iid = invoice["id"]
    r = api.post(
        f"/invoices/{iid}/lines",
        {"lines": [{"description": "Extra", "unit_amount": 50, "quantity": 3}]},
    )
    assert (r.status_code, r.json()["total"], len(r.json()["lines"])) == (200, 1150, 2)
    r = api.post(f"/invoices/{iid}/lines", {"lines": [{"description": "", "unit_amount": 5}]})
    assert (r.status_code, fields(r)) == (422, ["lines.0.description"])
    first = invoice["lines"][0]["id"]
    r = api.delete(f"/invoices/{iid}/lines/{first}")
    assert r.status_code == 204
    assert api.get(f"/invoices/{iid}").json()["total"] == 150
    assert_problem(api.delete(f"/invoices/{iid}/lines/{first}"), 404)
    other = draft(api, ada)
    assert_problem(api.delete(f"/invoices/{iid}/lines/{other['lines'][0]['id']}"), 404)


def test_issue_pay_and_void(api, ada, company):
    iid = draft(api, ada)["id"]
    r = api.post(f"/invoices/{iid}/issue", {"issued_on": "2026-01-10", "due_on": "2026-01-24"})
    body = r.json()
    assert (r.status_code, body["status"], body["issued_on"], body["due_on"]) == (
        200,
        "open",
        "2026-01-10",
        "2026-01-24",
    )
    assert body["number"] == 1
    assert_problem(api.post(f"/invoices/{iid}/issue", {}), 409)
    assert_problem(api.delete(f"/invoices/{iid}"), 409)  # issued: void it instead
    # A second invoice, issued with no body at all: today, due today, the next number.
    second = draft(api, ada)["id"]
    r = api.http.generic("POST", f"/api/v1/invoices/{second}/issue")
    today = company_today(company).isoformat()
    assert (r.status_code, r.json()["number"], r.json()["issued_on"], r.json()["due_on"]) == (
        200,
        2,
        today,
        today,
    )
    # Paid by hand, partly, then the rest; the invoice is paid.
    r = api.post(
        f"/invoices/{iid}/payments",
        {"amount": 400, "method": "bank transfer", "reference": "SEPA-1"},
    )
    assert r.status_code == 201, r.content
    payment = r.json()
    assert (
        payment["kind"],
        payment["status"],
        payment["amount"],
        payment["currency"],
        payment["method"],
        payment["reference"],
        payment["unapplied"],
    ) == ("payment", "approved", 400, "EUR", "bank transfer", "SEPA-1", 0)
    assert payment["applications"] == [{"invoice_id": iid, "amount": 400}]
    r = api.post(f"/invoices/{iid}/payments", {"amount": 700})  # 100 more than is due
    assert r.json()["unapplied"] == 100
    invoice = api.get(f"/invoices/{iid}").json()
    assert (invoice["status"], invoice["amount_paid"], invoice["balance_due"]) == ("paid", 1000, 0)
    assert invoice["payments"] == [
        {"transaction_id": payment["id"], "amount": 400},
        {"transaction_id": r.json()["id"], "amount": 600},
    ]
    assert_problem(api.post(f"/invoices/{iid}/payments", {"amount": 1}), 409)  # paid
    # Voided: what was paid becomes credit.
    r = api.post(f"/invoices/{iid}/void", {"reason": "wrong client"})
    assert (r.status_code, r.json()["status"], r.json()["amount_paid"]) == (200, "void", 0)
    assert_problem(api.http.generic("POST", f"/api/v1/invoices/{iid}/void"), 409)
    balance = api.get(f"/clients/{ada.pk}/balance").json()
    assert balance == {"items": [{"currency": "EUR", "due": 1000, "credit": 1100}], "count": 1}


def test_payment_bodies_are_one_way_or_the_other(api, ada):
    iid = draft(api, ada)["id"]
    api.post(f"/invoices/{iid}/issue", {})
    r = api.post(f"/invoices/{iid}/payments", {})
    assert (r.status_code, fields(r)) == (422, ["amount"])
    r = api.post(f"/invoices/{iid}/payments", {"amount": 0})
    assert (r.status_code, fields(r)) == (422, ["amount"])
    r = api.post(f"/invoices/{iid}/payments", {"amount": 1.5})
    assert (r.status_code, fields(r)) == (422, ["amount"])
    r = api.post(f"/invoices/{iid}/payments", {"payment_account_id": 1, "method": "card"})
    assert (r.status_code, sorted(fields(r))) == (422, ["idempotency_key", "method"])
    r = api.post(
        f"/invoices/{iid}/payments", {"payment_account_id": 999_999, "idempotency_key": "k1"}
    )
    assert (r.status_code, fields(r)) == (422, ["payment_account_id"])
    assert not Transaction.objects.exists()


def test_unapply_returns_payments_as_credit(api, ada):
    iid = draft(api, ada)["id"]
    api.post(f"/invoices/{iid}/issue", {})
    api.post(f"/invoices/{iid}/payments", {"amount": 600})
    r = api.post(f"/invoices/{iid}/unapply", {"amount": 601})
    assert (r.status_code, fields(r)) == (422, ["amount"])
    r = api.post(f"/invoices/{iid}/unapply", {"amount": 200})
    assert (r.status_code, r.json()["amount_paid"], r.json()["status"]) == (200, 400, "open")
    r = api.http.generic("POST", f"/api/v1/invoices/{iid}/unapply")  # no body: everything
    assert r.json()["amount_paid"] == 0
    assert api.get(f"/clients/{ada.pk}/balance").json()["items"] == [
        {"currency": "EUR", "due": 1000, "credit": 600}
    ]


def test_delete_a_draft(api, ada):
    iid = draft(api, ada)["id"]
    assert api.delete(f"/invoices/{iid}").status_code == 204
    assert_problem(api.get(f"/invoices/{iid}"), 404)
    assert_problem(api.delete(f"/invoices/{iid}"), 404)


def test_issuing_needs_lines(api, ada):
    r = api.post("/invoices", {"client_id": ada.pk, "lines": []})
    assert r.status_code == 201
    r = api.post(f"/invoices/{r.json()['id']}/issue", {})
    assert (r.status_code, fields(r)) == (422, ["lines"])


def test_list_invoices_by_client_and_status(api, ada, make_client):
    bob = make_client(first_name="Bob")
    first = draft(api, ada)["id"]
    draft(api, ada)
    draft(api, bob)
    api.post(f"/invoices/{first}/issue", {})
    assert api.get("/invoices").json()["count"] == 3
    mine = api.get(f"/invoices?client_id={ada.pk}").json()
    assert [i["id"] for i in mine["items"]] == [first, first + 1]
    assert [i["id"] for i in api.get("/invoices?status=open").json()["items"]] == [first]
    assert api.get("/invoices?status=unpaid").status_code == 422
    assert api.get("/invoices?limit=0").status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/invoices/999999", None),
        ("delete", "/invoices/999999", None),
        ("post", "/invoices/999999/lines", {"lines": []}),
        ("delete", "/invoices/999999/lines/1", None),
        ("post", "/invoices/999999/issue", {}),
        ("post", "/invoices/999999/void", {}),
        ("post", "/invoices/999999/payments", {"amount": 1}),
        ("post", "/invoices/999999/unapply", {}),
    ],
)
def test_unknown_invoices_are_404(api, method, path, body):
    r = getattr(api, method)(path) if body is None else api.post(path, body)
    assert_problem(r, 404)


# --- Transactions and balances -----------------------------------------------------------


def open_invoice(api, client, amount=1000, **extra):
    invoice = draft(api, client, [{"description": "Work", "unit_amount": amount}], **extra)
    r = api.post(f"/invoices/{invoice['id']}/issue", {"issued_on": JAN_10})
    assert r.status_code == 200, r.content
    return r.json()


def test_record_a_payment_and_grant_credit(api, ada, company):
    r = api.post(
        "/transactions",
        {
            "client_id": ada.pk,
            "kind": "payment",
            "amount": 5000,
            "currency": "eur",
            "method": "bank transfer",
            "reference": "SEPA-7",
            "note": "January",
        },
    )
    assert r.status_code == 201, r.content
    payment = r.json()
    assert payment | {"created_at": ""} == {
        "id": payment["id"],
        "company_id": company.pk,
        "client_id": ada.pk,
        "kind": "payment",
        "status": "approved",
        "amount": 5000,
        "currency": "EUR",
        "unapplied": 5000,
        "method": "bank transfer",
        "reference": "SEPA-7",
        "note": "January",
        "payment_account_id": None,
        "refund_of_id": None,
        "idempotency_key": None,
        "actor": "apikey:tests",
        "created_at": "",
        "disputed_at": None,
        "applications": [],
    }
    assert api.get(f"/transactions/{payment['id']}").json() == payment
    r = api.post(
        "/transactions",
        {
            "client_id": ada.pk,
            "kind": "credit",
            "amount": 300,
            "currency": "EUR",
            "note": "goodwill",
        },
    )
    credit = r.json()
    assert (r.status_code, credit["kind"], credit["method"], credit["note"]) == (
        201,
        "credit",
        "credit",
        "goodwill",
    )
    r = api.post(
        "/transactions", {"client_id": ada.pk, "kind": "payment", "amount": 700, "currency": "EUR"}
    )
    assert (r.status_code, r.json()["method"]) == (201, "manual")
    assert api.get(f"/clients/{ada.pk}/balance").json()["items"] == [
        {"currency": "EUR", "due": 0, "credit": 6000}
    ]


def test_transaction_refusals_name_the_field(api, ada):
    base = {"client_id": ada.pk, "kind": "payment", "amount": 100, "currency": "EUR"}
    assert_problem(api.post("/transactions", base | {"client_id": 999_999}), 404)
    for change, field in [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 10**16}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"kind": "refund"}, "kind"),
        ({"memo": "x"}, "memo"),
    ]:
        r = api.post("/transactions", base | change)
        assert (r.status_code, fields(r)) == (422, [field]), change
    r = api.post("/transactions", base | {"kind": "credit", "method": "cash", "reference": "1"})
    assert (r.status_code, fields(r)) == (422, ["method", "reference"])
    assert not Transaction.objects.exists()


def test_apply_a_payment_to_invoices(api, ada):
    invoice = open_invoice(api, ada)
    usd = open_invoice(api, ada, currency="USD")
    payment = api.post(
        "/transactions", {"client_id": ada.pk, "kind": "payment", "amount": 1500, "currency": "EUR"}
    ).json()
    pid = payment["id"]
    r = api.post(f"/transactions/{pid}/apply", {"invoice_id": invoice["id"], "amount": 400})
    assert r.status_code == 200, r.content
    assert (r.json()["unapplied"], r.json()["applications"]) == (
        1100,
        [{"invoice_id": invoice["id"], "amount": 400}],
    )
    r = api.post(f"/transactions/{pid}/apply", {"invoice_id": invoice["id"], "amount": 601})
    assert (r.status_code, fields(r)) == (422, ["amount"])  # more than is due
    r = api.post(f"/transactions/{pid}/apply", {"invoice_id": usd["id"], "amount": 1})
    assert (r.status_code, fields(r)) == (422, ["transaction_id"])  # another currency
    r = api.post(f"/transactions/{pid}/apply", {"invoice_id": 999_999, "amount": 1})
    assert (r.status_code, fields(r)) == (422, ["invoice_id"])
    r = api.post(f"/transactions/{pid}/apply", {"invoice_id": invoice["id"]})
    assert (r.status_code, fields(r)) == (422, ["amount"])
    a_draft = draft(api, ada)
    assert_problem(
        api.post(f"/transactions/{pid}/apply", {"invoice_id": a_draft["id"], "amount": 1}), 409
    )
    r = api.post(f"/transactions/{pid}/apply", {"invoice_id": invoice["id"], "amount": 600})
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == "paid"
    assert api.get(f"/transactions/{pid}").json()["applications"] == [
        {"invoice_id": invoice["id"], "amount": 1000}
    ]


def test_a_refund_sent_again_with_its_key_refunds_once(api, ada):
    invoice = open_invoice(api, ada)
    pid = api.post(f"/invoices/{invoice['id']}/payments", {"amount": 1500}).json()["id"]
    body = {"amount": 200, "idempotency_key": "refund-1"}
    first = api.post(f"/transactions/{pid}/refund", body)
    again = api.post(f"/transactions/{pid}/refund", body)
    assert (first.status_code, again.status_code) == (201, 201), again.content
    assert again.json()["id"] == first.json()["id"]
    other = api.post(f"/transactions/{pid}/refund", body | {"amount": 300})
    assert (other.status_code, fields(other)) == (422, ["idempotency_key"])
    assert api.get(f"/transactions/{pid}").json()["unapplied"] == 300  # 1500 - 1000 - 200


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "payment", "method": "bank transfer", "reference": "SEPA-7", "note": "January"},
        {"kind": "credit", "note": "goodwill"},
    ],
    ids=["payment", "credit"],
)
def test_a_payment_or_credit_sent_again_with_its_key_is_recorded_once(api, ada, body, make_client):
    """A client retrying after a timeout is answered the first transaction (201, as a
    charge or refund sent again is); the key with another request records nothing."""
    body = body | {"client_id": ada.pk, "amount": 500, "currency": "EUR", "idempotency_key": "k-1"}
    first = api.post("/transactions", body)
    assert first.status_code == 201, first.content
    assert (first.json()["kind"], first.json()["idempotency_key"]) == (body["kind"], "k-1")
    again = api.post("/transactions", body | {"currency": "eur"})  # the same currency
    assert (again.status_code, again.json()) == (201, first.json())
    bob = make_client(first_name="Bob", email="bob@example.com")
    changes = [{"amount": 501}, {"currency": "USD"}, {"note": "another"}, {"client_id": bob.pk}]
    if body["kind"] == "payment":
        changes += [{"reference": "SEPA-8"}, {"method": "cash"}]
    else:
        changes += [{"kind": "payment"}]
    for change in changes:
        other = api.post("/transactions", body | change)
        assert (other.status_code, other.json()["errors"]) == (
            422,
            [{"field": "idempotency_key",
              "message": f"was used for another request (transaction #{first.json()['id']}); "
                         "nothing was recorded. Send a new key with a new request."}],
        ), change  # fmt: skip
    assert Transaction.objects.count() == 1
    assert api.get(f"/clients/{ada.pk}/balance").json()["items"] == [
        {"currency": "EUR", "due": 0, "credit": 500}
    ]


def test_a_transaction_key_belongs_to_the_api_key_that_sends_it(api, ada):
    """Another API key's same key is its own; a key this API key used for a refund is not
    a payment's key."""
    body = {"client_id": ada.pk, "kind": "payment", "amount": 500, "currency": "EUR",
            "idempotency_key": "k-1"}  # fmt: skip
    mine = api.post("/transactions", body).json()
    _, other_key = create_api_key("other", actor=ACTOR)
    theirs = HttpClient(HTTP_AUTHORIZATION=f"Bearer {other_key}").post(
        "/api/v1/transactions", body, content_type="application/json"
    )
    assert theirs.status_code == 201, theirs.content
    assert theirs.json()["id"] != mine["id"]
    refund = api.post(f"/transactions/{mine['id']}/refund", {"amount": 100, "idempotency_key": "r"})
    assert refund.status_code == 201, refund.content
    r = api.post("/transactions", body | {"idempotency_key": "r"})
    assert (r.status_code, fields(r)) == (422, ["idempotency_key"])
    for key in ("", "k" * 129, "a\x00b", 5):
        r = api.post("/transactions", body | {"idempotency_key": key})
        assert (r.status_code, fields(r)) == (422, ["idempotency_key"]), key
    assert Transaction.objects.filter(kind="payment").count() == 2


def test_refund_the_unapplied_part_of_a_payment(api, ada):
    invoice = open_invoice(api, ada)
    payment = api.post(f"/invoices/{invoice['id']}/payments", {"amount": 1500}).json()
    pid = payment["id"]
    r = api.post(f"/transactions/{pid}/refund", {"amount": 501})
    assert (r.status_code, fields(r)) == (422, ["amount"])  # 1000 is applied
    r = api.post(f"/transactions/{pid}/refund", {"amount": 200, "reference": "back"})
    assert r.status_code == 201, r.content
    refund = r.json()
    assert (
        refund["kind"],
        refund["amount"],
        refund["currency"],
        refund["refund_of_id"],
        refund["reference"],
        refund["unapplied"],
    ) == ("refund", 200, "EUR", pid, "back", 0)
    assert api.get(f"/transactions/{pid}").json()["unapplied"] == 300
    credit = api.post(
        "/transactions", {"client_id": ada.pk, "kind": "credit", "amount": 50, "currency": "EUR"}
    ).json()
    r = api.post(f"/transactions/{credit['id']}/refund", {"amount": 10})
    assert (r.status_code, fields(r)) == (422, ["transaction_id"])  # only payments
    r = api.post(f"/transactions/{pid}/refund", {})
    assert (r.status_code, fields(r)) == (422, ["amount"])


def test_apply_credit_oldest_due_first(api, ada):
    older = open_invoice(api, ada, 700)
    newer = open_invoice(api, ada, 900)
    api.post(
        "/transactions", {"client_id": ada.pk, "kind": "credit", "amount": 1000, "currency": "EUR"}
    )
    r = api.post(f"/clients/{ada.pk}/apply-credit", {"currency": "eur"})
    assert (r.status_code, r.json()) == (200, {"currency": "EUR", "applied": 1000})
    assert api.get(f"/invoices/{older['id']}").json()["status"] == "paid"
    assert api.get(f"/invoices/{newer['id']}").json()["balance_due"] == 600
    assert api.get(f"/clients/{ada.pk}/balance").json() == {
        "items": [{"currency": "EUR", "due": 600, "credit": 0}],
        "count": 1,
    }
    r = api.post(f"/clients/{ada.pk}/apply-credit", {"currency": "EUR"})
    assert r.json() == {"currency": "EUR", "applied": 0}
    r = api.post(f"/clients/{ada.pk}/apply-credit", {"currency": "EURO"})
    assert (r.status_code, fields(r)) == (422, ["currency"])
    r = api.post(f"/clients/{ada.pk}/apply-credit", {})
    assert (r.status_code, fields(r)) == (422, ["currency"])


def test_list_transactions_by_client(api, ada, make_client):
    bob = make_client(first_name="Bob")
    for client, amount in [(ada, 100), (bob, 200), (ada, 300)]:
        api.post(
            "/transactions",
            {"client_id": client.pk, "kind": "payment", "amount": amount, "currency": "EUR"},
        )
    assert api.get("/transactions").json()["count"] == 3
    mine = api.get(f"/transactions?client_id={ada.pk}").json()
    assert (mine["count"], [t["amount"] for t in mine["items"]]) == (2, [100, 300])
    assert [t["unapplied"] for t in mine["items"]] == [100, 300]
    page = api.get(f"/transactions?client_id={ada.pk}&limit=1&offset=1").json()
    assert [t["amount"] for t in page["items"]] == [300]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/transactions/999999", None),
        ("post", "/transactions/999999/apply", {"invoice_id": 1, "amount": 1}),
        ("post", "/transactions/999999/refund", {"amount": 1}),
        ("get", "/clients/999999/balance", None),
        ("post", "/clients/999999/apply-credit", {"currency": "EUR"}),
        ("get", "/clients/999999/payment-accounts", None),
        (
            "post",
            "/clients/999999/payment-accounts",
            {"kind": "card", "gateway": "test", "reference": "tok", "last4": "4242"},
        ),
        ("get", "/payment-accounts/999999", None),
        ("delete", "/payment-accounts/999999", None),
        ("post", "/payment-accounts/999999/autodebit", {}),
    ],
)
def test_unknown_transactions_clients_and_accounts_are_404(api, method, path, body):
    r = getattr(api, method)(path) if body is None else api.post(path, body)
    assert_problem(r, 404)


# --- Payment accounts ----------------------------------------------------------------------

CARD = {"kind": "card", "gateway": "test", "reference": "tok_visa_4242", "last4": "4242"}


def test_add_list_choose_autodebit_and_remove_accounts(api, ada):
    r = api.post(
        f"/clients/{ada.pk}/payment-accounts",
        CARD | {"label": "Visa", "expires_on": "2028-12-31", "is_autodebit": True},
    )
    assert r.status_code == 201, r.content
    visa = r.json()
    assert visa == {
        "id": visa["id"],
        "client_id": ada.pk,
        "kind": "card",
        "gateway": "test",
        "reference": "tok_visa_4242",
        "last4": "4242",
        "label": "Visa",
        "expires_on": "2028-12-31",
        "is_autodebit": True,
        "failure_count": 0,
        "autodebit_disabled": False,
        "disabled_reason": "",
    }
    r = api.post(
        f"/clients/{ada.pk}/payment-accounts",
        {
            "kind": "bank",
            "gateway": "manual",
            "reference": "mandate-1",
            "last4": "0001",
            "is_autodebit": True,
        },
    )
    bank = r.json()
    assert (r.status_code, bank["is_autodebit"], bank["label"], bank["expires_on"]) == (
        201,
        True,
        "",
        None,
    )
    listed = api.get(f"/clients/{ada.pk}/payment-accounts").json()
    assert listed["count"] == 2
    assert [(a["id"], a["is_autodebit"]) for a in listed["items"]] == [
        (visa["id"], False),
        (bank["id"], True),
    ]
    r = api.post(f"/payment-accounts/{visa['id']}/autodebit", {})
    assert (r.status_code, r.json()["is_autodebit"]) == (200, True)
    assert api.get(f"/payment-accounts/{bank['id']}").json()["is_autodebit"] is False
    assert api.delete(f"/payment-accounts/{bank['id']}").status_code == 204
    assert_problem(api.get(f"/payment-accounts/{bank['id']}"), 404)
    assert api.get(f"/clients/{ada.pk}/payment-accounts").json()["count"] == 1


def test_payment_account_refusals_name_the_field(api, ada):
    path = f"/clients/{ada.pk}/payment-accounts"
    for change, field in [
        ({"reference": "4242 4242 4242 4242"}, "reference"),  # a card number, not a token
        ({"reference": ""}, "reference"),
        ({"last4": "42"}, "last4"),
        ({"last4": 4242}, "last4"),
        ({"gateway": "stripe"}, "gateway"),
        ({"kind": "cash"}, "kind"),
        ({"expires_on": "12/28"}, "expires_on"),
        ({"is_autodebit": "yes"}, "is_autodebit"),
        ({"number": "4242424242424242"}, "number"),
    ]:
        r = api.post(path, CARD | change)
        assert (r.status_code, fields(r)) == (422, [field]), change
    r = api.post(path, {"kind": "card"})
    assert (r.status_code, sorted(fields(r))) == (422, ["gateway", "last4", "reference"])
    assert not PaymentAccount.objects.exists()


# --- Hostile input: a field error, never a 500 and never half a write ----------------------

NUL = "a\x00b"  # PostgreSQL cannot store it


def test_services_refuse_what_they_cannot_store(api, catalog, ada):
    base = {"client_id": ada.pk, "pricing_id": catalog.host_month.pk}
    disk = str(catalog.disk.pk)
    r = api.post("/services", base | {"start_on": "9999-12-31"})  # the term ends in year 10000
    assert (r.status_code, fields(r)) == (422, ["start_on"])
    for quantity in (0, 100_001, 2**31, 2**63):
        r = api.post(
            "/services",
            base | {"options": {disk: {"value_id": catalog.ten_gb.pk, "quantity": quantity}}},
        )
        assert (r.status_code, fields(r)) == (422, [f"options.{disk}"]), quantity
    assert not Service.objects.exists()
    sid = order(api, ada, catalog.host_month)["id"]
    api.post(f"/services/{sid}/provision", {})
    for quantity in (0, -1, 100_001, 2**63):
        r = api.post(f"/services/{sid}/changes", {"quantity": quantity})
        assert (r.status_code, fields(r)) == (422, ["quantity"]), quantity
    for day in ("0001-01-01", "9999-12-31"):
        r = api.post(f"/services/{sid}/changes", {"quantity": 2, "today": day})
        assert (r.status_code, fields(r)) == (422, ["today"]), day
    for path, body in [
        ("suspend", {"reason": NUL}),
        ("cancel", {"when": "end_of_term", "reason": NUL}),
        ("cancel", {"when": "now", "reason": "x" * 1001}),
    ]:
        r = api.post(f"/services/{sid}/{path}", body)
        assert (r.status_code, fields(r)) == (422, ["reason"]), body
    service = api.get(f"/services/{sid}").json()
    assert (service["status"], service["quantity"], service["cancel_at"]) == ("active", 1, None)
    assert [e["event"] for e in api.get(f"/services/{sid}/history").json()["items"]] == [
        "order",
        "add",
    ]


def test_invoices_and_payments_refuse_what_they_cannot_store(api, ada):
    r = api.post("/invoices", {"client_id": ada.pk, "notes": NUL, "lines": []})
    assert (r.status_code, fields(r)) == (422, ["notes"])
    r = api.post(
        "/invoices",
        {
            "client_id": ada.pk,
            "lines": [
                {"description": NUL, "unit_amount": 1},
                {"description": "Too much", "unit_amount": 10**15, "quantity": 10**6},  # > 2^63
            ],
        },
    )
    assert (r.status_code, fields(r)) == (422, ["lines.0.description", "lines.1.unit_amount"])
    assert not Invoice.objects.exists()
    iid = open_invoice(api, ada)["id"]
    for body, field in [
        ({"amount": 5, "method": NUL}, "method"),
        ({"amount": 5, "method": "m" * 33}, "method"),
        ({"amount": 5, "method": " "}, "method"),
        ({"amount": 5, "reference": "r" * 129}, "reference"),
    ]:
        r = api.post(f"/invoices/{iid}/payments", body)
        assert (r.status_code, fields(r)) == (422, [field]), body
    r = api.post(f"/invoices/{iid}/void", {"reason": NUL})
    assert (r.status_code, fields(r)) == (422, ["reason"])
    card = api.post(f"/clients/{ada.pk}/payment-accounts", CARD).json()
    for key in ("", NUL, "k" * 129):
        r = api.post(
            f"/invoices/{iid}/payments", {"payment_account_id": card["id"], "idempotency_key": key}
        )
        assert (r.status_code, fields(r)) == (422, ["idempotency_key"]), key
    # The manual gateway cannot charge anything: refused, and no attempt is left pending.
    bank = api.post(f"/clients/{ada.pk}/payment-accounts", CARD | {"gateway": "manual"}).json()
    r = api.post(
        f"/invoices/{iid}/payments",
        {"payment_account_id": bank["id"], "idempotency_key": "by-hand"},
    )
    assert (r.status_code, fields(r)) == (422, ["gateway"])
    assert not Transaction.objects.exists()
    assert api.get(f"/invoices/{iid}").json()["status"] == "open"
    for body, field in [({"label": NUL}, "label"), ({"reference": NUL}, "reference")]:
        r = api.post(f"/clients/{ada.pk}/payment-accounts", CARD | body)
        assert (r.status_code, fields(r)) == (422, [field])


def test_transactions_refuse_what_they_cannot_store(api, ada):
    base = {"client_id": ada.pk, "kind": "payment", "amount": 500, "currency": "EUR"}
    for change, field in [
        ({"note": "n" * 501}, "note"),
        ({"note": NUL}, "note"),
        ({"reference": NUL}, "reference"),
        ({"kind": "credit", "note": NUL}, "note"),
    ]:
        r = api.post("/transactions", base | change)
        assert (r.status_code, fields(r)) == (422, [field]), change
    r = api.post(f"/clients/{ada.pk}/apply-credit", {"currency": NUL})
    assert (r.status_code, fields(r)) == (422, ["currency"])
    assert not Transaction.objects.exists()
    payment = api.post("/transactions", base).json()
    r = api.post(f"/transactions/{payment['id']}/refund", {"amount": 5, "reference": NUL})
    assert (r.status_code, fields(r)) == (422, ["reference"])
    assert Transaction.objects.count() == 1


# --- The story, over the API alone ------------------------------------------------------------


def test_a_month_of_ordering_paying_changing_and_cancelling_over_the_api(api, company, group, ada):
    """Ada has 7.00 of credit. On January 10th she orders Web Hosting (10.00 a month, 5.00
    setup): the credit and her card pay it; it is provisioned. On the 20th she adds Backup,
    prorated 21/31 to renew with the hosting: her second card is declined, the first one
    works. On the 25th she upgrades to Pro, 16/31 of the 15.00 difference, and pays 10.00 by
    bank transfer: the 2.26 too much is refunded. A consulting invoice paid by card is voided
    and the card refunded through the gateway. Her group starts crediting downgrades; on
    the 28th she goes back to Web Hosting and gets 13/31 of 15.00 back as credit. On
    February 1st she cancels; the addon goes with the service."""
    packages = f"/companies/{company.pk}/packages"

    def package(name, price, setup=0, **extra):
        body = {
            "name": name,
            "prices": [{"unit": "month", "currency": "EUR", "price": price, "setup_fee": setup}],
            **extra,
        }
        r = api.post(packages, body)
        assert r.status_code == 201, r.content
        return r.json()

    hosting = package("Web Hosting", 1000, setup=500)
    pro = package("Web Hosting Pro", 2500)
    backup = package("Backup", 300, addon_of=[hosting["id"], pro["id"]])
    host_price, pro_price = hosting["prices"][0]["id"], pro["prices"][0]["id"]

    def post(path, body, status=200):
        r = api.post(path, body)
        assert r.status_code == status, r.content
        return r.json()

    def invoice(invoice_id):
        return api.get(f"/invoices/{invoice_id}").json()

    # January 10th: 7.00 of credit, the order, the credit applied, the card pays the rest.
    post(
        "/transactions",
        {
            "client_id": ada.pk,
            "kind": "credit",
            "amount": 700,
            "currency": "EUR",
            "note": "welcome",
        },
        201,
    )
    site = post(
        "/services", {"client_id": ada.pk, "pricing_id": host_price, "start_on": "2026-01-10"}, 201
    )
    first = invoice(site["first_invoice_id"])
    assert (first["number"], first["status"], first["total"], first["due_on"]) == (
        1,
        "open",
        1500,
        "2026-01-10",
    )
    assert [(ln["description"], ln["amount"]) for ln in first["lines"]] == [
        ("Web Hosting (Jan 10, 2026 \u2013 Feb 9, 2026)", 1000),
        ("Setup: Web Hosting", 500),
    ]
    assert post(f"/clients/{ada.pk}/apply-credit", {"currency": "EUR"})["applied"] == 700
    visa = post(
        f"/clients/{ada.pk}/payment-accounts",
        {
            "kind": "card",
            "gateway": "test",
            "reference": "tok_visa_4242",
            "last4": "4242",
            "label": "Visa",
        },
        201,
    )
    paid = post(
        f"/invoices/{first['id']}/payments",
        {"payment_account_id": visa["id"], "idempotency_key": "pay:first"},
        201,
    )
    assert (paid["status"], paid["amount"], paid["method"], paid["payment_account_id"]) == (
        "approved",
        800,
        "test",
        visa["id"],
    )
    assert paid["applications"] == [{"invoice_id": first["id"], "amount": 800}]
    assert invoice(first["id"])["status"] == "paid"
    # Sent again (a timeout, say): the first answer again, nothing is charged twice; a new
    # key for the paid invoice is refused.
    again = post(
        f"/invoices/{first['id']}/payments",
        {"payment_account_id": visa["id"], "idempotency_key": "pay:first"},
        201,
    )
    assert again == paid
    r = api.post(
        f"/invoices/{first['id']}/payments",
        {"payment_account_id": visa["id"], "idempotency_key": "pay:second"},
    )
    assert_problem(r, 409)
    assert post(f"/services/{site['id']}/provision", {})["status"] == "active"

    # January 20th: the Backup addon, 21 of 31 days; a declined card, then the good one.
    addon = post(
        "/services",
        {
            "client_id": ada.pk,
            "pricing_id": backup["prices"][0]["id"],
            "parent_id": site["id"],
            "start_on": "2026-01-20",
        },
        201,
    )
    assert addon["renew_date"] == site["renew_date"] == "2026-02-10"
    second = invoice(addon["first_invoice_id"])
    assert (second["number"], second["total"]) == (2, 203)  # 300 x 21/31 = 203.23
    mc = post(
        f"/clients/{ada.pk}/payment-accounts",
        {"kind": "card", "gateway": "test", "reference": "tok_mc_0002", "last4": "0002"},
        201,
    )
    declined = post(
        f"/invoices/{second['id']}/payments",
        {"payment_account_id": mc["id"], "idempotency_key": "pay:addon:1"},
        201,
    )
    assert (declined["status"], declined["amount"], declined["applications"]) == (
        "declined",
        203,
        [],
    )
    again = post(
        f"/invoices/{second['id']}/payments",
        {"payment_account_id": mc["id"], "idempotency_key": "pay:addon:1"},
        201,
    )
    assert (again["id"], again["status"]) == (declined["id"], "declined")  # not sent twice
    assert api.get(f"/payment-accounts/{mc['id']}").json()["failure_count"] == 1
    assert invoice(second["id"])["status"] == "open"
    post(
        f"/invoices/{second['id']}/payments",
        {"payment_account_id": visa["id"], "idempotency_key": "pay:addon:2"},
        201,
    )
    assert invoice(second["id"])["status"] == "paid"

    # January 25th: Pro, 16 of 31 days of 15.00; 10.00 by bank transfer, 2.26 refunded.
    up = post(
        f"/services/{site['id']}/changes", {"pricing_id": pro_price, "today": "2026-01-25"}, 201
    )
    assert (up["status"], up["credit_amount"]) == ("applied", 0)
    third = invoice(up["invoice_id"])
    assert (third["number"], third["total"]) == (3, 774)  # 1500 x 16/31 = 774.19
    transfer = post(
        f"/invoices/{third['id']}/payments",
        {"amount": 1000, "method": "bank transfer", "reference": "SEPA-9"},
        201,
    )
    assert (transfer["unapplied"], invoice(third["id"])["status"]) == (226, "paid")
    refund = post(
        f"/transactions/{transfer['id']}/refund",
        {"amount": 226, "reference": "back to her IBAN"},
        201,
    )
    assert (refund["kind"], refund["status"], refund["amount"], refund["refund_of_id"]) == (
        "refund",
        "approved",
        226,
        transfer["id"],
    )
    assert api.get(f"/transactions/{transfer['id']}").json()["unapplied"] == 0

    # A consulting invoice paid by card, voided, and the card refunded through the gateway.
    consulting = post(
        "/invoices",
        {
            "client_id": ada.pk,
            "lines": [
                {"description": "Consulting", "unit_amount": 5000},
                {"description": "Domains", "unit_amount": 1500, "quantity": 2, "taxable": False},
            ],
        },
        201,
    )
    consulting = post(
        f"/invoices/{consulting['id']}/issue", {"issued_on": "2026-01-26", "due_on": "2026-02-09"}
    )
    assert (consulting["number"], consulting["total"]) == (4, 8000)
    card_payment = post(
        f"/invoices/{consulting['id']}/payments",
        {"payment_account_id": visa["id"], "idempotency_key": "pay:consult"},
        201,
    )
    voided = post(f"/invoices/{consulting['id']}/void", {"reason": "billed twice"})
    assert (voided["status"], voided["amount_paid"], voided["payments"]) == ("void", 0, [])
    assert api.get(f"/transactions/{card_payment['id']}").json()["unapplied"] == 8000
    card_refund = post(f"/transactions/{card_payment['id']}/refund", {"amount": 8000}, 201)
    assert (card_refund["status"], card_refund["method"]) == ("approved", "test")
    assert card_refund["reference"].startswith("sbx_")

    # January 28th: her group now credits downgrades; back to Web Hosting, 13 of 31 days.
    r = api.put(f"/client-groups/{group.pk}/settings/prorate_downgrade_credits", {"value": True})
    assert r.status_code == 200, r.content
    down = post(
        f"/services/{site['id']}/changes", {"pricing_id": host_price, "today": "2026-01-28"}, 201
    )
    assert (down["status"], down["invoice_id"], down["credit_amount"], down["currency"]) == (
        "applied",
        None,
        629,
        "EUR",
    )  # 1500 x 13/31 = 629.03
    assert api.get(f"/services/{site['id']}").json()["package_name"] == "Web Hosting"

    # February 1st: cancelled, the addon with it; nothing is left to pay, 6.29 of credit.
    gone = post(
        f"/services/{site['id']}/cancel",
        {"when": "now", "today": "2026-02-01", "reason": "moving on"},
    )
    assert gone["status"] == "canceled"
    assert api.get(f"/services/{addon['id']}").json()["status"] == "canceled"
    assert api.get(f"/invoices?client_id={ada.pk}&status=open").json()["count"] == 0
    assert api.get(f"/clients/{ada.pk}/balance").json()["items"] == [
        {"currency": "EUR", "due": 0, "credit": 629}
    ]
    ledger = api.get(f"/transactions?client_id={ada.pk}").json()
    assert [(t["kind"], t["status"], t["amount"], t["unapplied"]) for t in ledger["items"]] == [
        ("credit", "approved", 700, 0),
        ("payment", "approved", 800, 0),
        ("payment", "declined", 203, 0),
        ("payment", "approved", 203, 0),
        ("payment", "approved", 1000, 0),
        ("refund", "approved", 226, 0),
        ("payment", "approved", 8000, 0),
        ("refund", "approved", 8000, 0),
        ("credit", "approved", 629, 629),
    ]
    history = api.get(f"/services/{site['id']}/history").json()["items"]
    assert [(e["event"], e["to_status"]) for e in history] == [
        ("order", "pending"),
        ("add", "active"),
        ("change", "active"),
        ("change", "active"),
        ("cancel", "canceled"),
    ]


# --- Authentication ---------------------------------------------------------------------------

PROTECTED = [
    ("get", "/services"),
    ("post", "/services"),
    ("get", "/services/1"),
    ("post", "/services/1/provision"),
    ("post", "/services/1/changes"),
    ("post", "/service-changes/1/apply"),
    ("get", "/services/1/history"),
    ("get", "/invoices"),
    ("post", "/invoices"),
    ("post", "/invoices/1/issue"),
    ("post", "/invoices/1/payments"),
    ("delete", "/invoices/1"),
    ("get", "/transactions"),
    ("post", "/transactions/1/refund"),
    ("get", "/clients/1/balance"),
    ("post", "/clients/1/apply-credit"),
    ("get", "/clients/1/payment-accounts"),
    ("delete", "/payment-accounts/1"),
    ("post", "/payment-accounts/1/autodebit"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_401_without_a_valid_key(db, method, path):
    for key in (None, "gb_" + "x" * 43):
        r = call(path, key, method=method)
        assert_problem(r, 401)
        assert r["WWW-Authenticate"] == "Bearer"


def test_staff_retry_and_clear_a_failed_renewal_over_the_api(api, company, make_client):
    from datetime import date

    from groupbill.billing import invoices as invoice_actions
    from groupbill.billing import payments
    from groupbill.catalog.models import Package, PackagePrice
    from groupbill.provisioning import ModuleResult
    from groupbill.provisioning import test as test_module
    from groupbill.services import actions as service_actions
    from groupbill.services.models import BilledPeriod, Service

    package = Package.objects.create(company=company, name="Panel", module="test")
    price = PackagePrice.objects.create(
        package=package, unit="month", count=1, currency="EUR", price=1000
    )
    client = make_client()
    service = service_actions.add_service(
        client, pricing=price, start_on=date(2026, 1, 1), actor="test"
    )
    payments.pay_invoice(service.first_invoice, amount=1000, actor="test")
    service_actions.provision(service, actor="test")
    renewal = invoice_actions.create_invoice(
        client,
        [invoice_actions.NewLine("Panel, February", 1000, service_id=service.pk)],
        actor="test",
    )
    invoice_actions.issue_invoice(renewal, issued_on=date(2026, 1, 27), actor="test")
    payments.pay_invoice(renewal, amount=1000, actor="test")
    BilledPeriod.objects.create(
        service=service, period=1, start=date(2026, 2, 1), end=date(2026, 3, 1), invoice=renewal
    )
    Service.objects.filter(pk=service.pk).update(renewal_failed=True, renewal_attempts=24)

    cleared = api.post(f"/services/{service.pk}/renewal/clear", {})
    assert cleared.status_code == 200
    assert (cleared.json()["renewal_failed"], cleared.json()["renewal_attempts"]) == (False, 0)
    test_module.script(service.pk, "renew", ModuleResult(False, "panel down"))
    once = api.post(f"/services/{service.pk}/renewal/retry", {}).json()
    assert (once["renewal_failed"], once["renewal_attempts"]) == (False, 1)
    twice = api.post(f"/services/{service.pk}/renewal/retry", {}).json()
    assert twice["renewal_attempts"] == 0 and twice["last_renewed_on"] is not None
    assert api.post("/services/999/renewal/retry", {}).status_code == 404
