"""A demo book: two companies, groups with different colours and overrides, clients with
contacts who can sign in to the client portal. Built only through the actions, like any real
data."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction

from groupbill import external
from groupbill.billing.accounts import add_payment_account
from groupbill.billing.charges import pay_with_account
from groupbill.billing.payments import add_credit, apply_credit, pay_invoice
from groupbill.catalog.actions import add_option, create_package
from groupbill.clients.actions import add_contact, create_client, create_group
from groupbill.clients.models import Client
from groupbill.companies.actions import create_company
from groupbill.companies.models import Company, StaffMembership, TaxRule
from groupbill.companies.queries import company_today
from groupbill.companies.roles import Role
from groupbill.portal import accounts
from groupbill.portal.models import PortalAccount
from groupbill.services.actions import add_service, provision
from groupbill.settings_catalog.actions import (
    set_client_settings,
    set_company_settings,
    set_group_settings,
)

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "groupbill-demo"
# Every demo client's primary contact signs in to the portal with DEMO_PASSWORD. This one is
# a reseller whose group lets clients change and cancel services there; Maria's (the
# default group) does not.
DEMO_CLIENT_LOGIN = "tom@becker.example"
ACTOR = "system:demo"

_NORTHWIND_GROUPS = [
    ("Resellers", "#1E88E5", "Partners reselling our hosting; billed monthly, never suspended; "
     "they change and cancel services themselves in the portal.",
     {"suspend_services_days_after_due": "never", "autodebit_days_before_due": 3,
      "invoice_services_together": True, "client_can_change_package": True,
      "client_can_change_term": True, "client_can_cancel_services": True}),
    ("Enterprise", "#43A047", "Contracted customers: paper invoices, full contact details.",
     {"invoice_days_before_renewal": 14, "delivery_methods": ["email", "paper"],
      "invoice_method": "paper", "required_contact_fields": ["address1", "city", "country",
      "email", "first_name", "last_name", "phone"], "notice_first_days": None}),
    ("Trial", "#E53935", "Free-trial sign-ups: strict suspension, one auto-debit attempt.",
     {"suspend_services_days_after_due": 2, "autodebit_attempts": 1,
      "client_can_cancel_services": True}),
]  # fmt: skip

_NORTHWIND_CLIENTS = [
    (None, {"first_name": "Maria", "last_name": "Schmidt", "email": "maria@schmidt.example",
            "city": "Berlin", "country": "DE", "phone": "+49 30 1234567"}),
    ("Resellers", {"first_name": "Tom", "last_name": "Becker", "company": "Becker Webdesign",
                   "email": "tom@becker.example", "country": "DE"}),
    ("Resellers", {"first_name": "Lena", "last_name": "Vogel", "company": "Vogel IT",
                   "email": "lena@vogel.example", "country": "AT", "default_currency": "EUR"}),
    ("Enterprise", {"first_name": "James", "last_name": "Wright", "company": "Wright & Co",
                    "email": "j.wright@wright.example", "phone": "+44 20 7946 0000",
                    "address1": "1 Fleet Street", "city": "London", "country": "GB",
                    "default_currency": "GBP"}),
    ("Trial", {"first_name": "Sofia", "last_name": "Rossi", "email": "sofia@rossi.example",
               "country": "IT"}),
    ("Trial", {"first_name": "Kenji", "last_name": "Tanaka", "email": "kenji@tanaka.example",
               "country": "JP"}),
]  # fmt: skip


def _northwind() -> list[Client]:
    company = create_company(
        {"name": "Northwind Hosting", "timezone": "Europe/Berlin", "default_currency": "EUR",
         "notify_email": "billing@northwind.example"},
        actor=ACTOR,
    )  # fmt: skip
    set_company_settings(
        company, {"invoice_days_before_renewal": 7, "delivery_methods": ["email", "paper"]},
        actor=ACTOR,
    )  # fmt: skip
    groups = {}
    for name, color, description, overrides in _NORTHWIND_GROUPS:
        group = create_group(
            company, {"name": name, "color": color, "description": description}, actor=ACTOR
        )
        set_group_settings(group, overrides, actor=ACTOR)
        groups[name] = group
    clients = []
    for group_name, data in _NORTHWIND_CLIENTS:
        group = groups.get(group_name)
        if group is not None:
            data = {**data, "group_id": group.pk}
        clients.append(create_client(company, data, actor=ACTOR))
    _northwind_ledger(company, clients)
    add_contact(
        clients[1],
        {"role": "billing", "first_name": "Accounts", "last_name": "Payable",
         "email": "ap@becker.example"},
        actor=ACTOR,
    )  # fmt: skip
    set_client_settings(clients[2], {"autodebit_enabled": False}, actor=ACTOR)
    return clients


def _monthly(price: int, setup: int = 0, unit: str = "month") -> dict:
    return {"unit": unit, "count": 1, "currency": "EUR", "price": price, "setup_fee": setup}


def _northwind_ledger(company, clients) -> None:
    """A catalogue, German VAT and a few services in different states, dated around the
    company's today so the book looks alive whenever it is loaded."""
    TaxRule.objects.create(company=company, level=1, name="USt", country="DE", rate=19)
    hosting = create_package(
        company, {"name": "Shared Hosting", "description": "10 GB web space, 5 sites",
                  "prices": [_monthly(990), _monthly(9900, unit="year")]}, actor=ACTOR,
    )  # fmt: skip
    vps = create_package(
        company, {"name": "VPS", "module": "none", "prices": [_monthly(2900, 1500)]}, actor=ACTOR
    )
    add_option(
        vps, {"name": "Extra RAM", "kind": "quantity", "values": [
            {"name": "2 GB", "prices": [_monthly(500)]}]}, actor=ACTOR,
    )  # fmt: skip
    backup = create_package(
        company, {"name": "Daily Backup", "addon_of": [hosting.pk, vps.pk],
                  "prices": [_monthly(300)]}, actor=ACTOR,
    )  # fmt: skip
    today = company_today(company)
    month_ago = today - timedelta(days=20)
    monthly_hosting = hosting.prices.get(unit="month")
    # Maria: hosting, paid by card, active, with a synchronised backup addon.
    site = add_service(clients[0], pricing=monthly_hosting, start_on=month_ago, actor=ACTOR)
    card = add_payment_account(clients[0], {"kind": "card", "gateway": "test",
                                            "reference": "tok_demo_4242", "last4": "4242",
                                            "is_autodebit": True}, actor=ACTOR)  # fmt: skip
    pay_with_account(site.first_invoice, card, actor=ACTOR, principal=ACTOR, key="demo:maria:1")
    provision(site, actor=ACTOR)
    addon = add_service(clients[0], pricing=backup.prices.get(), parent=site,
                        start_on=today - timedelta(days=5), actor=ACTOR)  # fmt: skip
    pay_invoice(addon.first_invoice, amount=addon.first_invoice.total, actor=ACTOR)
    provision(addon, actor=ACTOR)
    # Tom (reseller): hosting paid by card and active, so the portal offers to change its
    # term or package or cancel it; a VPS with 2 x 2 GB RAM, invoice still open (the portal
    # pays it with the saved card).
    tom_site = add_service(
        clients[1], pricing=monthly_hosting, start_on=today - timedelta(days=12), actor=ACTOR
    )
    tom_card = add_payment_account(
        clients[1],
        {"kind": "card", "gateway": "test", "reference": "tok_demo_4444", "last4": "4444"},
        actor=ACTOR,
    )
    pay_with_account(
        tom_site.first_invoice, tom_card, actor=ACTOR, principal=ACTOR, key="demo:tom:1"
    )
    provision(tom_site, actor=ACTOR)
    ram = vps.options.get()
    add_service(clients[1], pricing=vps.prices.get(), start_on=today - timedelta(days=2),
                options={ram.pk: (ram.values.get().pk, 2)}, actor=ACTOR)  # fmt: skip
    # Lena: yearly hosting paid partly from credit.
    add_credit(clients[2], amount=5000, currency="EUR", actor=ACTOR, note="Migration discount")
    add_service(clients[2], pricing=hosting.prices.get(unit="year"), start_on=today,
                actor=ACTOR)  # fmt: skip
    apply_credit(clients[2], "EUR", actor=ACTOR)


