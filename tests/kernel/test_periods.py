from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groupbill.periods import Term, TermUnit, local_date, period, period_index, period_start

MONTHLY = Term(TermUnit.MONTH)
QUARTERLY = Term(TermUnit.MONTH, 3)
YEARLY = Term(TermUnit.YEAR)


def starts(anchor, term, count):
    return [period_start(anchor, term, n) for n in range(count)]


def test_month_end_anchor_does_not_drift_across_a_leap_year():
    assert starts(date(2027, 12, 31), MONTHLY, 6) == [
        date(2027, 12, 31), date(2028, 1, 31), date(2028, 2, 29),
        date(2028, 3, 31), date(2028, 4, 30), date(2028, 5, 31),
    ]  # fmt: skip
    assert period_start(date(2027, 1, 31), MONTHLY, 1) == date(2027, 2, 28)


def test_quarterly_month_end_renewals():
    assert starts(date(2027, 11, 30), QUARTERLY, 5) == [
        date(2027, 11, 30), date(2028, 2, 29), date(2028, 5, 30),
        date(2028, 8, 30), date(2028, 11, 30),
    ]  # fmt: skip


def test_yearly_from_a_leap_day():
    assert starts(date(2028, 2, 29), YEARLY, 5) == [
        date(2028, 2, 29), date(2029, 2, 28), date(2030, 2, 28),
        date(2031, 2, 28), date(2032, 2, 29),
    ]  # fmt: skip


def test_periods_are_half_open_and_adjacent():
    assert period(date(2028, 1, 31), MONTHLY, 1) == (date(2028, 2, 29), date(2028, 3, 31))


def test_a_term_is_at_least_one_unit():
    with pytest.raises(ValueError):
        Term(TermUnit.MONTH, 0)


terms = st.builds(Term, st.sampled_from(list(TermUnit)), st.integers(min_value=1, max_value=24))
anchors = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(anchors, terms, st.integers(min_value=-50, max_value=200))
def test_every_day_belongs_to_exactly_one_period(anchor, term, n):
    start, end = period(anchor, term, n)
    assert start < end
    assert period_index(anchor, term, start) == n
    assert period_index(anchor, term, end - timedelta(days=1)) == n
    assert period_index(anchor, term, end) == n + 1


def test_local_date_is_the_companys_calendar_day():
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert local_date(moment, "Europe/Berlin") == date(2026, 3, 2)
    assert local_date(moment, "America/New_York") == date(2026, 3, 1)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 3, 1), "UTC")
