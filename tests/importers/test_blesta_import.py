"""The Blesta import of the fixture book (tests.importers.blesta_book) end to end: what a
dry run reports, what a real run writes (settings per group as Blesta applies them,
balances per client and currency, services and invoices per status), that a second run
changes nothing, and that a broken row stops the company's import naming table, id and
field."""

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from groupbill.audit.models import AuditEntry
from groupbill.billing.invoices import NewLine, create_invoice, issue_invoice
from groupbill.billing.models import Application, Invoice, InvoiceLine, Transaction
from groupbill.billing.payments import balances
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.models import Client, ClientGroup, Contact
from groupbill.companies.models import Company
from groupbill.importers.blesta.importer import import_blesta
from groupbill.importers.models import ExternalId
from groupbill.services.models import Service, ServiceEvent
from groupbill.settings_catalog import blesta
from groupbill.settings_catalog.catalog import BY_LEGACY_KEY
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import resolve_client, resolve_group, values
from tests.importers.conftest import query

pytestmark = pytest.mark.django_db


def run(dsn: str, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import", "blesta", "--dsn", dsn, *args, stdout=out, stderr=out)
    return out.getvalue()


def imported(table: str, source_id) -> int:
    return ExternalId.objects.get(system="blesta", table=table, source_id=str(source_id)).object_id


def cents(value) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def test_a_dry_run_reports_counts_and_keys_and_writes_nothing(blesta_db):
    dsn, _ = blesta_db
    output = run(dsn)
    assert 'Blesta company 1 "Acme Hosting"' in output
    assert "(dry run)" in output
    for line in (
        "companies      1 created",
        "client_groups  3 created",
        "clients        6 created",
        "contacts       8 created",
        "packages       2 created",
        "services       7 created",
        "invoices       7 created",
        "transactions   7 created",
        "applications   3 created",
        "balances       9.00 EUR due, 11.00 EUR credit; 117.00 USD due, 11.50 USD credit",
    ):
        assert line in output
    assert "notice1" in output.split("settings keys imported:")[1].splitlines()[0]
    assert "smtp_password: encrypted: needs Blesta's install key, skipped" in output
    assert "late_fees: not a setting Groupbill knows: ignored" in output
    assert "interfax: not offered by Groupbill, dropped" in output
    assert "Dry run: nothing was written." in output
    assert "service_options" not in output  # Blesta's table is absent: nothing to say
    assert not Company.objects.exists()
    assert not ExternalId.objects.exists()
    assert not AuditEntry.objects.exists()


def blesta_effective(connection, group_id: int) -> dict[str, str]:
    """What Blesta applies to a group's clients: group → company → system, first hit."""
    system = {
        r["key"]: r["value"]
        for r in query(
            connection, "SELECT `key`, value FROM settings WHERE inherit = 1 AND encrypted = 0"
        )
    }
    company = {
        r["key"]: r["value"]
        for r in query(
            connection,
            "SELECT `key`, value FROM company_settings WHERE company_id = 1 AND encrypted = 0",
        )
    }
    group = {
        r["key"]: r["value"]
        for r in query(
            connection,
            f"SELECT `key`, value FROM client_group_settings WHERE client_group_id = {group_id}",
        )
    }
    return system | company | group


def test_every_group_applies_what_blesta_applies_with_overrides_only_where_they_differ(
    blesta_db,
):
    dsn, connection = blesta_db
    run(dsn, "--commit")
    for source_id in (1, 2, 3):
        group = ClientGroup.objects.get(pk=imported("client_groups", source_id))
        effective = values(resolve_group(group.pk))
        expected = blesta_effective(connection, source_id)
        compared = 0
        for key, raw in expected.items():
            if key in BY_LEGACY_KEY:
                setting = BY_LEGACY_KEY[key]
                assert effective[setting.key] == blesta.parse(setting, raw)[0], (group, key)
                compared += 1
        assert compared >= 10
    standard, resellers, vip = (
        ClientGroup.objects.get(pk=imported("client_groups", i)) for i in (1, 2, 3)
    )
    # The default group is the lowest id in both systems; names and colours came along.
    assert (standard.name, resellers.name, vip.name) == ("Standard", "Resellers", "VIP")
    assert resellers.color == "#1E88E5"
    assert ClientGroup.objects.filter(company=standard.company).order_by("pk").first() == standard
    # Resellers' snapshot repeats most of the company's values: only its own are written.
    overrides = dict(SettingValue.objects.filter(group=resellers).values_list("key", "value"))
    assert overrides == {
        "invoice_days_before_renewal": 14,
        "autodebit_enabled": False,
        "client_can_cancel_services": True,
    }
    assert dict(SettingValue.objects.filter(group=vip).values_list("key", "value")) == {
        "suspend_services_days_after_due": "never",
        "notice_first_days": -7,
    }
    assert not SettingValue.objects.filter(group=standard).exists()
    company = values(resolve_group(standard.pk))
    assert company["invoice_days_before_renewal"] == 10
    assert company["delivery_methods"] == ["email", "paper"]
    assert company["notice_third_days"] is None
    assert company["notice_autodebit_pending_days"] == 2  # from Blesta's system settings
    # Client settings and attributes.
    cleo = Client.objects.get(pk=imported("clients", 3))
    eva = Client.objects.get(pk=imported("clients", 5))
    finn = Client.objects.get(pk=imported("clients", 6))
    assert values(resolve_client(cleo.pk))["autodebit_enabled"] is False
    assert values(resolve_client(eva.pk))["invoice_method"] == "paper"
    assert (finn.tax_exempt, finn.status, eva.default_currency, eva.language) == (
        True,
        "fraud",
        "EUR",
        "en_us",
    )


def test_every_clients_balance_per_currency_equals_blestas_to_the_cent(blesta_db):
    dsn, connection = blesta_db
    run(dsn, "--commit")
    expected: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for r in query(
        connection,
        "SELECT client_id, currency, SUM(total - paid) AS due"
        " FROM invoices WHERE status IN ('active', 'proforma')"
        " AND date_closed IS NULL GROUP BY client_id, currency",
    ):
        expected[r["client_id"]][r["currency"]] = [cents(r["due"]), 0]
    for r in query(
        connection,
        "SELECT t.client_id, t.currency, SUM(t.amount - COALESCE("
        "(SELECT SUM(a.amount) FROM transaction_applied a"
        " WHERE a.transaction_id = t.id), 0)) AS credit FROM transactions t"
        " WHERE t.status = 'approved' GROUP BY t.client_id, t.currency",
    ):
        expected[r["client_id"]].setdefault(r["currency"], [0, 0])[1] = cents(r["credit"])
    by_source = {imported("clients", i): i for i in range(1, 7)}
    got = {
        by_source[pk]: {b.currency: [b.due, b.credit] for b in rows if b.due or b.credit}
        for pk, rows in balances(list(by_source)).items()
    }
    want = {i: {c: v for c, v in expected.get(i, {}).items() if any(v)} for i in range(1, 7)}
    assert got == want
    # As a person would read them.
    assert got[1] == {"USD": [700, 750]}  # 12.00 open, 5.00 paid by check; 7.50 cash unapplied
    assert got[2] == {"EUR": [900, 0]}  # the refunded 3.00 is no credit
    assert got[3] == {"USD": [11000, 0]}  # the declined 50.00 paid nothing
    assert got[5] == {"EUR": [0, 1100]}  # 20.00 paid 9.00
    assert got[6] == {"USD": [0, 400]}  # in-house credit


def test_services_and_invoices_per_status_and_numbering_continues(blesta_db):
    dsn, _ = blesta_db
    run(dsn, "--commit")
    company = Company.objects.get()
    assert company.name == "Acme Hosting" and company.timezone == "America/New_York"
    services = Service.objects.filter(client__company=company)
    assert Counter(services.values_list("status", flat=True)) == {
        "active": 4,
        "suspended": 1,
        "canceled": 1,
        "pending": 1,
    }
    hosting = services.get(pk=imported("services", 1))
    addon = services.get(pk=imported("services", 2))
    assert addon.parent == hosting and addon.package.name == "Backup Add-on"
    # 05:00 UTC is midnight in New York: the renewal day is the company's day.
    assert (hosting.renew_date, hosting.anchor_date) == (date(2027, 1, 1), date(2027, 1, 1))
    assert hosting.pricing.price == 1000 and hosting.pricing.currency == "USD"
    suspended = services.get(pk=imported("services", 4))
    assert suspended.status == "suspended" and suspended.suspended_at is not None
    canceled = services.get(pk=imported("services", 5))
    assert canceled.canceled_at is not None and canceled.renew_date is None
    scheduled = services.get(pk=imported("services", 6))
    assert (scheduled.status, scheduled.cancel_at) == ("active", date(2027, 1, 15))
    assert ServiceEvent.objects.filter(event="import").count() == 7
    yearly = PackagePrice.objects.get(package__name="Shared Hosting", unit="year")
    assert (yearly.price, yearly.setup_fee) == (10000, 500)

    invoices = Invoice.objects.filter(company=company)
    shown = sorted(
        (i.status, i.number, i.currency, i.subtotal, i.tax_total, i.total, i.amount_paid)
        for i in invoices.exclude(status="draft")
    )
    assert shown == [
        ("open", 1002, "USD", 1200, 0, 1200, 500),
        ("open", 1003, "EUR", 900, 0, 900, 0),
        ("open", 1006, "USD", 10000, 1000, 11000, 0),
        ("paid", 1001, "USD", 1200, 0, 1200, 1200),
        ("paid", 1005, "EUR", 900, 0, 900, 900),
        ("void", 1004, "USD", 10500, 0, 10500, 0),
    ]
    draft = invoices.get(status="draft")
    assert (draft.number, draft.total, draft.currency) == (None, 900, "EUR")
    first = invoices.get(number=1001)
    assert (first.issued_on, first.due_on) == (date(2026, 10, 25), date(2026, 11, 1))
    assert [(x.description, x.service_id) for x in first.lines.all()] == [
        ("Shared Hosting (11/01/2026 - 11/30/2026)", hosting.pk),
        ("Backup Add-on (11/01/2026 - 11/30/2026)", addon.pk),
    ]
    consulting = invoices.get(number=1006).lines.get()
    assert (consulting.quantity, consulting.unit_amount, consulting.total) == (4, 2500, 11000)
    # The next invoice Groupbill issues continues after the highest imported number.
    ada = Client.objects.get(pk=imported("clients", 1))
    new = create_invoice(ada, [NewLine("Extra", 100)], actor="test")
    assert issue_invoice(new, issued_on=date(2026, 11, 28), actor="test").number == 1007


def snapshot() -> dict:
    """Everything an import writes, as rows."""
    models = (
        Company,
        ClientGroup,
        Client,
        Contact,
        SettingValue,
        Package,
        PackagePrice,
        Service,
        ServiceEvent,
        Invoice,
        InvoiceLine,
        Transaction,
        Application,
        ExternalId,
        AuditEntry,
    )
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def test_a_second_import_changes_nothing(blesta_db):
    dsn, connection = blesta_db
    run(dsn, "--commit")
    before = snapshot()
    output = run(dsn, "--commit")
    assert snapshot() == before
    assert " created" not in output and " updated" not in output and " set," not in output
    assert "clients        6 unchanged" in output
    assert "invoices       7 unchanged" in output
    # A change in Blesta is an update, not a duplicate.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contacts SET last_name = 'Byron' WHERE id = 1")
        cursor.execute("UPDATE contacts SET country = 'de' WHERE id = 2")  # the same: DE
        cursor.execute("INSERT INTO client_settings VALUES ('autodebit', 6, 'false', 0)")
        cursor.execute(
            "UPDATE client_group_settings SET value = '21'"
            " WHERE client_group_id = 2 AND `key` = 'inv_days_before_renewal'"
        )
    connection.commit()
    output = run(dsn, "--commit")
    assert "clients        2 updated, 4 unchanged" in output, output
    assert "settings       1 set, " in output
    assert Client.objects.count() == 6 and Contact.objects.count() == 8
    ada = Client.objects.get(pk=imported("clients", 1))
    assert ada.contacts.get(role="primary").last_name == "Byron"
    resellers = imported("client_groups", 2)
    assert values(resolve_group(resellers))["invoice_days_before_renewal"] == 21
    assert values(resolve_client(imported("clients", 6)))["autodebit_enabled"] is False

    # Paid in Blesta since: the invoice is paid here too, the payment applied; the service
    # Blesta unsuspended is active. Nothing else moves.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO transactions (id, client_id, amount, currency, type, transaction_id,"
            " status, date_added) VALUES (8, 1, 7, 'USD', 'cc', 'ch_009', 'approved',"
            " '2026-11-27 18:00:00')"
        )
        cursor.execute("INSERT INTO transaction_applied VALUES (8, 2, 7, '2026-11-27 18:00:00')")
        cursor.execute(
            "UPDATE invoices SET paid = 12, date_closed = '2026-11-27 18:00:00' WHERE id = 2"
        )
        cursor.execute("UPDATE services SET status = 'active', date_suspended = NULL WHERE id = 4")
    connection.commit()
    output = run(dsn, "--commit")
    assert "transactions   1 created, 7 unchanged" in output, output
    assert "applications   1 created, 3 unchanged" in output
    assert "invoices       1 updated, 6 unchanged" in output
    assert "services       1 updated, 6 unchanged" in output
    invoice = Invoice.objects.get(pk=imported("invoices", 2))
    assert (invoice.status, invoice.amount_paid, invoice.balance_due) == ("paid", 1200, 0)
    service = Service.objects.get(pk=imported("services", 4))
    assert (service.status, service.suspended_at) == ("active", None)
    assert balances([ada.pk])[ada.pk][0].due == 0


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "UPDATE invoices SET subtotal = 8 WHERE id = 3",
            "invoices id 3, field subtotal: is 8.00 EUR but its lines add up to 9.00 EUR",
        ),
        (
            "UPDATE invoices SET id_value = 1001 WHERE id = 2",
            "invoices id 2, field id_value: 1001 is already the number of invoice #",
        ),
        (
            "UPDATE contacts SET email = 'not-an-address' WHERE id = 4",
            "contacts id 4, field email: must be a valid email address",
        ),
        (
            "UPDATE client_group_settings SET value = 'sometimes'"
            " WHERE client_group_id = 2 AND `key` = 'autodebit'",
            'client_group_settings id 2, field autodebit: must be "true" or "false"',
        ),
        (
            "INSERT INTO client_settings (`key`, client_id, value)"
            " VALUES ('autosuspend_date', 1, 'someday')",
            "client_settings id 1, field autosuspend_date: must be a date as YYYY-MM-DD, or empty",
        ),
        (
            "SET SESSION sql_mode = '';"
            "UPDATE services SET date_suspended = '0000-00-00 00:00:00' WHERE id = 4",
            "services id 4, field date_suspended: 0000-00-00 00:00:00 is not a date and time",
        ),
        (
            "UPDATE transaction_applied SET amount = 4 WHERE transaction_id = 2",
            "invoices id 2, field paid: says 5.0000 but its transactions applied 4.00",
        ),
    ],
)
def test_a_broken_row_stops_the_companys_import_naming_table_id_and_field(blesta_db, sql, message):
    dsn, connection = blesta_db
    with connection.cursor() as cursor:
        for statement in sql.split(";"):
            cursor.execute(statement)
    connection.commit()
    with pytest.raises(CommandError) as caught:
        run(dsn, "--commit")
    assert caught.value.returncode == 1
    assert "1 of 1 companies refused; nothing of them was written" in str(caught.value)
    report = import_blesta(dsn, commit=True)
    assert report.companies[0].refused.startswith(message)
    assert not Company.objects.exists() and not Client.objects.exists()
    assert not ExternalId.objects.exists() and not Invoice.objects.exists()


