"""The settings import's WHMCS dialect: tblconfiguration's names for the company and a
group's flags, turned into Groupbill's keys; what WHMCS has no place for, and refusals,
named in WHMCS's terms."""

import pytest

from groupbill.settings_catalog import transfer
from groupbill.settings_catalog.catalog import DEFAULTS
from groupbill.settings_catalog.models import SettingValue
from groupbill.settings_catalog.resolver import resolve_company, resolve_group, values
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def test_whmcs_names_become_groupbill_keys_and_flags_overrides(company):
    document = {
        "company": {
            "CreateInvoiceDaysBefore": "14",
            "AutoSuspension": "",  # off: never suspend, whatever AutoSuspensionDays says
            "AutoSuspensionDays": "3",
            "SendInvoiceReminderDays": "0",  # 0: no reminder before the due date
            "SendFirstOverdueInvoiceReminder": "1",
            "CCAttemptOnlyOnce": "on",
            "NoAutoApplyCredit": "",
            "SendThirdOverdueInvoiceReminder": "12",
            "CompanyName": "ignored",
        },
        "groups": {
            "Wholesale": {"separateinvoices": "on", "susptermexempt": "on"},
            "Retail": {"separateinvoices": "", "susptermexempt": ""},
        },
    }
    plan = transfer.plan_import(company, document, dialect="whmcs")
    assert plan.ok, plan.refused
    unknown = {p.field: p.message for p in plan.unknown}
    assert unknown["company.SendThirdOverdueInvoiceReminder"].startswith(
        "Groupbill has three notices"
    )
    assert unknown["company.CompanyName"] == "not a setting Groupbill knows: ignored"
    transfer.apply_import(company, plan, actor=ACTOR)
    effective = values(resolve_company(company.pk))
    assert effective["invoice_days_before_renewal"] == 14
    assert effective["suspend_services_days_after_due"] == "never"
    assert effective["notice_first_days"] is None
    assert effective["notice_second_days"] == 1
    assert effective["notice_third_days"] == DEFAULTS["notice_third_days"]  # not named
    assert effective["autodebit_attempts"] == 1
    assert effective["auto_apply_credits"] is True
    wholesale = company.client_groups.get(name="Wholesale")
    # Suspension is "never" for the company already: only the invoice flag is written.
    assert dict(SettingValue.objects.filter(group=wholesale).values_list("key", "value")) == {
        "invoice_services_together": False
    }
    retail = company.client_groups.get(name="Retail")
    assert not SettingValue.objects.filter(group=retail).exists()
    assert values(resolve_group(retail.pk))["invoice_services_together"] is True


@pytest.mark.parametrize(
    ("level", "values_", "field", "message"),
    [
        ("company", {"SendReminder": "yes"}, "company.SendReminder", 'must be "on" or "" (off)'),
        ("company", {"CCProcessDaysBefore": "-2"}, "company.CCProcessDaysBefore",
         "must be a whole number of days (0 or more)"),
        ("company", {"AutoSuspension": "on", "AutoSuspensionDays": "0"},
         "company.AutoSuspensionDays", 'must be a whole number from 1 to 60, or "never"'),
        ("company", {"AutoSuspension": "on"}, "company.AutoSuspension",
         "is on but AutoSuspensionDays is missing"),
        ("group", {"susptermexempt": "1 "}, "groups.G.susptermexempt",
         'must be "on" or "" (off)'),
    ],
)  # fmt: skip
def test_a_value_whmcs_would_not_hold_is_refused_by_its_whmcs_name(
    company, level, values_, field, message
):
    document = {"company": values_} if level == "company" else {"groups": {"G": values_}}
    plan = transfer.plan_import(company, document, dialect="whmcs")
    assert [(p.field, p.message) for p in plan.refused] == [(field, message)]