def _contoso() -> list[Client]:
    company = create_company(
        {"name": "Contoso Cloud", "timezone": "America/New_York", "default_currency": "USD",
         "notify_email": "ops@contoso.example", "rounding_mode": "half_even"},
        actor=ACTOR,
    )  # fmt: skip
    startups = create_group(
        company, {"name": "Startups", "color": "#8E24AA", "description": "Seed-stage teams."},
        actor=ACTOR,
    )  # fmt: skip
    set_group_settings(startups, {"autodebit_days_before_due": 0}, actor=ACTOR)
    clients = []
    for data in (
        {"first_name": "Ava", "last_name": "Johnson", "email": "ava@johnson.example",
         "country": "US", "state": "NY"},
        {"first_name": "Noah", "last_name": "Miller", "email": "noah@miller.example",
         "country": "US", "state": "CA", "group_id": startups.pk},
    ):  # fmt: skip
        clients.append(create_client(company, data, actor=ACTOR))
    return clients


def ensure_staff_user() -> bool:
    """Create the demo staff user if missing. True when it exists with the demo password."""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_USERNAME).first()
    created = user is None
    if created:
        user = User.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
    # The demo staff user is an owner of every company (staff roles: companies.roles).
    StaffMembership.objects.bulk_create(
        [
            StaffMembership(user=user, company_id=pk, role=Role.OWNER)
            for pk in Company.objects.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    return created or user.check_password(DEMO_PASSWORD)


def demo_login_works() -> bool:
    """Does the demo staff user still exist with the demo password (worth printing)?"""
    user = get_user_model().objects.filter(username=DEMO_USERNAME).first()
    return user is not None and user.check_password(DEMO_PASSWORD)


def _portal_logins(clients: list[Client]) -> None:
    """Each client's primary contact signs in to the portal with the demo password."""
    for client in clients:
        contact = client.contacts.get(role="primary")
        account = accounts.grant_access(contact, actor=ACTOR)
        accounts.set_password(account, DEMO_PASSWORD, actor=ACTOR)


def demo_client_login_works() -> bool:
    """Does the demo client still sign in to the portal with the demo password?"""
    account = PortalAccount.objects.filter(login=DEMO_CLIENT_LOGIN, is_active=True).first()
    return account is not None and check_password(DEMO_PASSWORD, account.password)


def load_demo() -> None:
    # All or nothing, so a failed load can be run again. Its charges go to the sandbox
    # and its services to in-process modules: no effect leaves the process, so making
    # them inside the transaction holds nothing outside it.
    with external.simulated(), transaction.atomic():
        _portal_logins(_northwind() + _contoso())


def is_empty() -> bool:
    return not Company.objects.exists()
