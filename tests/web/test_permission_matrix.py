"""Every staff route, every role, own company / other company: reading (GET) is allowed
to every role in its own company (a page that is only a form to make something needs its
change: FORM_ONLY); a change (POST) only to the roles whose permissions hold
the action the route declares (groupbill.web.permissions); nothing at all in a company the
user does not belong to: its pages and objects answer 404, as a missing id does. A route
with no row here fails the coverage test."""

import pytest
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import get_resolver, reverse

from groupbill.companies.actions import set_staff_role
from groupbill.companies.roles import PERMISSIONS, Role
from groupbill.web.permissions import CHANGES_NEED, OWN_ACCOUNT, needed
from tests.permission_book import book

ACTOR = "test"


def _company(i):
    return {"company_id": i["company"]}


# Route name → its URL's ids, from one company's book (None: a page across companies).
ROUTES = {
    "home": None,
    "company_list": None,
    "company_dashboard": _company,
    "reports_home": None,
    "report_ageing": _company,
    "report_revenue": _company,
    "report_tax": _company,
    "report_mrr": _company,
    "report_forecast": _company,
    "company_edit": _company,
    "company_settings": _company,
    "company_staff": _company,
    "company_api_keys": _company,
    "webhook_list": _company,
    "webhook_toggle": lambda i: _company(i) | {"endpoint_id": i["endpoint"]},
    "webhook_delete": lambda i: _company(i) | {"endpoint_id": i["endpoint"]},
    "webhook_redeliver": lambda i: _company(i) | {"delivery_id": i["delivery"]},
    "csv_import": _company,
    "csv_template": lambda i: _company(i) | {"kind": "clients"},
    "group_list": _company,
    "group_add": _company,
    "group_edit": lambda i: {"group_id": i["group"]},
    "group_reset": lambda i: {"group_id": i["group"]},
    "group_delete": lambda i: {"group_id": i["group"]},
    "client_add": _company,
    "client_list": None,
    "client_detail": lambda i: {"client_id": i["client"]},
    "client_edit": lambda i: {"client_id": i["client"]},
    "client_delete": lambda i: {"client_id": i["client"]},
    "contact_add": lambda i: {"client_id": i["client"]},
    "contact_edit": lambda i: {"contact_id": i["contact"]},
    "contact_portal_grant": lambda i: {"contact_id": i["contact"]},
    "contact_portal_link": lambda i: {"contact_id": i["contact"]},
    "contact_portal_disable": lambda i: {"contact_id": i["contact"]},
    "contact_portal_enable": lambda i: {"contact_id": i["contact"]},
    "audit_log": None,
    "package_list": _company,
    "package_add": _company,
    "package_edit": lambda i: {"package_id": i["package"]},
    "package_deactivate": lambda i: {"package_id": i["package"]},
    "package_activate": lambda i: {"package_id": i["package"]},
    "option_add": lambda i: {"package_id": i["package"]},
    "option_edit": lambda i: {"option_id": i["option"]},
    "option_delete": lambda i: {"option_id": i["option"]},
    "client_note_add": lambda i: {"client_id": i["client"]},
    "client_account_add": lambda i: {"client_id": i["client"]},
    "client_apply_credit": lambda i: {"client_id": i["client"]},
    "client_recurring_add": lambda i: {"client_id": i["client"]},
    "client_recurring_stop": lambda i: {"client_id": i["client"]},
    "client_refund": lambda i: {"client_id": i["client"]},
    "service_order": lambda i: {"client_id": i["client"]},
    "invoice_new": lambda i: {"client_id": i["client"]},
    "service_detail": lambda i: {"service_id": i["service"]},
    "invoice_detail": lambda i: {"invoice_id": i["invoice"]},
    "invoice_pdf": lambda i: {"invoice_id": i["invoice"]},
    "credit_note_pdf": lambda i: {"credit_note_id": i["credit_note"]},
    "print_queue": None,
    "print_queue_pdf": None,
    "automation": None,
    "automation_run": lambda i: {"run_id": i["run"]},
    "outbox": None,
    "outbox_resend": lambda i: {"message_id": i["message"]},
    "message_template_list": _company,
    "message_template_edit": lambda i: _company(i) | {"key": "notice_first"},
    "invoice_list": None,
    "invoice_bulk": None,
    "transaction_list": None,
    "service_list": None,
    "search": None,
}


def web_route_names() -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) == "web":
            names |= {p.name for p in pattern.url_patterns if p.name}
    return names


def test_every_staff_route_has_a_row_and_a_declared_permission():
    staff_routes = web_route_names() - OWN_ACCOUNT
    assert staff_routes - set(ROUTES) == set(), "routes with no row in the matrix"
    assert set(ROUTES) - staff_routes == set(), "rows for routes that do not exist"
    assert staff_routes - set(CHANGES_NEED) == set(), "routes with no declared permission"


def _call(http, method, url):
    # A change that is let through runs and is then rolled back: the next row sees the
    # same book.
    with transaction.atomic():
        response = getattr(http, method)(url)
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix(role, django_user_model):
    own, other = book("Own"), book("Other")
    user = django_user_model.objects.create_user("member", password="pw", is_staff=True)
    from groupbill.companies.models import Company

    set_staff_role(Company.objects.get(pk=own["company"]), user, role, actor=ACTOR)
    http = HttpClient(raise_request_exception=False)
    http.force_login(user)
    allowed = PERMISSIONS[role]
    wrong = []
    for name, ids in ROUTES.items():
        sites = [("own", own)] + ([("other", other)] if ids else [])
        for site, book_ids in sites:
            url = reverse(f"web:{name}", kwargs=ids(book_ids) if ids else None)
            for method in ("get", "post"):
                action = needed(name, method.upper())
                may = site == "own" and action in allowed
                response = _call(http, method, url)
                if site == "other":
                    if response.status_code != 404:
                        wrong.append(f"{method.upper()} {name} (other): {response.status_code}")
                    continue
                refused = response.status_code == 403
                if refused == may or (refused and b"Not allowed" not in response.content):
                    wrong.append(f"{method.upper()} {name} ({site}): {response.status_code}")
    assert wrong == []


def test_staff_without_a_membership_may_do_nothing(django_user_model):
    own = book("Own")
    user = django_user_model.objects.create_user("nobody", password="pw", is_staff=True)
    http = HttpClient()
    http.force_login(user)
    assert http.get(reverse("web:client_detail", args=[own["client"]])).status_code == 404
    assert http.get(reverse("web:home")).status_code == 403
