"""Settings > Company > Packages in the admin UI: a person adds a package with two prices
in headless Chromium and sees it listed; the pages' forms (no JavaScript needed) put the
actions' nested errors on the row and cell they name and save all or nothing."""

import os

import pytest
from django.test import Client as HttpClient

from groupbill.audit.models import AuditEntry
from groupbill.catalog import actions
from groupbill.catalog.models import ConfigOption, Package, PackagePrice
from tests.conftest import ACTOR, ARTIFACTS, login, sign_in

MONTH_EUR = {"unit": "month", "count": 1, "currency": "EUR", "price": 1250, "setup_fee": 500}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_add_a_package_with_two_prices_in_the_browser(browser_page, staff_user, company):
    page = browser_page
    login(page)

    # Settings > Company > Packages > Add package.
    page.goto(f"/companies/{company.pk}/")
    page.get_by_role("link", name="Packages").click()
    page.get_by_role("link", name="Add package").click()
    page.fill("#id_name", "Web Hosting S")
    page.fill("#id_description", "10 GB, 1 site")
    # Two prices: monthly with a setup fee, yearly; a third row left empty.
    page.select_option("#id_prices-0-unit", "month")
    page.fill("#id_prices-0-count", "1")
    page.fill("#id_prices-0-currency", "EUR")
    page.fill("#id_prices-0-price", "12.50")
    page.fill("#id_prices-0-setup_fee", "5")
    page.select_option("#id_prices-1-unit", "year")
    page.fill("#id_prices-1-currency", "EUR")
    page.fill("#id_prices-1-price", "120")
    page.get_by_role("button", name="Add package").click()
    page.get_by_text('Package "Web Hosting S" created.').wait_for()

    package = Package.objects.get(name="Web Hosting S")
    assert list(
        package.prices.order_by("pk").values_list("unit", "count", "currency", "price", "setup_fee")
    ) == [("month", 1, "EUR", 1250, 500), ("year", 1, "EUR", 12000, 0)]
    # The edit page shows the amounts as typed, ready for another change.
    assert page.input_value("#id_prices-0-price") == "12.50"
    assert page.input_value("#id_prices-1-price") == "120.00"

    # Back to the list: formatted prices, the module, the active badge.
    page.locator(".crumbs").get_by_role("link", name="Packages").click()
    row = page.locator('tr[data-package="Web Hosting S"]')
    prices = row.locator(".prices").inner_text()
    assert "12.50 EUR / 1 month + 5.00 setup" in prices
    assert "120.00 EUR / 1 year" in prices
    assert row.locator(".status").inner_text() == "active"
    page.screenshot(path=os.path.join(ARTIFACTS, "packages.png"), full_page=True)

    # A bad amount is refused on its cell; nothing is saved.
    row.get_by_role("link", name="Edit").click()
    page.fill("#id_prices-1-price", "120.001")
    page.get_by_role("button", name="Save package").click()
    assert "EUR amounts have at most 2 decimal place(s)" in page.locator("#prices").inner_text()
    assert PackagePrice.objects.get(package=package, unit="year").price == 12000

    # Deactivate.
    page.goto(f"/packages/{package.pk}/")
    page.get_by_role("button", name="Deactivate package").click()
    page.get_by_text("deactivated: it can no longer be ordered").wait_for()
    package.refresh_from_db()
    assert package.active is False


# --- The forms without a browser ------------------------------------------------------------


def price_rows(*rows, extra=3, initial=0):
    """The prices table as the browser posts it: given rows, then empty ones."""
    data = {"prices-TOTAL_FORMS": str(len(rows) + extra), "prices-INITIAL_FORMS": str(initial),
            "prices-MIN_NUM_FORMS": "0", "prices-MAX_NUM_FORMS": "1000"}  # fmt: skip
    empty = {"unit": "month", "count": "1", "currency": "EUR", "price": "", "setup_fee": ""}
    for i, row in enumerate([*rows, *[empty] * extra]):
        for key, value in {**empty, **row}.items():
            data[f"prices-{i}-{key}"] = value
    return data


def package_post(**fields):
    return {"name": "Web S", "description": "", "module": "none", "webhook_url": "",
            "webhook_secret": "", "client_can_order_as_addon": "on", **fields}  # fmt: skip


