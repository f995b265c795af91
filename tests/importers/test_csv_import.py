"""CSV import (importers.csv_import): a preview says per row what an import would do and
writes nothing; an import is all or nothing; external ids make a rerun update."""

from datetime import UTC, date, datetime

import pytest

from groupbill import clock
from groupbill.audit.models import AuditEntry
from groupbill.catalog import actions as catalog
from groupbill.clients.contact_fields import CONTACT_FIELD_NAMES
from groupbill.clients.models import Client, Contact
from groupbill.importers import csv_import
from groupbill.importers.models import ExternalId
from groupbill.services.models import Service
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db

CLIENTS = """external_id,first_name,last_name,email,country,group,tax_exempt
C1,Grace,Hopper,grace@example.com,us,Resellers,no
C2,Alan,Turing,alan@example.com,GB,,yes
"""


def _counts(result):
    return {k: n for k, n in result.counts.items() if n}


def test_template_header_comes_from_the_declared_fields():
    header = csv_import.template("clients").strip().split(",")
    assert header[:3] == ["external_id", "client_id", "group"]
    assert header[-len(CONTACT_FIELD_NAMES) :] == list(CONTACT_FIELD_NAMES)
    assert csv_import.template("services").strip() == (
        "external_id,client_id,client_external_id,package,term,currency,quantity,"
        "start_date,renew_date,status"
    )


def test_a_valid_file_previews_then_imports(company, group):
    preview = csv_import.preview(company, "clients", CLIENTS.encode())
    assert preview.ok and not preview.written
    assert [(r.number, r.outcome, r.label) for r in preview.rows] == [
        (2, "create", "Grace Hopper"),
        (3, "create", "Alan Turing"),
    ]
    assert preview.summary() == "2 rows: 2 create"
    assert not Client.objects.filter(company=company).exists()
    assert not ExternalId.objects.exists()

    result = csv_import.apply(company, "clients", CLIENTS.encode(), actor="staff:ann")
    assert result.written and _counts(result) == {"create": 2}
    grace = Client.objects.get(company=company, contacts__email="grace@example.com")
    assert grace.group == group and grace.contacts.get().country == "US"
    alan = Client.objects.get(company=company, contacts__email="alan@example.com")
    assert alan.tax_exempt and alan.group.name == "General"
    # Through the domain actions: the client's history and the audit log say who.
    assert AuditEntry.objects.filter(actor="staff:ann", action="client.create").count() == 2


def test_a_bad_row_refuses_the_whole_file_naming_row_and_column(company, group):
    bad = CLIENTS + "C3,Edsger,Dijkstra,not-an-email,NLD,Nobody,maybe\n"
    preview = csv_import.preview(company, "clients", bad)
    assert not preview.ok
    assert [r.outcome for r in preview.rows] == ["create", "create", "refused"]
    assert preview.rows[2].messages == [
        'row 4, column group: no client group "Nobody" (groups: General, Resellers)',
        "row 4, column tax_exempt: must be true or false (or yes/no, 1/0)",
    ]

    result = csv_import.apply(company, "clients", bad.replace(",Nobody,maybe", ",,"), actor=ACTOR)
    assert not result.written
    assert result.rows[2].messages == [
        "row 4, column email: must be a valid email address",
        "row 4, column country: must be at most 2 characters",
    ]
    assert not Client.objects.filter(company=company).exists()
    assert not ExternalId.objects.exists()
    assert not AuditEntry.objects.filter(action="client.create").exists()


def test_the_file_itself_refused(company):
    assert csv_import.preview(company, "clients", "first_name,shoe_size\nA,9\n").errors == [
        "row 1: unknown column(s) 'shoe_size'; the columns of clients are "
        + ", ".join(csv_import.COLUMNS["clients"])
    ]
    assert csv_import.preview(company, "clients", b"\xff\xfe,\n").errors == [
        "the file is not UTF-8 text; save it as CSV UTF-8"
    ]
    assert csv_import.preview(company, "contacts", "first_name\nA\n").errors == [
        "row 1: a client_id or a client_external_id column is required"
    ]
    assert csv_import.preview(
        company, "clients", "first_name,email\nA,a@example.com,x\n"
    ).errors == ["every row must have as many cells as the header row has columns"]


