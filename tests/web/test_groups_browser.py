"""The admin UI driven as a person would, in headless Chromium."""

import os

import pytest

from groupbill.clients.models import Client
from groupbill.settings_catalog.resolver import resolve_client
from tests.conftest import ARTIFACTS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_group_lifecycle_in_the_browser(browser_page, staff_user, company, make_client):
    page = browser_page
    existing = make_client(first_name="Grace", last_name="Hopper", email="grace@example.com")
    login(page)

    # Settings > Company > Client Groups: add a group.
    page.goto(f"/companies/{company.pk}/client-groups/")
    page.get_by_role("link", name="Add client group").click()
    page.fill("#id_name", "Wholesale")
    page.fill("#id_description", "Bulk buyers")
    page.get_by_role("button", name="Add group").click()
    page.get_by_text('Group "Wholesale" created').wait_for()
    group = company.client_groups.get(name="Wholesale")

    # Override a setting: untick "inherit", set 14 days, save.
    row = page.locator("#row-suspend_services_days_after_due")
    row.get_by_label("Inherit default value (7 days)").uncheck()
    row.locator("input[type=number]").fill("14")
    page.get_by_role("button", name="Save group").click()
    page.get_by_text('Group "Wholesale" saved.').wait_for()
    assert "group" in row.locator(".badge").inner_text()
    assert "14 days" in row.inner_text()

    # A cross-key rule only the server knows refuses the whole save: nothing is written.
    threshold = page.locator("#row-renewal_spacing_threshold_2")
    threshold.get_by_label("Inherit default value (12 attempts)").uncheck()
    threshold.locator("input[type=number]").fill("3")
    page.fill("#id_name", "Wholesale renamed")
    page.get_by_role("button", name="Save group").click()
    error = threshold.locator(".error").inner_text()
    assert "must be greater than 1st renewal attempt spacing threshold (6 attempts)" in error
    # The header counts what is saved (the 14 days), not the refused override.
    assert "1 setting overridden" in page.locator("p.muted").first.inner_text()
    group.refresh_from_db()
    assert group.name == "Wholesale"
    assert resolve_client(existing.pk)["renewal_spacing_threshold_2"].value == 12

    # Move the existing client into the new group, then delete the group.
    Client.objects.filter(pk=existing.pk).update(group=group)
    assert resolve_client(existing.pk)["suspend_services_days_after_due"].value == 14
    page.goto(f"/client-groups/{group.pk}/delete/")
    consequence = page.locator("#delete-consequence").inner_text()
    assert "1 client will be moved to the default group" in consequence
    assert '"General"' in consequence
    page.get_by_role("button", name='Delete group and move clients to "General"').click()
    page.get_by_text('Group "Wholesale" deleted; 1 client(s) moved to "General".').wait_for()

    general_row = page.locator('tr[data-group="General"]')
    assert general_row.locator(".count").inner_text() == "1"
    assert page.locator('tr[data-group="Wholesale"]').count() == 0
    existing.refresh_from_db()
    assert existing.group.name == "General"
    assert resolve_client(existing.pk)["suspend_services_days_after_due"].value == 7
    page.screenshot(path=os.path.join(ARTIFACTS, "client-groups-after-delete.png"), full_page=True)

    # The client's page tells where it went and shows its effective settings' sources.
    page.goto(f"/clients/{existing.pk}/")
    assert (
        'Moved from group "Wholesale" (deleted) to "General"'
        in page.locator("#history").inner_text()
    )
    assert "company" in page.locator(
        '#effective tr[data-key="invoice_days_before_renewal"]'
    ).inner_text() or (
        "default"
        in page.locator('#effective tr[data-key="invoice_days_before_renewal"]').inner_text()
    )
