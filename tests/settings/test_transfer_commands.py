"""`groupbill settings-export` and `settings-import` as a user runs them: the plan printed
per level and key, exit codes, nothing written without --commit."""

import base64
import json
from io import StringIO

import phpserialize
import pytest
from django.core.management import CommandError, call_command

from groupbill.companies.actions import create_company
from groupbill.settings_catalog import actions as sa
from groupbill.settings_catalog import transfer
from groupbill.settings_catalog.models import SettingValue
from tests.conftest import ACTOR


@pytest.fixture
def source(company, group):
    sa.set_company_settings(
        company, {"invoice_days_before_renewal": 9, "notice_first_days": None}, actor=ACTOR
    )
    sa.set_group_settings(group, {"autodebit_attempts": 5}, actor=ACTOR)
    return company


@pytest.fixture
def target(db):
    return create_company(
        {"name": "Beta Cloud", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR
    )


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_prints_the_document_or_writes_it_to_a_file(source, tmp_path):
    out, _ = run("settings-export", "--company", str(source.pk))
    assert json.loads(out) == transfer.export(source)
    assert out.startswith('{\n  "format": "groupbill-settings",\n  "version": 1,')
    path = tmp_path / "acme.json"
    out, err = run("settings-export", "--company", str(source.pk), "-o", str(path))
    assert out == ""
    assert err == f'Settings of company #{source.pk} "Acme Hosting" written to {path}.\n'
    assert json.loads(path.read_text()) == transfer.export(source)


def test_export_of_an_unknown_company_exits_2(db):
    with pytest.raises(CommandError) as failed:
        run("settings-export", "--company", "999")
    assert (str(failed.value), failed.value.returncode) == ("Company 999 does not exist.", 2)


def test_round_trip_through_the_command_line(source, target, tmp_path):
    path = tmp_path / "acme.json"
    run("settings-export", "--company", str(source.pk), "-o", str(path))
    out, _ = run("settings-import", "--company", str(target.pk), str(path))
    assert out.splitlines() == [
        f'Settings import into company #{target.pk} "Beta Cloud" (dialect groupbill): dry run',
        "company",
        "  set        invoice_days_before_renewal  5 days → 9 days",
        "  set        notice_first_days            1 day before the due date → Off",
        'group "General"',
        "  no settings: inherits everything",
        'group "Resellers" (new: created by the import)',
        "  set        autodebit_attempts           3 declines → 5 declines",
        "3 to set, 0 to unset, 0 unchanged, 1 group to create; 0 unknown keys ignored, 0 refused.",
        "Dry run: nothing was written. Add --commit to write it.",
    ]
    assert not SettingValue.objects.filter(company=target).exists()
    out, _ = run("settings-import", "--company", str(target.pk), str(path), "--commit")
    assert out.splitlines()[0].endswith("(dialect groupbill)")
    assert out.splitlines()[-1] == "Imported: written as planned above."
    assert transfer.export(target) == transfer.export(source)


def test_blesta_import_lists_unknown_keys_notes_and_unchanged_keys_on_request(company, tmp_path):
    path = tmp_path / "blesta.json"
    path.write_text(
        json.dumps(
            {
                "company": {"autodebit": "false", "notice2": "disabled", "late_fee_total": "5"},
                "groups": {"General": {"autodebit": "false", "delivery_methods": "YTowOnt9"}},
            }
        )
    )
    args = ("settings-import", "--company", str(company.pk), str(path), "--dialect", "blesta")
    out, _ = run(*args)
    assert out.splitlines()[1:] == [
        "company",
        "  set        autodebit_enabled   Yes → No",
        "  set        notice_second_days  3 days after the due date → Off",
        'group "General"',
        "  2 keys unchanged (-v 2 lists them)",
        "Unknown keys (ignored):",
        '  company.late_fee_total = "5": not a setting Groupbill knows: ignored',
        "2 to set, 0 to unset, 2 unchanged, 0 groups to create; 1 unknown key ignored, 0 refused.",
        "Dry run: nothing was written. Add --commit to write it.",
    ]
    out, _ = run(*args, "-v", "2")
    assert out.splitlines()[4:7] == [
        'group "General"',
        "  unchanged  autodebit_enabled   Yes → No  (same as inherited: not written)",
        "  unchanged  delivery_methods    email  (same as inherited: not written)",
    ]


def test_a_refused_value_is_printed_and_exits_1_with_nothing_written(company, tmp_path):
    path = tmp_path / "blesta.json"
    path.write_text(
        json.dumps({"company": {"notice_pending_autodebit": "0", "autodebit": "false"}})
    )
    with pytest.raises(CommandError) as failed:
        run("settings-import", "--company", str(company.pk), str(path), "--dialect", "blesta",
            "--commit")  # fmt: skip
    assert (str(failed.value), failed.value.returncode) == (
        "Nothing was written: 1 value refused.",
        1,
    )
    assert not SettingValue.objects.filter(company=company).exists()


def test_the_printed_refusal(company, tmp_path, capsys):
    path = tmp_path / "blesta.json"
    path.write_text(json.dumps({"company": {"notice_pending_autodebit": "0"}}))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "settings-import", "--company", str(company.pk), str(path), "--dialect", "blesta",
            stdout=out,
        )  # fmt: skip
    assert out.getvalue().splitlines()[-2:] == [
        '  company.notice_pending_autodebit = "0": must be a whole number from 1 to 60, or '
        '"disabled"',
        "0 to set, 0 to unset, 0 unchanged, 0 groups to create; 0 unknown keys ignored, 1 refused.",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read {path}: No such file or directory."),
        ("{not json", "{path} is not JSON: Expecting property name enclosed in double quotes: "
                      "line 1 column 2 (char 1)."),
        ('{"company": {}}', '{path} cannot be imported: format: must be "groupbill-settings" '
                            "(a Groupbill settings export)"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_exits_2(company, tmp_path, content, message):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError) as failed:
        run("settings-import", "--company", str(company.pk), str(path))
    assert (str(failed.value), failed.value.returncode) == (message.format(path=path), 2)


def test_json_output(company, tmp_path):
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"company": {"autodebit": "false"}}))
    out, err = run(
        "settings-import", "--company", str(company.pk), str(path), "--dialect", "blesta",
        "--json", "--commit",
    )  # fmt: skip
    assert err == "Imported: written as planned above.\n"
    doc = json.loads(out)
    assert (doc["dry_run"], doc["applied"], doc["summary"]["set"]) == (False, True, 1)
    assert doc["levels"][0]["changes"] == [
        {"key": "autodebit_enabled", "current": True, "new": False, "action": "set", "note": ""}
    ]


def test_notes_and_a_broken_cross_key_rule_are_printed(company, tmp_path):
    path = tmp_path / "blesta.json"
    methods = base64.b64encode(phpserialize.dumps(["email", "postalmethods"])).decode()
    path.write_text(
        json.dumps(
            {"company": {"delivery_methods": methods, "first_renewal_attempt_threshold": "20"}}
        )
    )
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "settings-import", "--company", str(company.pk), str(path), "--dialect", "blesta",
            stdout=out,
        )  # fmt: skip
    assert failed.value.returncode == 1
    assert out.getvalue().splitlines()[5:] == [
        "Notes:",
        "  company.delivery_methods: postalmethods: not offered by Groupbill, dropped (email is "
        "always offered)",
        "Refused (nothing is written):",
        '  renewal_spacing_threshold_1: in company "Acme Hosting": 2nd renewal attempt spacing '
        "threshold (12 attempts) must be greater than 1st renewal attempt spacing threshold "
        "(20 attempts)",
        "1 to set, 0 to unset, 1 unchanged, 0 groups to create; 0 unknown keys ignored, 1 refused.",
    ]