def test_a_source_that_cannot_be_read_is_named(blesta_db):
    dsn, connection = blesta_db
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE transaction_applied")
    with pytest.raises(CommandError) as caught:
        run(dsn)
    assert caught.value.returncode == 2
    assert "table transaction_applied is missing from" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        run("postgres://somewhere/db")
    assert "the DSN must start with mysql://" in str(caught.value)


def test_each_company_is_imported_whole_or_not_at_all(blesta_db):
    dsn, connection = blesta_db
    with connection.cursor() as cursor:
        for sql in (
            "INSERT INTO companies (id, name) VALUES (2, 'Beta Cloud')",
            "INSERT INTO company_settings (`key`, company_id, value) VALUES"
            " ('timezone', 2, 'Europe/Berlin'), ('default_currency', 2, 'EUR')",
            "INSERT INTO currencies (code, company_id, `precision`) VALUES ('EUR', 2, 2)",
            "INSERT INTO client_groups (id, company_id, name) VALUES (4, 2, 'Kunden')",
            "INSERT INTO clients VALUES (7, '{num}', 1507, 7, 4, 'active')",
            "INSERT INTO contacts (id, client_id, first_name, last_name, email, country)"
            " VALUES (9, 7, 'Gerd', 'Gast', 'gerd@example.de', 'DE')",
            "INSERT INTO client_settings (`key`, client_id, value) VALUES"
            " ('default_currency', 7, 'EUR'), ('language', 7, 'deutsch')",
        ):
            cursor.execute(sql)
    connection.commit()
    with pytest.raises(CommandError) as caught:
        run(dsn, "--commit")
    assert "1 of 2 companies refused" in str(caught.value)
    report = import_blesta(dsn, commit=True)
    acme, beta = report.companies
    assert acme.ok and beta.refused == (
        "client_settings id 7, field language: must be a language code such as en, de or pt_BR"
    )
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme Hosting"]
    assert Client.objects.count() == 6
    # Mended in Blesta, the second company comes over; the first stays as it was.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE client_settings SET value = 'de_de' WHERE `key` = 'language' AND client_id = 7"
        )
    connection.commit()
    before = Client.objects.order_by("pk").values_list("pk", flat=True)[:6]
    report = import_blesta(dsn, commit=True)
    assert report.ok
    beta = Company.objects.get(name="Beta Cloud")
    assert (beta.timezone, beta.default_currency) == ("Europe/Berlin", "EUR")
    gerd = Client.objects.get(company=beta)
    assert (gerd.group.name, gerd.language) == ("Kunden", "de_de")
    assert list(Client.objects.exclude(company=beta).values_list("pk", flat=True)) == list(before)


