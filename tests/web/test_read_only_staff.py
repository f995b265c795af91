"""A support (read-only) user sees the same pages as an owner without a single changing
control, and every change the owner's page offers is answered 403 to them."""

import os
import re
from html.parser import HTMLParser

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from groupbill.companies.actions import set_staff_role
from groupbill.companies.models import Company
from groupbill.companies.roles import Role
from tests.conftest import ARTIFACTS, login
from tests.web.test_permission_matrix import book

ACTOR = "test"

# Configuration pages whose forms a read-only user still sees (saving them is 403).
# Add and edit pages are forms through and through; their links are hidden from read-only
# users on the pages shown to them (client, invoice, service, company).
STILL_SHOW_FORMS = {
    "client_add", "client_edit", "company_settings", "contact_add", "contact_edit",
    "csv_import", "group_add", "group_delete", "group_edit", "option_add", "option_edit",
    "package_add", "package_edit", "webhook_list",
}  # fmt: skip


class PostForms(HTMLParser):
    """The changing controls of a page: its POST forms' actions (and formaction buttons)."""

    def __init__(self, page_path):
        super().__init__()
        self.page_path, self.actions, self.in_post = page_path, [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_post = (attrs.get("method") or "get").lower() == "post"
            if self.in_post:
                self.actions.append(attrs.get("action") or self.page_path)
        elif tag == "button" and self.in_post and attrs.get("formaction"):
            self.actions.append(attrs["formaction"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post = False


def post_forms(http, path) -> list[str]:
    response = http.get(path)
    assert response.status_code == 200, path
    parser = PostForms(path)
    parser.feed(response.content.decode())
    return [a for a in parser.actions if a != reverse("web:logout")]


@pytest.fixture
def ids(db):
    return book("Own")


def member(django_user_model, ids, role, username):
    user = django_user_model.objects.create_user(username, password="pw pw pw", is_staff=True)
    set_staff_role(Company.objects.get(pk=ids["company"]), user, role, actor=ACTOR)
    http = HttpClient()
    http.force_login(user)
    return user, http


def pages(ids):
    return [
        reverse("web:client_detail", args=[ids["client"]]),
        reverse("web:invoice_detail", args=[ids["invoice"]]),
        reverse("web:service_detail", args=[ids["service"]]),
        reverse("web:company_edit", args=[ids["company"]]),
        reverse("web:company_staff", args=[ids["company"]]),
    ]


def test_support_sees_no_changing_control_and_every_change_is_403(django_user_model, ids):
    _, owner = member(django_user_model, ids, Role.OWNER, "owner")
    _, support = member(django_user_model, ids, Role.SUPPORT, "support")
    changes = set()
    for path in pages(ids):
        offered = post_forms(owner, path)
        assert offered, f"the owner has controls on {path}"
        changes |= set(offered)
        assert post_forms(support, path) == [], path
    assert len(changes) >= 10  # the client page alone offers notes, orders, invoices, ...
    for action in sorted(changes):
        response = support.post(action, {"text": "a note", "action": "issue"})
        assert response.status_code == 403, action
        assert "Your role does not allow this here" in response.content.decode()


def test_billing_may_work_with_money_but_not_configure(django_user_model, ids):
    _, billing = member(django_user_model, ids, Role.BILLING, "billing")
    client_page = reverse("web:client_detail", args=[ids["client"]])
    assert reverse("web:client_note_add", args=[ids["client"]]) in post_forms(billing, client_page)
    note = billing.post(reverse("web:client_note_add", args=[ids["client"]]), {"text": "Called"})
    assert note.status_code == 302
    assert "Called" in billing.get(client_page).content.decode()
    company_page = reverse("web:company_edit", args=[ids["company"]])
    assert post_forms(billing, company_page) == []
    assert billing.post(company_page, {"name": "Renamed"}).status_code == 403


@pytest.mark.browser
def test_client_page_as_support_in_the_browser(browser_page, django_user_model, ids):
    member(django_user_model, ids, Role.SUPPORT, "support")
    page = browser_page
    login(page, "support", "pw pw pw")
    page.goto(reverse("web:client_detail", args=[ids["client"]]))
    assert page.locator("header .badge", has_text="read-only").is_visible()
    assert page.locator("main form[method=post]").count() == 0
    assert page.get_by_role("button", name=re.compile("Delete|Add|Order|Create")).count() == 0
    page.screenshot(path=os.path.join(ARTIFACTS, "client-as-support.png"), full_page=True)


def test_lists_across_companies_show_only_the_users_companies(django_user_model, ids):
    other = book("Other")
    _, billing = member(django_user_model, ids, Role.BILLING, "billing")
    for name, detail, key in (
        ("client_list", "client_detail", "client"),
        ("invoice_list", "invoice_detail", "invoice"),
        ("service_list", "service_detail", "service"),
        ("company_list", "company_edit", "company"),
    ):
        page = billing.get(reverse(f"web:{name}")).content.decode()
        assert f'href="{reverse(f"web:{detail}", args=[ids[key]])}"' in page, name
        assert f'href="{reverse(f"web:{detail}", args=[other[key]])}"' not in page, name


def test_the_audit_log_and_outbox_show_only_the_users_companies(django_user_model, ids, staff):
    book("Other")
    assert "Ada Other" in staff.get(reverse("web:audit_log")).content.decode()  # a superuser
    _, billing = member(django_user_model, ids, Role.BILLING, "billing")
    audit = billing.get(reverse("web:audit_log")).content.decode()
    assert "Ada Own" in audit and "Ada Other" not in audit
    assert "Other" not in audit  # nor in the company filter
    outbox = billing.get(reverse("web:outbox")).content.decode()
    assert f'id="message-{ids["message"]}"' in outbox
    assert f'id="message-{ids["message"] + 1}"' not in outbox  # the other company's


def test_who_makes_a_company_owns_it(django_user_model, ids):
    _, owner = member(django_user_model, ids, Role.OWNER, "owner")
    made = owner.post(
        reverse("web:company_list"),
        {
            "name": "Second",
            "timezone": "UTC",
            "default_currency": "EUR",
            "rounding_mode": "half_up",
        },
    )
    assert made.status_code == 302
    second = Company.objects.get(name="Second")
    assert owner.get(reverse("web:company_edit", args=[second.pk])).status_code == 200


def test_every_page_a_support_user_reads_and_which_still_show_forms(django_user_model, ids):
    """Every staff page read as support: the pages here must offer no change; the ones in
    STILL_SHOW_FORMS do (their changes are 403 all the same: test_permission_matrix)."""
    from tests.web.test_permission_matrix import ROUTES

    _, support = member(django_user_model, ids, Role.SUPPORT, "support")
    with_forms = set()
    for name, kwargs in ROUTES.items():
        path = reverse(f"web:{name}", kwargs=kwargs(ids) if kwargs else None)
        response = support.get(path)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        parser = PostForms(path)
        parser.feed(response.content.decode())
        if [a for a in parser.actions if a != reverse("web:logout")]:
            with_forms.add(name)
    assert sorted(with_forms) == sorted(STILL_SHOW_FORMS)
