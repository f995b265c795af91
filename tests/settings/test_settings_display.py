"""How setting values read on the settings pages: one day, not "1 days"; a notice one day
before the due date, not "-1 days"; "Off", never "null"; cross-key refusals by label."""

import pytest

from groupbill.settings_catalog.catalog import CATALOG, DEFAULTS, RULES


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("notice_first_days", -1, "1 day before the due date"),
        ("notice_first_days", -3, "3 days before the due date"),
        ("notice_first_days", 0, "On the due date"),
        ("notice_second_days", 1, "1 day after the due date"),
        ("notice_third_days", None, "Off"),
        ("suspend_services_days_after_due", 1, "1 day"),
        ("suspend_services_days_after_due", 7, "7 days"),
        ("suspend_services_days_after_due", "never", "Never"),
        ("renewal_spacing_hours_1", 1, "1 hour"),
        ("renewal_spacing_hours_2", 24, "24 hours"),
        ("autodebit_attempts", 1, "1 decline"),
    ],
)
def test_values_read_as_words(key, value, shown):
    assert CATALOG[key].type.display(value) == shown


def test_no_help_text_says_null():
    assert [s.key for s in CATALOG.values() if "null:" in s.help] == []


def test_cross_key_refusals_name_the_settings_by_label():
    problems = [
        rule.check(DEFAULTS | change)
        for rule, change in zip(
            RULES, [{"renewal_spacing_threshold_2": 3}, {"notice_second_days": -2}], strict=True
        )
    ]
    assert problems == [
        "2nd renewal attempt spacing threshold (3 attempts) must be greater than "
        "1st renewal attempt spacing threshold (6 attempts)",
        "Second notice (2 days before the due date) must be later than "
        "First notice (1 day before the due date); notices go first, second, third",
    ]
