"""Confirmations ask before a change under the Content-Security-Policy (`script-src
'self'` blocks inline handlers such as `onsubmit="return confirm(...)"`, so a form with
one would be sent without asking): a form's `data-confirm` is asked by
groupbill/web/static/groupbill/confirm.js."""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse

import groupbill
from groupbill.clients.models import Client
from tests.conftest import ARTIFACTS, login

TEMPLATES = Path(groupbill.__file__).parent


def test_no_template_has_an_inline_event_handler():
    inline = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in TEMPLATES.rglob("*.html")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if inline.search(line)
    ]
    assert found == []


@pytest.mark.browser
def test_deleting_a_client_asks_first_and_a_dismissed_question_deletes_nothing(
    browser_page, staff_user, ada
):
    page = browser_page
    asked = []

    def answer(accept):
        def on_dialog(dialog):
            asked.append((dialog.type, dialog.message))
            dialog.accept() if accept else dialog.dismiss()

        return on_dialog

    login(page)
    detail = reverse("web:client_detail", args=[ada.pk])
    page.goto(detail)
    dismiss = answer(False)
    page.on("dialog", dismiss)
    page.get_by_role("button", name="Delete client").click()
    page.wait_for_timeout(500)  # a form sent without asking would have left by now
    assert asked == [("confirm", f"Delete client #{ada.pk} and its contacts?")]
    assert page.url.endswith(detail)
    assert Client.objects.filter(pk=ada.pk).exists()
    page.screenshot(path=os.path.join(ARTIFACTS, "client-delete-dismissed.png"))
    page.remove_listener("dialog", dismiss)
    page.on("dialog", answer(True))
    with page.expect_navigation():
        page.get_by_role("button", name="Delete client").click()
    assert len(asked) == 2
    assert not Client.objects.filter(pk=ada.pk).exists()
