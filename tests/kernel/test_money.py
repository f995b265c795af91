from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groupbill import money
from groupbill.currencies import MINOR_UNITS

fractions = st.fractions(min_value=-(10**9), max_value=10**9, max_denominator=10**6)
amounts = st.integers(min_value=-(10**12), max_value=10**12)
modes = st.sampled_from(money.ROUNDING_MODES)


def test_ties_follow_the_mode():
    half = Fraction(5, 2)
    assert money.round_fraction(half, money.HALF_UP) == 3
    assert money.round_fraction(half, money.HALF_EVEN) == 2
    assert money.round_fraction(-half, money.HALF_UP) == -3
    assert money.round_fraction(-half, money.HALF_EVEN) == -2
    assert money.round_fraction(Fraction(7, 2), money.HALF_EVEN) == 4


@given(fractions)
def test_half_even_agrees_with_exact_bankers_rounding(value):
    assert money.round_fraction(value, money.HALF_EVEN) == round(value)


@given(fractions, modes)
def test_rounding_moves_at_most_half_a_minor_unit(value, mode):
    assert abs(money.round_fraction(value, mode) - value) <= Fraction(1, 2)


@given(fractions)
def test_half_up_is_symmetric(value):
    assert money.round_fraction(-value, money.HALF_UP) == -money.round_fraction(value, "half_up")


@given(amounts, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12), modes)
def test_split_parts_add_up_to_the_whole(total, weights, mode):
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    parts = money.split(total, weights, mode)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    exact = [Fraction(total * w, sum(weights)) for w in weights]
    for part, share in zip(parts[:-1], exact[:-1], strict=True):
        assert abs(part - share) <= Fraction(1, 2)
    assert abs(parts[-1] - exact[-1]) <= Fraction(len(weights) - 1, 2) + Fraction(1, 2)


@given(amounts, st.integers(min_value=1, max_value=3660), modes)
def test_prorating_the_whole_period_is_the_full_amount(amount, days, mode):
    assert money.prorate(amount, days, days, mode) == amount
    assert money.prorate(amount, 0, days, mode) == 0


@given(st.integers(min_value=0, max_value=10**9), st.integers(1, 365), modes)
def test_proration_grows_with_the_part(amount, whole, mode):
    values = [money.prorate(amount, part, whole, mode) for part in range(whole + 1)]
    assert values == sorted(values)


def test_proration_rounds_once():
    # 1000 minor units for 10 of 31 days = 322.58... -> 323, not a sum of rounded days.
    assert money.prorate(1000, 10, 31, money.HALF_UP) == 323
    assert money.prorate(1, 1, 2, money.HALF_EVEN) == 0
    assert money.prorate(1, 1, 2, money.HALF_UP) == 1


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.50", "EUR", 1250), ("1250", "JPY", 1250), ("1.234", "BHD", 1234), ("-0.01", "USD", -1)],
)
def test_parse_reads_amounts_in_the_currency_exponent(text, currency, minor):
    assert money.parse(text, currency) == minor


@pytest.mark.parametrize(("text", "currency"), [("12.505", "EUR"), ("1.5", "JPY"), ("abc", "EUR")])
def test_parse_refuses_what_it_would_have_to_round(text, currency):
    with pytest.raises(ValueError):
        money.parse(text, currency)


@given(amounts, st.sampled_from(sorted(MINOR_UNITS)))
def test_format_and_parse_round_trip(minor, currency):
    assert money.parse(money.format_plain(minor, currency), currency) == minor


@given(st.integers(min_value=0, max_value=10**10), st.decimals("0", "50", places=3), modes)
def test_inclusive_and_exclusive_tax_agree(net, rate, mode):
    tax = money.tax_on(net, rate, mode)
    assert abs(tax - Fraction(net) * Fraction(rate) / 100) <= Fraction(1, 2)
    # The tax found inside net+tax is the same tax, give or take the one rounding.
    assert abs(money.tax_within(net + tax, rate, mode) - tax) <= 1


def test_tax_examples():
    assert money.tax_on(1999, Decimal("19"), money.HALF_UP) == 380  # 379.81
    assert money.tax_within(11900, Decimal("19"), money.HALF_UP) == 1900