def test_what_is_not_imported_is_said_and_the_report_reads_as_json(blesta_db):
    import json

    dsn, connection = blesta_db
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE service_options (id INT PRIMARY KEY, service_id INT,"
            " option_pricing_id INT, qty INT, value VARCHAR(255))"
        )
        cursor.execute("INSERT INTO service_options VALUES (1, 1, 9, 1, 'x'), (2, 99, 9, 1, 'y')")
    connection.commit()
    document = json.loads(run(dsn, "--json").split("\nDry run")[0])
    assert document["dry_run"] is True and document["ok"] is True
    (company,) = document["companies"]
    assert company["counts"]["invoices"] == {"created": 7}
    assert company["totals"]["USD"] == {"due": 11700, "credit": 1150}
    assert company["unmapped_keys"]["late_fees"] == "not a setting Groupbill knows: ignored"
    assert (
        "service_options: 1 row, configurable options of services: not imported, the services"
        " renew without them" in company["notes"]
    )


def test_the_engine_takes_over_where_blesta_left_off(blesta_db):
    """Daily runs after the import invoice the first period Blesta did not (never one it
    did), numbered after Blesta's invoices, and fail nothing."""
    from datetime import timedelta

    from groupbill.automation.engine import AsOf, execute
    from groupbill.automation.tasks import TASKS

    dsn, _ = blesta_db
    run(dsn, "--commit")
    company = Company.objects.get()
    day = date(2026, 11, 28)
    while day <= date(2026, 12, 23):
        reports = execute(AsOf(day=day), companies=[company], tasks=TASKS)
        failed = [a for r in reports for a in r.actions if a["outcome"] == "failed"]
        assert not failed, (day, failed)
        day += timedelta(days=1)
    hosting, addon, scheduled = (Service.objects.get(pk=imported("services", i)) for i in (1, 2, 6))
    starts = sorted(
        (line.service_id, line.period_start)
        for line in InvoiceLine.objects.filter(
            service__in=[hosting, addon, scheduled], invoice__number__gt=1006
        )
    )
    assert starts == sorted([
        (hosting.pk, date(2027, 1, 1)),  # December was invoiced in Blesta (1002)
        (addon.pk, date(2027, 1, 1)),
        (scheduled.pk, date(2026, 12, 15)),  # ten days ahead, as the company's setting says
    ])  # fmt: skip
    numbers = sorted(
        Invoice.objects.filter(company=company, number__gt=1006).values_list("number", flat=True)
    )
    assert numbers[0] == 1007 and numbers == list(range(1007, 1007 + len(numbers)))
