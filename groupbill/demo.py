"""A demo book: two companies, groups with different colours and overrides, clients with
contacts. Built only through the actions, like any real data."""

from django.contrib.auth import get_user_model
from django.db import transaction

from groupbill.clients.actions import add_contact, create_client, create_group
from groupbill.companies.actions import create_company
from groupbill.companies.models import Company
from groupbill.settings_catalog.actions import (
    set_client_settings,
    set_company_settings,
    set_group_settings,
)

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "groupbill-demo"
ACTOR = "system:demo"

_NORTHWIND_GROUPS = [
    ("Resellers", "#1E88E5", "Partners reselling our hosting; billed monthly, never suspended.",
     {"suspend_services_days_after_due": "never", "autodebit_days_before_due": 3,
      "invoice_services_together": True, "client_can_change_package": True}),
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


def _northwind() -> None:
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
    add_contact(
        clients[1],
        {"role": "billing", "first_name": "Accounts", "last_name": "Payable",
         "email": "ap@becker.example"},
        actor=ACTOR,
    )  # fmt: skip
    set_client_settings(clients[2], {"autodebit_enabled": False}, actor=ACTOR)


def _contoso() -> None:
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
    for data in (
        {"first_name": "Ava", "last_name": "Johnson", "email": "ava@johnson.example",
         "country": "US", "state": "NY"},
        {"first_name": "Noah", "last_name": "Miller", "email": "noah@miller.example",
         "country": "US", "state": "CA", "group_id": startups.pk},
    ):  # fmt: skip
        create_client(company, data, actor=ACTOR)


def ensure_staff_user() -> bool:
    """Create the demo staff user if missing. True when it exists with the demo password."""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        User.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
        return True
    return user.check_password(DEMO_PASSWORD)


def demo_login_works() -> bool:
    """Does the demo staff user still exist with the demo password (worth printing)?"""
    user = get_user_model().objects.filter(username=DEMO_USERNAME).first()
    return user is not None and user.check_password(DEMO_PASSWORD)


@transaction.atomic
def load_demo() -> None:
    _northwind()
    _contoso()


def is_empty() -> bool:
    return not Company.objects.exists()
