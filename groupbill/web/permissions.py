"""What each staff page needs, declared once. One rule for every page (staff_required):
reading (GET, HEAD) needs "read" in the page's company; any other method needs the action
named here. A page across companies asks for the action in some company of the user's.
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


class Can:
    """What the signed-in staff user may do on this page, for templates:
    `{% if request.staff_can.bill %}` shows a changing control."""

    def __init__(self, actions):
        self.actions = frozenset(actions)

    read = property(lambda self: Action.READ in self.actions)
    bill = property(lambda self: Action.BILL in self.actions)
    configure = property(lambda self: Action.CONFIGURE in self.actions)
    manage_staff = property(lambda self: Action.MANAGE_STAFF in self.actions)


def needed(url_name: str | None, method: str) -> Action:
    if method in ("GET", "HEAD", "OPTIONS"):
        return Action.READ
    return CHANGES_NEED.get(url_name or "", BILL)
