"""The ledger over REST: services, invoices, transactions, balances and payment accounts.

Every endpoint's happy path and its main refusals (401, 404, 409, 422 naming the field),
then the whole story over the API alone, to the minor unit."""

import pytest

from groupbill.billing import payments
from groupbill.billing.models import Invoice
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.companies.queries import company_today
from groupbill.services.models import Service
from groupbill.settings_catalog.actions import set_group_setting
from tests.conftest import ACTOR
from tests.test_api_auth import assert_problem, call

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


@pytest.fixture
def ada(make_client, group):
    return make_client(group=group, default_currency="EUR")


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
    # Another company's price cannot be ordered.
    other = Package.objects.create(company=company, name="Retired", active=False)
    retired = PackagePrice.objects.create(
        package=other, unit="month", count=1, currency="EUR", price=100
    )
    assert_problem(api.post("/services", base | {"pricing_id": retired.pk}), 422)
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


# --- Authentication ---------------------------------------------------------------------------

PROTECTED = [
    ("get", "/services"),
    ("post", "/services"),
    ("get", "/services/1"),
    ("post", "/services/1/provision"),
    ("post", "/services/1/changes"),
    ("post", "/service-changes/1/apply"),
    ("get", "/services/1/history"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_401_without_a_valid_key(db, method, path):
    for key in (None, "gb_" + "x" * 43):
        r = call(path, key, method=method)
        assert_problem(r, 401)
        assert r["WWW-Authenticate"] == "Bearer"
