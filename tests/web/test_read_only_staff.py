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
from groupbill.web.permissions import FORM_ONLY
from tests.conftest import ARTIFACTS, login
from tests.web.test_permission_matrix import book

ACTOR = "test"


class PostForms(HTMLParser):
    """The changing controls of a page: its POST forms' actions (and formaction buttons),
    and in `enabled` the inputs and buttons one could use outside a GET form (a search or
    a filter) and outside the header (sign-out)."""

    def __init__(self, page_path):
        super().__init__()
        self.page_path, self.actions, self.in_post = page_path, [], False
        self.enabled, self.in_get, self.in_main, self.disabled_depth = [], False, False, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.in_post, self.in_get = method == "post", method == "get"
            if self.in_post:
                self.actions.append(attrs.get("action") or self.page_path)
        elif tag == "fieldset" and self.disabled_depth:
            self.disabled_depth += 1
        elif tag == "fieldset" and "disabled" in attrs:
            self.disabled_depth = 1
        elif tag == "button" and self.in_post and attrs.get("formaction"):
            self.actions.append(attrs["formaction"])
        if (
            tag in ("input", "select", "textarea", "button")
            and self.in_main
            and not self.in_get
            and not self.disabled_depth
            and "disabled" not in attrs
            and attrs.get("type") != "hidden"
        ):
            self.enabled.append(f"{tag} {attrs.get('name') or attrs.get('type') or ''}".strip())

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post = self.in_get = False
        elif tag == "fieldset" and self.disabled_depth:
            self.disabled_depth -= 1
        elif tag == "main":
            self.in_main = False


def post_forms(http, path) -> list[str]:
    return read(http, path).actions


def read(http, path) -> PostForms:
    response = http.get(path)
    assert response.status_code == 200, path
    parser = PostForms(path)
    parser.feed(response.content.decode())
    parser.actions = [a for a in parser.actions if a != reverse("web:logout")]
    return parser


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


@pytest.mark.browser
def test_edit_pages_as_support_in_the_browser(browser_page, django_user_model, ids):
    member(django_user_model, ids, Role.SUPPORT, "support")
    page = browser_page
    login(page, "support", "pw pw pw")
    for name, args in (("client_edit", [ids["client"]]), ("group_edit", [ids["group"]]),
                       ("package_edit", [ids["package"]])):  # fmt: skip
        page.goto(reverse(f"web:{name}", args=args))
        assert page.locator("main fieldset[disabled]").first.is_visible()
        assert page.locator("main button").count() == 0
        page.screenshot(path=os.path.join(ARTIFACTS, f"{name}-as-support.png"), full_page=True)
    page.goto(reverse("web:package_add", args=[ids["company"]]))
    refusal = page.get_by_role("alert").inner_text()
    assert refusal.startswith("Your role, Support (read-only), cannot add packages here.")
    page.screenshot(path=os.path.join(ARTIFACTS, "package_add-as-support.png"), full_page=True)


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


def test_every_page_a_support_user_reads_offers_no_change(django_user_model, ids):
    """Every staff page read as support: a page that shows something shows it read-only
    (no form that posts, no control to use); a page that only makes something (add, import,
    delete) says what their role cannot do, 403."""
    from tests.web.test_permission_matrix import ROUTES

    _, support = member(django_user_model, ids, Role.SUPPORT, "support")
    shown, refused = set(), set()
    for name, kwargs in ROUTES.items():
        path = reverse(f"web:{name}", kwargs=kwargs(ids) if kwargs else None)
        response = support.get(path)
        if response.status_code == 403:
            said = response.content.decode()
            assert f"Your role, Support (read-only), cannot {FORM_ONLY[name]} here" in said, name
            refused.add(name)
        elif response.status_code == 200 and "text/html" in response["Content-Type"]:
            page = read(support, path)
            assert (page.actions, page.enabled) == ([], []), name
            shown.add(name)
    assert refused == set(FORM_ONLY)
    # The edit pages show what they edit, read-only.
    edit_pages = {
        "client_edit", "contact_edit", "group_edit", "package_edit", "option_edit",
        "company_edit", "company_settings", "webhook_list", "message_template_edit",
    }  # fmt: skip
    assert edit_pages <= shown


def test_edit_pages_show_support_the_data_read_only(django_user_model, ids):
    _, support = member(django_user_model, ids, Role.SUPPORT, "support")
    client = support.get(reverse("web:client_edit", args=[ids["client"]])).content.decode()
    assert '<h1>Ada Own <span class="muted">#' in client and "Edit Ada Own" not in client
    assert re.search(r'<fieldset class="stacked" disabled>.*name="default_currency" value="EUR"',
                     client, re.S)  # fmt: skip
    group = support.get(reverse("web:group_edit", args=[ids["group"]])).content.decode()
    assert 'value="Own resellers"' in group and "Save group" not in group
    package = support.get(reverse("web:package_edit", args=[ids["package"]])).content.decode()
    assert 'value="Hosting"' in package and "Add option" not in package
    assert len(re.findall(r'name="prices-\d+-price"', package)) == 1  # no empty rows to fill
    assert "This package can be ordered." in package


def test_billing_is_told_it_cannot_add_a_package(django_user_model, ids):
    _, billing = member(django_user_model, ids, Role.BILLING, "billing")
    response = billing.get(reverse("web:package_add", args=[ids["company"]]))
    assert response.status_code == 403
    assert "Your role, Billing, cannot add packages here." in response.content.decode()
    packages = billing.get(reverse("web:package_list", args=[ids["company"]])).content.decode()
    assert reverse("web:package_add", args=[ids["company"]]) not in packages
    clients = billing.get(reverse("web:client_list")).content.decode()
    assert reverse("web:client_add", args=[ids["company"]]) in clients
