"""Scalar parsing: dates, amounts, periods and null spellings, as the contract spells them."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong import values


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)))
def test_every_date_spelling_reads_the_same_day(day):
    spellings = [
        day.isoformat(),
        day.strftime("%Y%m%d"),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
    ]
    assert {values.parse_date(s) for s in spellings} == {day}


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False))
def test_amounts_with_thousands_separators(amount):
    formatted = f"{amount:,.2f}"
    assert values.parse_amount(formatted) == amount
    assert values.parse_amount(f"{amount:.2f}") == amount


@pytest.mark.parametrize("raw", ["", "无", "/", "-", "NULL", " null ", None])
def test_null_spellings(raw):
    assert values.is_null(raw)
    assert values.parse_date(raw) is None
    assert values.parse_amount(raw) is None
    assert values.clean_text(raw) is None


@pytest.mark.parametrize("raw", ["2026-02-30", "20261", "tomorrow", "2026/13/1"])
def test_unreadable_dates_raise(raw):
    with pytest.raises(ValueError):
        values.parse_date(raw)


@given(st.text(min_size=1).filter(lambda s: not values.is_null(s)))
def test_amount_parser_only_accepts_numbers_or_raises(text):
    try:
        parsed = values.parse_amount(text)
    except ValueError:
        return
    assert isinstance(parsed, Decimal) and parsed.is_finite()


def test_full_width_digits_and_currency_signs():
    assert values.parse_amount("１２,３４５.６０元") == Decimal("12345.60")
    assert values.parse_date("２０２６－１１－１０") == date(2026, 11, 10)


@pytest.mark.parametrize(("raw", "expected"), [("202611", "202611"), ("2026-01", "202601")])
def test_tax_periods(raw, expected):
    assert values.parse_period(raw) == expected