def test_add_puts_nested_errors_on_their_cells(staff, company):
    post = package_post() | price_rows(
        {"price": "10"}, {"unit": "onetime", "count": "3", "price": "1"}, {"price": "abc"}
    )
    r = staff.post(f"/companies/{company.pk}/packages/add/", post)
    assert r.status_code == 422
    rows = r.context["prices"].forms
    # Every error at once: the amount that cannot be read, and the action's own errors.
    assert rows[0].errors == {}
    assert rows[1].errors == {"count": ["must be 1 for a one-time price"]}
    assert rows[2].errors == {
        "price": ["must be an amount like 12.50"],
        "__all__": ["repeats prices.0 (1 month EUR); each term and currency may have one price"],
    }
    assert "must be 1 for a one-time price" in r.content.decode()
    assert not Package.objects.exists()
    # Only an unreadable amount: the otherwise valid save is undone.
    post.update({"prices-1-count": "1", "prices-2-unit": "year", "prices-2-price": "1,5"})
    r = staff.post(f"/companies/{company.pk}/packages/add/", post)
    assert r.status_code == 422
    assert r.context["prices"].forms[2].errors == {"price": ["must be an amount like 12.50"]}
    assert not Package.objects.exists()
    assert not AuditEntry.objects.filter(level="package").exists()


def test_webhook_errors_and_secret_handling(staff, company):
    url = f"/companies/{company.pk}/packages/add/"
    r = staff.post(url, package_post(module="webhook") | price_rows())
    assert r.status_code == 422
    assert r.context["form"].errors == {
        "webhook_url": ["is required for the webhook module"],
        "webhook_secret": ["is required for the webhook module"],
    }
    secret = "0123456789abcdef"
    r = staff.post(url, package_post(module="webhook", webhook_url="https://h.example/x",
                                     webhook_secret=secret) | price_rows())  # fmt: skip
    assert r.status_code == 302
    package = Package.objects.get()
    page = staff.get(f"/packages/{package.pk}/").content.decode()
    assert secret not in page
    assert "A secret is set; leave blank to keep it" in page
    # Saving with the secret left blank keeps it.
    post = package_post(name="Renamed", module="webhook", webhook_url="https://h.example/x")
    r = staff.post(f"/packages/{package.pk}/", post | price_rows())
    assert r.status_code == 302
    package.refresh_from_db()
    assert (package.name, package.webhook_secret) == ("Renamed", secret)


def test_edit_saves_identity_and_prices_together_or_not_at_all(staff, company):
    base = actions.create_package(company, {"name": "Base"}, actor=ACTOR)
    package = actions.create_package(company, {"name": "Web S", "prices": [MONTH_EUR]},
                                     actor=ACTOR)  # fmt: skip
    url = f"/packages/{package.pk}/"
    page = staff.get(url)
    assert page.status_code == 200
    assert page.context["prices"].forms[0].initial["price"] == "12.50"
    keep = {"unit": "month", "count": "1", "currency": "EUR", "price": "12.50",
            "setup_fee": "5.00"}  # fmt: skip
    # Renaming with a bad currency in a new row: nothing is saved.
    post = package_post(name="Web Small", addon_of=[str(base.pk)]) | price_rows(
        keep, {"unit": "year", "currency": "EUX", "price": "100"}, initial=1
    )
    r = staff.post(url, post)
    assert r.status_code == 422
    assert r.context["prices"].forms[1].errors == {
        "currency": ["must be an ISO 4217 currency code, e.g. USD or EUR"]
    }
    package.refresh_from_db()
    assert package.name == "Web S"
    assert not package.addon_of.exists()
    # Fixed: both saved.
    post["prices-1-currency"] = "usd"
    assert staff.post(url, post).status_code == 302
    package.refresh_from_db()
    assert package.name == "Web Small"
    assert list(package.addon_of.all()) == [base]
    assert list(package.prices.order_by("pk").values_list("currency", "price")) == [
        ("EUR", 1250), ("USD", 10000)
    ]  # fmt: skip
    # Clearing every price is refused: a package keeps at least one.
    cleared = package_post(name="Web Small") | price_rows(
        {**keep, "price": "", "setup_fee": ""}, initial=1
    )
    r = staff.post(url, cleared)
    assert r.status_code == 422
    assert "Prices: at least one price is required" in r.content.decode()
    assert package.prices.count() == 2