def test_a_rerun_with_external_ids_updates_instead_of_duplicating(company, group):
    csv_import.apply(company, "clients", CLIENTS, actor=ACTOR)
    again = csv_import.preview(company, "clients", CLIENTS)
    assert _counts(again) == {"unchanged": 2}

    changed = CLIENTS.replace("grace@example.com", "grace@navy.example")
    result = csv_import.apply(company, "clients", changed, actor=ACTOR)
    assert result.written and _counts(result) == {"update": 1, "unchanged": 1}
    assert result.rows[0].changed == ["email"]
    assert Client.objects.filter(company=company).count() == 2
    assert Contact.objects.filter(email="grace@navy.example", role="primary").count() == 1

    # A client named by its id is updated too; semicolons as a European spreadsheet saves.
    grace = Client.objects.get(contacts__email="grace@navy.example")
    by_id = f"client_id;last_name;language\n{grace.pk};Hopper-Murray;de\n"
    result = csv_import.apply(company, "clients", by_id, actor=ACTOR)
    assert result.written and result.rows[0].changed == ["language", "last_name"]
    grace.refresh_from_db()
    assert grace.language == "de" and grace.contacts.get().last_name == "Hopper-Murray"

    # A repeated external id in one file is refused, naming the first row.
    twice = CLIENTS + "C1,Grace,Again,g@example.com,US,,no\n"
    assert csv_import.preview(company, "clients", twice).rows[2].messages == [
        "row 4, column external_id: C1 is on row 2 too"
    ]


def test_contacts_of_existing_clients(company, group, make_client):
    csv_import.apply(company, "clients", CLIENTS, actor=ACTOR)
    ada = make_client()
    contacts = (
        "external_id,client_external_id,client_id,role,first_name,email\n"
        "K1,C1,,billing,Bill,bill@example.com\n"
        f"K2,,{ada.pk},,Ann,ann@example.com\n"
        "K3,C9,,,Nobody,nobody@example.com\n"
    )
    preview = csv_import.preview(company, "contacts", contacts)
    assert [r.outcome for r in preview.rows] == ["create", "create", "refused"]
    assert preview.rows[2].messages == [
        "row 4, column client_external_id: no client of this company was imported with "
        "external id C9"
    ]
    fixed = contacts.replace("K3,C9", "K3,C2")
    assert csv_import.apply(company, "contacts", fixed, actor=ACTOR).written
    assert Contact.objects.get(email="bill@example.com").role == "billing"
    assert Contact.objects.get(email="ann@example.com").client == ada
    rerun = csv_import.apply(company, "contacts", fixed.replace("Bill,", "William,"), actor=ACTOR)
    assert _counts(rerun) == {"update": 1, "unchanged": 2}
    assert Contact.objects.filter(email="bill@example.com").get().first_name == "William"


