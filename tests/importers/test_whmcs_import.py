"""The WHMCS import of the fixture book (tests.importers.whmcs_book) end to end: what a
dry run reports, what a real run writes (every group's settings as WHMCS applies them,
balances per client and currency, services and invoices per status), that a second run
changes nothing, and that a broken row stops the import naming table, id and field."""

import json
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from groupbill.audit.models import AuditEntry
from groupbill.billing.models import Application, Invoice, InvoiceLine, Transaction
from groupbill.billing.payments import balances
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.models import Client, ClientGroup, Contact
from groupbill.companies.models import Company
from groupbill.importers.models import ExternalId
from groupbill.importers.whmcs.importer import import_whmcs
from groupbill.services.models import Service, ServiceEvent
from groupbill.settings_catalog.catalog import DEFAULTS
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import resolve_client, resolve_group, values
from tests.importers.conftest import query

pytestmark = pytest.mark.django_db


def run(dsn: str, *args: str) -> str:
    out = StringIO()
    call_command("import", "whmcs", "--dsn", dsn, *args, stdout=out, stderr=out)
    return out.getvalue()


def imported(table: str, source_id) -> int:
    return ExternalId.objects.get(system="whmcs", table=table, source_id=str(source_id)).object_id


def execute(connection, *statements: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        for statement in statements:
            cursor.execute(statement)
    connection.commit()


def cents(value) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def snapshot() -> dict:
    """Everything an import writes, as rows."""
    models = (Company, ClientGroup, Client, Contact, SettingValue, Package, PackagePrice,
              Service, ServiceEvent, Invoice, InvoiceLine, Transaction, Application,
              ExternalId, AuditEntry)  # fmt: skip
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def test_a_dry_run_reports_counts_and_keys_and_writes_nothing(whmcs_db):
    dsn, _ = whmcs_db
    output = run(dsn)
    assert 'WHMCS company 1 "Northwind Hosting"' in output
    assert "(dry run)" in output
    assert "clients        4 created" in output
    assert "services       5 created" in output
    assert "invoices       7 created" in output
    # 62.00 USD open (12.00 of Ada's, 50.00 of Grace's 80.00 after 30.00 paid); Grace's
    # 15.50 USD credit balance; Linus's 9.00 EUR.
    assert "balances       9.00 EUR due, 0.00 EUR credit; 62.00 USD due, 15.50 USD credit" in (
        output
    )
    assert "SendThirdOverdueInvoiceReminder: Groupbill has three notices" in output
    assert "Email" not in output  # not a billing setting: not read, not reported
    assert "CreateInvoiceDaysBeforeMonthly" not in output  # '': not in use, nothing lost
    assert "Dry run: nothing was written" in output
    assert not Company.objects.exists() and not ExternalId.objects.exists()


# What WHMCS applies, as its settings pages describe the book's values (IMPORT.md).
COMPANY = {
    "invoice_days_before_renewal": 10,  # CreateInvoiceDaysBefore
    "autodebit_days_before_due": 2,  # CCProcessDaysBefore
    "autodebit_attempts": DEFAULTS["autodebit_attempts"],  # CCAttemptOnlyOnce off
    "suspend_services_days_after_due": 5,  # AutoSuspension on, AutoSuspensionDays 5
    "send_payment_notices": True,  # SendReminder
    "notice_first_days": -3,  # SendInvoiceReminderDays 3: three days before
    "notice_second_days": 2,  # SendFirstOverdueInvoiceReminder
    "notice_third_days": 6,  # SendSecondOverdueInvoiceReminder
    "auto_apply_credits": False,  # NoAutoApplyCredit on
    "void_invoices_on_cancel": True,  # CancelInvoiceOnCancellation
    "prorate_downgrade_credits": False,  # CreditOnDowngrade off
    "client_can_cancel_services": True,  # ShowCancellationButton
    "invoice_services_together": True,  # no global switch in WHMCS
}


def test_every_group_applies_what_whmcs_applies_with_overrides_only_where_they_differ(
    whmcs_db,
):
    dsn, _ = whmcs_db
    run(dsn, "--commit")
    company = Company.objects.get(pk=imported("companies", 1))
    assert (company.name, company.default_currency) == ("Northwind Hosting", "USD")
    default = ClientGroup.objects.filter(company=company).order_by("pk").first()
    resellers, no_suspend, plain = (
        ClientGroup.objects.get(pk=imported("tblclientgroups", i)) for i in (1, 2, 3)
    )
    assert (resellers.name, resellers.color) == ("Resellers", "#1E88E5")
    assert imported("tblclientgroups", 0) == default.pk  # WHMCS's "no group"
    expected = {
        default: COMPANY,
        resellers: {**COMPANY, "invoice_services_together": False},  # separateinvoices
        no_suspend: {**COMPANY, "suspend_services_days_after_due": "never"},  # susptermexempt
        plain: COMPANY,
    }
    for group, want in expected.items():
        effective = values(resolve_group(group.pk))
        assert {k: effective[k] for k in want} == want, group.name
        untouched = set(DEFAULTS) - set(want)  # what WHMCS has no setting for
        assert {k: effective[k] for k in untouched} == {k: DEFAULTS[k] for k in untouched}
    # Overrides only where a group differs from the company.
    overrides = defaultdict(dict)
    for group_id, key, value in SettingValue.objects.filter(
        company=company, group__isnull=False
    ).values_list("group_id", "key", "value"):
        overrides[group_id][key] = value
    assert dict(overrides) == {
        resellers.pk: {"invoice_services_together": False},
        no_suspend.pk: {"suspend_services_days_after_due": "never"},
    }
    # Client flags: Grace's due notices and auto CC are off; Linus is tax exempt, in EUR.
    grace = Client.objects.get(pk=imported("tblclients", 2))
    linus = Client.objects.get(pk=imported("tblclients", 3))
    barbara = Client.objects.get(pk=imported("tblclients", 4))
    grace_settings = values(resolve_client(grace.pk))
    assert (grace_settings["send_payment_notices"], grace_settings["autodebit_enabled"]) == (
        False,
        False,
    )
    assert (linus.tax_exempt, linus.default_currency, linus.group_id) == (True, "EUR", default.pk)
    assert barbara.status == "inactive"
    ada = Client.objects.get(pk=imported("tblclients", 1))
    roles = sorted(ada.contacts.values_list("role", "email"))
    assert roles == [
        ("billing", "billing@analytical.example"),
        ("other", "mary@analytical.example"),
        ("primary", "ada@example.com"),
    ]


def test_a_group_flag_that_repeats_the_company_writes_no_override(whmcs_db):
    dsn, connection = whmcs_db
    execute(connection, "UPDATE tblconfiguration SET value = '' WHERE setting = 'AutoSuspension'")
    run(dsn, "--commit")
    no_suspend = imported("tblclientgroups", 2)
    assert values(resolve_group(no_suspend))["suspend_services_days_after_due"] == "never"
    assert not SettingValue.objects.filter(group_id=no_suspend).exists()


def test_every_clients_balance_per_currency_equals_whmcs_to_the_cent(whmcs_db):
    dsn, connection = whmcs_db
    run(dsn, "--commit")
    currency = {r["id"]: r["code"] for r in query(connection, "SELECT id, code FROM tblcurrencies")}
    expected: dict[int, dict[str, list[int]]] = defaultdict(dict)
    # WHMCS: balance = total - Σ(amountin - amountout) over open invoices; credit: tblclients.
    for r in query(
        connection,
        "SELECT c.id, c.currency, SUM(i.total - COALESCE((SELECT SUM(a.amountin - a.amountout)"
        " FROM tblaccounts a WHERE a.invoiceid = i.id), 0)) AS due FROM tblinvoices i"
        " JOIN tblclients c ON c.id = i.userid"
        " WHERE i.status IN ('Unpaid', 'Payment Pending', 'Collections') GROUP BY c.id",
    ):
        expected[r["id"]][currency[r["currency"]]] = [cents(r["due"]), 0]
    for r in query(connection, "SELECT id, currency, credit FROM tblclients WHERE credit > 0"):
        expected[r["id"]].setdefault(currency[r["currency"]], [0, 0])[1] = cents(r["credit"])
    by_source = {imported("tblclients", i): i for i in range(1, 5)}
    got = {
        by_source[pk]: {b.currency: [b.due, b.credit] for b in rows if b.due or b.credit}
        for pk, rows in balances(list(by_source)).items()
    }
    want = {i: {c: v for c, v in expected.get(i, {}).items() if any(v)} for i in range(1, 5)}
    assert got == want
    assert got[1] == {"USD": [1200, 0]}  # 12.00 open; the draft owes nothing
    assert got[2] == {"USD": [5000, 1550]}  # 100.00 - 20.00 credit - 30.00 paid; 15.50 left
    assert got[3] == {"EUR": [900, 0]}
    assert got[4] == {}  # the cancelled invoice owes nothing


def test_services_and_invoices_per_status_with_totals(whmcs_db):
    dsn, connection = whmcs_db
    run(dsn, "--commit")
    services = {
        r["id"]: Service.objects.get(pk=imported("tblhosting", r["id"]))
        for r in query(connection, "SELECT id FROM tblhosting")
    }
    assert Counter(s.status for s in services.values()) == {
        "active": 2,
        "suspended": 1,
        "canceled": 1,
        "pending": 1,
    }
    web = services[1]
    assert (web.pricing.unit, web.pricing.count, web.pricing.price, web.pricing.currency) == (
        "month",
        1,
        1000,
        "USD",
    )
    assert web.renew_date.isoformat() == "2026-12-01"  # WHMCS's nextinvoicedate
    # Invoiced already up to 2027-10-15: the renewal is the next invoice date.
    assert services[2].renew_date.isoformat() == "2027-10-15"
    assert services[3].pricing.currency == "EUR"
    assert services[5].pricing.unit == "onetime" and services[5].renew_date is None
    assert services[4].renew_date is None
    product = Package.objects.get(pk=imported("tblproducts", 1))
    assert sorted(product.prices.values_list("unit", "count", "currency", "price")) == [
        ("month", 1, "EUR", 900),
        ("month", 1, "USD", 1000),
        ("year", 1, "EUR", 9000),
        ("year", 1, "USD", 10000),
    ]  # the cycles WHMCS has off (-1.00) are not prices
    setup = Package.objects.get(pk=imported("tblproducts", 2)).prices.get()
    assert (setup.unit, setup.price, setup.setup_fee) == ("onetime", 2500, 500)

    rows = {r["id"]: r for r in query(connection, "SELECT * FROM tblinvoices")}
    invoices = {i: Invoice.objects.get(pk=imported("tblinvoices", i)) for i in rows}
    by_status: dict[str, list] = defaultdict(list)
    for i, invoice in invoices.items():
        by_status[invoice.status].append(i)
        row = rows[i]
        # Groupbill's total is before WHMCS's applied credit, which paid part of it.
        assert invoice.total == cents(row["subtotal"] + row["tax"] + row["tax2"]), i
        assert invoice.total - cents(row["credit"]) == cents(row["total"]), i
        assert invoice.currency == ("EUR" if row["userid"] == 3 else "USD")
        if invoice.status != "draft":
            assert invoice.number == i  # invoicenum '': WHMCS shows the id
            assert invoice.issued_on == row["date"]
    assert {s: sorted(ids) for s, ids in by_status.items()} == {
        "paid": [1, 7],
        "open": [2, 3, 4],
        "void": [5],
        "draft": [6],
    }
    totals = {s: sum(invoices[i].total for i in ids) for s, ids in by_status.items()}
    assert totals == {"paid": 1200 + 900, "open": 1200 + 10000 + 900, "void": 1000, "draft": 2500}
    assert (invoices[1].tax_total, invoices[1].amount_paid) == (200, 1200)
    assert (invoices[3].amount_paid, invoices[3].balance_due) == (5000, 5000)
    assert (invoices[7].amount_paid, invoices[7].balance_due) == (900, 0)  # 4.00 credit, 5.00
    assert invoices[2].lines.get().service_id == services[1].pk


def test_refunds_net_the_payment_they_refund(whmcs_db):
    dsn, connection = whmcs_db
    execute(
        connection,
        # Ada's open 12.00 paid, then refunded in full: WHMCS marks the invoice Refunded.
        "INSERT INTO tblaccounts (id, userid, currency, gateway, date, description, amountin,"
        " transid, invoiceid) VALUES (4, 1, 0, 'stripe', '2026-11-22 10:00:00', '', 12.00,"
        " 'ch_1004', 2)",
        "INSERT INTO tblaccounts (id, userid, currency, gateway, date, description, amountout,"
        " transid, invoiceid, refundid) VALUES (5, 1, 0, 'stripe', '2026-11-23 10:00:00', '',"
        " 12.00, 're_1005', 2, 4)",
        "UPDATE tblinvoices SET status = 'Refunded' WHERE id = 2",
        # 10.00 of Grace's 30.00 refunded: her invoice owes 10.00 more.
        "INSERT INTO tblaccounts (id, userid, currency, gateway, date, description, amountout,"
        " transid, invoiceid, refundid) VALUES (6, 2, 0, 'stripe', '2026-10-21 10:00:00', '',"
        " 10.00, 're_1006', 3, 2)",
    )
    output = run(dsn, "--commit")
    assert "tblaccounts id 2: imported net of its refund (10.00 USD refunded in WHMCS)" in output
    assert "tblaccounts id 4: imported net of its refund (12.00 USD refunded in WHMCS), void" in (
        output
    )
    ada, grace = (Client.objects.get(pk=imported("tblclients", i)) for i in (1, 2))
    got = balances([ada.pk, grace.pk])
    assert [(b.currency, b.due, b.credit) for b in got[ada.pk] if b.due or b.credit] == []
    assert [(b.currency, b.due, b.credit) for b in got[grace.pk]] == [("USD", 6000, 1550)]
    refunded = Invoice.objects.get(pk=imported("tblinvoices", 2))
    assert (refunded.status, refunded.amount_paid) == ("void", 0)
    payment = Transaction.objects.get(pk=imported("tblaccounts", 4))
    assert payment.status == "void"
    assert not ExternalId.objects.filter(system="whmcs", table="tblaccounts", source_id="5")
    assert run(dsn, "--commit").count(" created") == 0  # and a rerun changes nothing


def test_a_second_import_changes_nothing(whmcs_db):
    dsn, connection = whmcs_db
    run(dsn, "--commit")
    before = snapshot()
    output = run(dsn, "--commit")
    assert snapshot() == before
    assert " created" not in output and " updated" not in output and " set," not in output
    assert "clients        4 unchanged" in output
    assert "invoices       7 unchanged" in output
    # A change in WHMCS is an update, not a duplicate.
    execute(
        connection,
        "UPDATE tblclients SET lastname = 'Byron' WHERE id = 1",
        "UPDATE tblclientgroups SET separateinvoices = '' WHERE id = 1",
        "INSERT INTO tblaccounts (id, userid, currency, gateway, date, description, amountin,"
        " transid, invoiceid) VALUES (4, 1, 0, 'stripe', '2026-11-27 18:00:00', '', 12.00,"
        " 'ch_1004', 2)",
        "UPDATE tblinvoices SET status = 'Paid', datepaid = '2026-11-27 18:00:00' WHERE id = 2",
    )
    output = run(dsn, "--commit")
    assert "clients        1 updated, 3 unchanged" in output, output
    assert "transactions   1 created, 6 unchanged" in output
    assert "invoices       1 updated, 6 unchanged" in output
    assert Client.objects.count() == 4 and Invoice.objects.count() == 7
    ada = Client.objects.get(pk=imported("tblclients", 1))
    assert ada.contacts.get(role="primary").last_name == "Byron"
    assert not SettingValue.objects.filter(group_id=imported("tblclientgroups", 1)).exists()
    invoice = Invoice.objects.get(pk=imported("tblinvoices", 2))
    assert (invoice.status, invoice.amount_paid, invoice.balance_due) == ("paid", 1200, 0)
    assert balances([ada.pk])[ada.pk] == [] or balances([ada.pk])[ada.pk][0].due == 0


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "UPDATE tblinvoices SET subtotal = 8 WHERE id = 4",
            "tblinvoices id 4, field subtotal: is 8.00 EUR but its items add up to 9.00 EUR",
        ),
        (
            "UPDATE tblclients SET email = 'not-an-address' WHERE id = 2",
            "tblclients id 2, field email: must be a valid email address",
        ),
        (
            "UPDATE tblconfiguration SET value = '99' WHERE setting = 'AutoSuspensionDays'",
            "tblconfiguration id AutoSuspensionDays, field value: must be a whole number from 1 "
            'to 60, or "never"',
        ),
        (
            "UPDATE tblclientgroups SET susptermexempt = 'yes please' WHERE id = 2",
            'tblclientgroups id 2, field susptermexempt: must be "on" or "" (off)',
        ),
        (
            "UPDATE tblhosting SET billingcycle = 'Quarterly' WHERE id = 1",
            "tblhosting id 1, field billingcycle: Quarterly in USD: product 1 has no such price",
        ),
        (
            "UPDATE tblinvoices SET date = '0000-00-00', status = 'Unpaid' WHERE id = 6",
            "tblinvoices id 6, field date: an issued invoice needs its date",
        ),
        (
            "INSERT INTO tblaccounts (id, userid, currency, gateway, description, amountout,"
            " transid, refundid) VALUES (9, 2, 0, 'stripe', '', 1.00, 're_9', 1)",
            "tblaccounts id 9, field refundid: names payment 1, not one of this client's",
        ),
        (
            "UPDATE tblaccounts SET amountin = 11 WHERE id = 1",
            "tblinvoices id 1, field status:",
        ),
    ],
)
def test_a_broken_row_stops_the_import_naming_table_id_and_field(whmcs_db, sql, message):
    dsn, connection = whmcs_db
    execute(connection, sql)
    with pytest.raises(CommandError) as caught:
        run(dsn, "--commit")
    assert caught.value.returncode == 1
    report = import_whmcs(dsn, commit=True)
    assert report.companies[0].refused.startswith(message), report.companies[0].refused
    assert not Company.objects.exists() and not Client.objects.exists()
    assert not ExternalId.objects.exists() and not Invoice.objects.exists()


def test_the_report_reads_as_json(whmcs_db):
    dsn, _ = whmcs_db
    out = StringIO()
    call_command("import", "whmcs", "--dsn", dsn, "--json", stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue())
    (company,) = report["companies"]
    assert report["dry_run"] is True and report["ok"] is True
    assert company["totals"] == {
        "EUR": {"due": 900, "credit": 0},
        "USD": {"due": 6200, "credit": 1550},
    }
    assert company["counts"]["transactions"] == {"created": 6}  # 3 payments, 3 credits
    assert "AutoSuspensionDays" in company["mapped_keys"]
