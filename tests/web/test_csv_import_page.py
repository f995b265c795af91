"""The staff CSV import page: upload, preview, import; as a person sees it."""

import os
from datetime import date

import pytest

from groupbill.catalog.actions import create_package
from groupbill.clients.models import Client
from groupbill.importers import csv_import
from groupbill.importers.models import CsvUpload
from groupbill.periods import Term, TermUnit
from tests.conftest import ACTOR, ARTIFACTS, login

GOOD = """external_id,first_name,last_name,email,country,group
C1,Grace,Hopper,grace@example.com,US,Resellers
C2,Alan,Turing,alan@example.com,GB,
"""
MONTH_EUR = {"unit": "month", "count": 1, "currency": "EUR", "price": 1250}
BAD = GOOD + "C3,Edsger,Dijkstra,not-an-email,NL,\n"


def _upload(staff, company, text, kind="clients", name="clients.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return staff.post(
        f"/companies/{company.pk}/import/",
        {"step": "preview", "kind": kind, "file": SimpleUploadedFile(name, text.encode())},
    )


@pytest.mark.django_db
def test_template_download_has_the_header(staff, company):
    response = staff.get(f"/companies/{company.pk}/import/contacts.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="groupbill-contacts.csv"' in response["Content-Disposition"]
    assert response.content.decode() == csv_import.template("contacts")
    assert staff.get(f"/companies/{company.pk}/import/invoices.csv").status_code == 404


@pytest.mark.django_db
def test_an_upload_is_imported_only_as_previewed_and_by_who_previewed_it(
    staff, company, group, django_user_model
):
    page = _upload(staff, company, GOOD).content.decode()
    assert "2 rows: 2 create" in page and "Import 2 rows" in page
    upload = CsvUpload.objects.get()
    assert not Client.objects.filter(company=company).exists()

    # Another staff user cannot import it, nor can a wrong hash.
    other = django_user_model.objects.create_user(
        "bob", password="x", is_staff=True, is_superuser=True
    )
    from django.test import Client as HttpClient

    bob = HttpClient()
    bob.force_login(other)
    url = f"/companies/{company.pk}/import/"
    form = {"step": "import", "upload": upload.pk, "sha256": upload.sha256}
    assert bob.post(url, form).status_code == 404
    assert staff.post(url, form | {"sha256": "0" * 64}).status_code == 404
    assert not Client.objects.filter(company=company).exists()

    done = staff.post(url, form, follow=True).content.decode()
    assert "Imported clients.csv (clients): 2 rows: 2 create." in done
    assert Client.objects.filter(company=company).count() == 2
    assert not CsvUpload.objects.exists()


@pytest.mark.django_db
def test_a_refused_file_offers_no_import(staff, company, group):
    page = _upload(staff, company, BAD).content.decode()
    assert "row 4, column email: must be a valid email address" in page
    assert "Import" not in page.split("</table>")[1]
    assert not CsvUpload.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_preview_and_import_in_the_browser(browser_page, staff_user, company, group, tmp_path):
    page = browser_page
    login(page)
    page.goto(f"/companies/{company.pk}/")
    page.get_by_role("link", name="Import CSV").click()

    bad = tmp_path / "clients.csv"
    bad.write_text(BAD)
    page.set_input_files("#id_file", str(bad))
    page.get_by_role("button", name="Preview").click()
    refused = page.locator('tr[data-row="4"]')
    assert "refused" in refused.inner_text()
    assert "row 4, column email: must be a valid email address" in refused.inner_text()
    assert page.locator("#preview-summary").inner_text().startswith("3 rows: 2 create, 1 refused")
    assert page.get_by_role("button", name="Import 3 rows").count() == 0
    page.screenshot(path=os.path.join(ARTIFACTS, "csv-import-refused.png"), full_page=True)

    good = tmp_path / "clients-fixed.csv"
    good.write_text(GOOD)
    page.set_input_files("#id_file", str(good))
    page.get_by_role("button", name="Preview").click()
    assert page.locator('tr[data-row="2"]').inner_text().split("\t")[:3] == [
        "2",
        "create",
        "Grace Hopper",
    ]
    page.screenshot(path=os.path.join(ARTIFACTS, "csv-import-preview.png"), full_page=True)
    assert not Client.objects.filter(company=company).exists()

    page.get_by_role("button", name="Import 2 rows").click()
    page.get_by_text("Imported clients-fixed.csv (clients): 2 rows: 2 create.").wait_for()
    page.screenshot(path=os.path.join(ARTIFACTS, "csv-import-done.png"), full_page=True)
    assert Client.objects.filter(company=company).count() == 2

    # Services of the clients just imported, named by their external ids.
    create_package(company, {"name": "Web S", "prices": [MONTH_EUR]}, actor=ACTOR)
    services = tmp_path / "services.csv"
    services.write_text(
        "external_id,client_external_id,package,term,currency,start_date,status\n"
        "S1,C1,Web S,1 month,EUR,2026-01-15,active\n"
        "S2,C2,Web S,1 year,EUR,2026-01-15,active\n"
    )
    page.select_option("#id_kind", "services")
    page.set_input_files("#id_file", str(services))
    page.get_by_role("button", name="Preview").click()
    grace = Client.objects.get(contacts__email="grace@example.com")
    first, second = (page.locator(f'tr[data-row="{n}"]').inner_text() for n in (2, 3))
    # The month holding today was invoiced by the old system: it renews after it.
    renews = csv_import._Import(company, "services", ACTOR).next_renewal(
        date(2026, 1, 15), Term(TermUnit.MONTH)
    )
    assert f"Web S, 1 month EUR, client #{grace.pk}: active, renews {renews}" in first
    assert f"Web S, client #{Client.objects.exclude(pk=grace.pk).get().pk}" in second
    assert (
        'row 3, column term: package "Web S" has no price for 1 year in EUR '
        "(it is sold: 1 month EUR)"
    ) in second
    page.screenshot(path=os.path.join(ARTIFACTS, "csv-import-services.png"), full_page=True)