def test_services_with_their_status_and_dates(company, group):
    catalog.create_package(
        company,
        {
            "name": "Web S",
            "prices": [
                {"unit": "month", "count": 1, "currency": "EUR", "price": 1250},
                {"unit": "year", "count": 1, "currency": "EUR", "price": 12000},
            ],
        },
        actor=ACTOR,
    )
    csv_import.apply(company, "clients", CLIENTS, actor=ACTOR)
    services = (
        "external_id,client_external_id,package,term,currency,start_date,renew_date,status\n"
        "S1,C1,Web S,1 month,EUR,2026-01-15,,active\n"
        "S2,C2,web s,1 year,,2025-03-01,2027-03-01,suspended\n"
        "S3,C2,Web S,1 year,EUR,2024-05-01,,cancelled\n"
        "S4,C1,Web S,3 months,EUR,2026-01-15,,active\n"
        "S5,C1,Web L,1 month,EUR,15.01.2026,,paused\n"
    )
    with clock.frozen_at(datetime(2026, 11, 28, 12, tzinfo=UTC)):
        preview = csv_import.preview(company, "services", services)
        assert [r.outcome for r in preview.rows] == ["create"] * 3 + ["refused"] * 2
        assert preview.rows[3].messages == [
            'row 5, column term: package "Web S" has no price for 3 months in EUR '
            "(it is sold: 1 month EUR, 1 year EUR)"
        ]
        assert preview.rows[4].messages == [
            'row 6, column package: no package "Web L" in this company'
        ]
        good = "\n".join(services.splitlines()[:4]) + "\n"
        result = csv_import.apply(company, "services", good, actor=ACTOR)
    assert result.written
    s1, s2, s3 = (Service.objects.get(pk=ExternalId.objects.get(source_id=s).object_id)
                  for s in ("S1", "S2", "S3"))  # fmt: skip
    # The month holding today (Nov 15 - Dec 15) was invoiced by the old system.
    assert (s1.status, s1.renew_date, s1.pricing.unit) == ("active", date(2026, 12, 15), "month")
    assert (s2.status, s2.renew_date, s2.pricing.currency) == ("suspended", date(2027, 3, 1), "EUR")
    assert (s3.status, s3.renew_date) == ("canceled", None)

    with clock.frozen_at(datetime(2026, 11, 28, 12, tzinfo=UTC)):
        rerun = csv_import.apply(
            company, "services", good.replace("suspended", "active"), actor=ACTOR
        )
    assert _counts(rerun) == {"update": 1, "unchanged": 2}
    assert rerun.rows[1].changed == ["status"]
    assert Service.objects.count() == 3


# --- The CLI ----------------------------------------------------------------------------


@pytest.fixture
def cli(capsys, monkeypatch):
    from django.db import connections

    # run_from_argv closes the connections after a command: the test database must stay.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    return lambda *args: _cli(capsys, *args)


def _cli(capsys, *args):
    """`groupbill import csv ...` as typed: (exit code, stdout, stderr)."""
    from groupbill.cli import main

    try:
        main(["import", "csv", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_prints_the_preview_and_writes_only_with_commit(company, group, tmp_path, cli):
    path = tmp_path / "clients.csv"
    path.write_text(CLIENTS + "C3,Edsger,Dijkstra,nope,NL,,\n")
    code, out, err = cli("--company", str(company.pk), "--kind", "clients", str(path))
    assert code == 1
    assert out.splitlines() == [
        f'CSV import of clients into company #{company.pk} "Acme Hosting" from {path} (dry run)',
        "  row 2     create      Grace Hopper  (country, email, first_name, group, last_name, "
        "tax_exempt)",
        "  row 3     create      Alan Turing  (country, email, first_name, last_name, tax_exempt)",
        "  row 4     refused     Edsger Dijkstra",
        "      row 4, column email: must be a valid email address",
        "3 rows: 2 create, 1 refused",
    ]
    assert "1 of 3 rows refused; nothing was written." in err
    code, out, err = cli("--company", str(company.pk), "--kind", "clients", str(path), "--commit")
    assert code == 1 and not Client.objects.filter(company=company).exists()

    path.write_text(CLIENTS)
    code, out, _ = cli("--company", str(company.pk), "--kind", "clients", str(path))
    assert code == 0 and out.splitlines()[-1] == (
        "Dry run: nothing was written. Add --commit to write it."
    )
    assert not Client.objects.filter(company=company).exists()
    code, out, _ = cli("--company", str(company.pk), "--kind", "clients", str(path), "--commit")
    assert code == 0 and out.splitlines()[-2:] == ["2 rows: 2 create", "Imported."]
    assert Client.objects.filter(company=company).count() == 2

    code, _, err = cli("--company", "999", "--kind", "clients", str(path))
    assert code == 2 and "Company 999 does not exist." in err
