"""What each staff page needs, declared once. One rule for every page (staff_required):
reading (GET, HEAD) needs "read" in the page's company; any other method needs the action
named here. A page that is only a form to make something (FORM_ONLY) needs that action to
be read too. A page across companies asks for the action in some company of the user's.
tests/web/test_permission_matrix.py fails when a route is missing from this table."""

from groupbill.companies.roles import Action

BILL, CONFIGURE, MANAGE_STAFF = Action.BILL, Action.CONFIGURE, Action.MANAGE_STAFF

# Pages any signed-in staff user may use for themselves (their own second factor), and the
# sign-in pages that come before a role can be known.
OWN_ACCOUNT = {"login", "logout", "two_factor_verify", "two_factor_setup"}

CHANGES_NEED = {
    "home": BILL,
    "company_list": CONFIGURE,
    "company_dashboard": BILL,
    "reports_home": BILL,
    "report_ageing": BILL,
    "report_revenue": BILL,
    "report_tax": BILL,
    "report_mrr": BILL,
    "report_forecast": BILL,
    "company_edit": CONFIGURE,
    "company_settings": CONFIGURE,
    "company_staff": MANAGE_STAFF,
    "company_api_keys": MANAGE_STAFF,
    "webhook_list": CONFIGURE,
    "webhook_toggle": CONFIGURE,
    "webhook_delete": CONFIGURE,
    "webhook_redeliver": CONFIGURE,
    "csv_import": CONFIGURE,
    "csv_template": CONFIGURE,
    "group_list": CONFIGURE,
    "group_add": CONFIGURE,
    "group_edit": CONFIGURE,
    "group_reset": CONFIGURE,
    "group_delete": CONFIGURE,
    "client_add": BILL,
    "client_list": BILL,
    "client_detail": BILL,
    "client_edit": BILL,
    "client_delete": BILL,
    "contact_add": BILL,
    "contact_edit": BILL,
    "contact_portal_grant": BILL,
    "contact_portal_link": BILL,
    "contact_portal_disable": BILL,
    "contact_portal_enable": BILL,
    "audit_log": BILL,
    "package_list": CONFIGURE,
    "package_add": CONFIGURE,
    "package_edit": CONFIGURE,
    "package_deactivate": CONFIGURE,
    "package_activate": CONFIGURE,
    "option_add": CONFIGURE,
    "option_edit": CONFIGURE,
    "option_delete": CONFIGURE,
    "client_note_add": BILL,
    "client_account_add": BILL,
    "client_apply_credit": BILL,
    "client_recurring_add": BILL,
    "client_recurring_stop": BILL,
    "client_refund": BILL,
    "service_order": BILL,
    "invoice_new": BILL,
    "service_detail": BILL,
    "invoice_detail": BILL,
    "invoice_pdf": BILL,
    "credit_note_pdf": BILL,
    "print_queue": BILL,
    "print_queue_pdf": BILL,
    "automation": CONFIGURE,
    "automation_run": CONFIGURE,
    "outbox": BILL,
    "outbox_resend": BILL,
    "message_template_list": CONFIGURE,
    "message_template_edit": CONFIGURE,
    "invoice_list": BILL,
    "invoice_bulk": BILL,
    "transaction_list": BILL,
    "service_list": BILL,
    "search": BILL,
}

# Pages that are only a form to make something, with nothing of the company to read: a user
# whose role may not make it is told so (403) instead of being shown a form. Each says what
# the page does, for that refusal ("Your role ... cannot add packages").
FORM_ONLY = {
    "client_add": "add clients",
    "contact_add": "add contacts",
    "group_add": "add client groups",
    "group_delete": "delete client groups",
    "package_add": "add packages",
    "option_add": "add options to packages",
    "csv_import": "import clients, contacts or services",
}


class Can:
    """What the signed-in staff user may do on this page, for templates:
    `{% if request.staff_can.bill %}` shows a changing control; `change` is the change the
    page itself makes (its own form), so a page's template need not name the action."""

    def __init__(self, actions, url_name: str | None = None):
        self.actions = frozenset(actions)
        self.url_name = url_name

    read = property(lambda self: Action.READ in self.actions)
    bill = property(lambda self: Action.BILL in self.actions)
    configure = property(lambda self: Action.CONFIGURE in self.actions)
    manage_staff = property(lambda self: Action.MANAGE_STAFF in self.actions)

    @property
    def change(self) -> bool:
        return needed(self.url_name, "POST") in self.actions


def needed(url_name: str | None, method: str) -> Action:
    if method in ("GET", "HEAD", "OPTIONS") and url_name not in FORM_ONLY:
        return Action.READ
    return CHANGES_NEED.get(url_name or "", BILL)