def test_option_grid(staff, company):
    package = actions.create_package(
        company,
        {"name": "VPS", "prices": [MONTH_EUR, {**MONTH_EUR, "unit": "year", "price": 12000}]},
        actor=ACTOR,
    )
    page = staff.get(f"/packages/{package.pk}/options/add/")
    assert [c.label for c in page.context["columns"]] == ["1 month EUR", "1 year EUR"]

    def grid(*rows, extra=3, initial=0):
        data = {"name": "RAM", "kind": "select",
                "values-TOTAL_FORMS": str(len(rows) + extra),
                "values-INITIAL_FORMS": str(initial), "values-MIN_NUM_FORMS": "0",
                "values-MAX_NUM_FORMS": "1000"}  # fmt: skip
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"values-{i}-{key}"] = value
        return data

    # An error deep in the grid lands on its cell.
    r = staff.post(
        f"/packages/{package.pk}/options/add/",
        grid({"name": "2 GB", "price_0": "0"}, {"name": "4 GB", "price_1": "50.123"}),
    )
    assert r.status_code == 422
    assert r.context["values"].forms[1].errors == {
        "price_1": ["EUR amounts have at most 2 decimal place(s)"]
    }
    r = staff.post(
        f"/packages/{package.pk}/options/add/",
        grid({"name": "2 GB", "price_0": "0"}, {"name": "", "price_1": "50"}),
    )
    assert r.context["values"].forms[1].errors == {"name": ["is required"]}
    assert not ConfigOption.objects.exists()

    r = staff.post(
        f"/packages/{package.pk}/options/add/",
        grid({"name": "2 GB", "price_0": "0"}, {"name": "4 GB", "price_0": "5", "price_1": "50",
                                                "setup_1": "1"}),
    )  # fmt: skip
    assert r.status_code == 302
    option = ConfigOption.objects.get()
    small, big = option.values.order_by("pk")
    assert list(small.prices.values_list("unit", "price")) == [("month", 0)]
    assert sorted(big.prices.values_list("unit", "price", "setup_fee")) == [
        ("month", 500, 0), ("year", 5000, 100)
    ]  # fmt: skip
    listed = staff.get(f"/packages/{package.pk}/").content.decode()
    assert "0.00 EUR / 1 month" in listed and "50.00 EUR / 1 year + 1.00 setup" in listed

    # Edit: the small value's row cleared (removed), the big one renamed, kept by id.
    page = staff.get(f"/package-options/{option.pk}/")
    assert page.context["values"].forms[1].initial["price_1"] == "50.00"
    r = staff.post(
        f"/package-options/{option.pk}/",
        grid({"id": str(small.pk), "name": ""}, {"id": str(big.pk), "name": "4 GB ECC",
                                                 "price_0": "6"}, initial=2),
    )  # fmt: skip
    assert r.status_code == 302
    assert [(v.pk, v.name) for v in option.values.all()] == [(big.pk, "4 GB ECC")]
    assert list(big.prices.values_list("unit", "price")) == [("month", 600)]

    r = staff.post(f"/package-options/{option.pk}/delete/")
    assert r.status_code == 302
    assert not ConfigOption.objects.exists()
    assert AuditEntry.objects.filter(level="package", action="option.delete").exists()


def test_pages_are_staff_only_and_404_for_unknown_ids(staff, company, django_user_model):
    assert staff.get(f"/companies/{company.pk}/packages/").status_code == 200
    assert staff.get("/packages/999999/").status_code == 404
    assert staff.get("/package-options/999999/").status_code == 404
    assert staff.get("/companies/999999/packages/").status_code == 404
    django_user_model.objects.create_user("plain", "p@example.com", "pw")
    plain = HttpClient()
    assert sign_in(plain, "plain", "pw")
    assert plain.get(f"/companies/{company.pk}/packages/").status_code == 403
    anonymous = HttpClient()
    assert anonymous.get(f"/companies/{company.pk}/packages/").status_code == 302


def test_company_page_links_to_packages(staff, company):
    page = staff.get(f"/companies/{company.pk}/").content.decode()
    assert f'href="/companies/{company.pk}/packages/"' in page
