"""Property tests of the pure parsers and normalisers, over any text a delivery can hold.

Complements tests/test_values.py, tests/test_ids.py and tests/test_names.py (which cover the
four date spellings of a valid day, amounts with "," separators, the parser of amounts on
non-null text, check-character round trips and name normalisation): here garbage, padding,
full-width digits, impossible calendar days, the whole null vocabulary, and the totality of
the code repair on any text.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xinyong import ids, values
from xinyong.names import core_name, is_branch_name, normalize_name
from xinyong.pii import mask_idcard

# Any text, plus the characters deliveries are made of: digits (also full-width), separators,
# Chinese date words, code letters, lone surrogates (undecodable bytes as the readers keep them).
DELIVERY_CHARS = st.sampled_from(list("0123456789０１２３４５６７８９-/.年月日 ,，元¥￥+eE*＊"
                                      "ABXYZabxyz无NULnul\u3000\t\udcff\udc80"))
ANY_TEXT = st.one_of(st.text(), st.text(DELIVERY_CHARS, max_size=30))
DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
SPACES = st.text(alphabet=" \t\u3000\u00a0", max_size=3)
KINDS: tuple[ids.CodeKind, ...] = ("uscc", "org", "regno", "taxno", "customs", "idcard")
EXPECTED = st.lists(st.sampled_from(KINDS), max_size=3, unique=True).map(tuple)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def contract_spellings(day: date) -> list[str]:
    return [day.isoformat(), day.strftime("%Y%m%d"), f"{day.year}/{day.month}/{day.day}",
            f"{day.year}年{day.month}月{day.day}日"]


# --- dates --------------------------------------------------------------------------------

@given(DAYS, st.integers(0, 3), SPACES, SPACES, st.booleans(),
       st.sampled_from(["", " 00:00:00", "T12:30:00", " 23:59"]))
def test_a_date_reads_the_same_padded_full_width_or_with_a_time(day, form, before, after, wide, time):
    spelling = contract_spellings(day)[form] + time
    if wide:
        spelling = full_width(spelling)
    assert values.parse_date(before + spelling + after) == day


@given(DAYS)
def test_zero_padded_slash_and_chinese_forms(day):
    assert values.parse_date(f"{day.year}/{day.month:02d}/{day.day:02d}") == day
    assert values.parse_date(f"{day.year}年{day.month:02d}月{day.day:02d}日") == day


@given(st.integers(1900, 2099), st.integers(1, 12), st.integers(1, 10), st.integers(0, 3))
def test_impossible_calendar_days_raise_in_every_form(year, month, past_end, form):
    day = calendar.monthrange(year, month)[1] + past_end  # 2026-02-29, 2026-04-31, ...
    spelling = [f"{year}-{month:02d}-{day:02d}", f"{year}{month:02d}{day:02d}",
                f"{year}/{month}/{day}", f"{year}年{month}月{day}日"][form]
    with pytest.raises(ValueError):
        values.parse_date(spelling)


@given(st.integers(1900, 2099), st.integers(13, 99), st.integers(1, 28), st.integers(0, 3))
def test_month_out_of_range_raises(year, month, day, form):
    spelling = [f"{year}-{month}-{day}", f"{year}{month}{day:02d}", f"{year}/{month}/{day}",
                f"{year}年{month}月{day}日"][form]
    with pytest.raises(ValueError):
        values.parse_date(spelling)


@settings(max_examples=300)
@given(ANY_TEXT)
def test_parse_date_on_any_text_is_a_date_none_or_value_error(text):
    try:
        parsed = values.parse_date(text)
    except ValueError:
        return
    if parsed is None:
        assert values.is_null(text)
    else:
        assert isinstance(parsed, date)
        assert values.parse_date(parsed.isoformat()) == parsed


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz年月日:;!?#", min_size=1, max_size=12))
def test_letters_are_never_a_date(text):
    assume(not values.is_null(text))
    with pytest.raises(ValueError):
        values.parse_date(text)


# --- amounts, integers, periods ---------------------------------------------------------------

@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False), SPACES, SPACES,
       st.sampled_from(["", "元"]), st.sampled_from(["", "¥", "￥"]), st.sampled_from([",", "，"]),
       st.booleans())
def test_amounts_read_with_any_separator_sign_and_padding(amount, before, after, unit, sign, comma,
                                                          wide):
    grouped = f"{amount:,.2f}".replace(",", comma)
    text = f"{before}{sign}{grouped}{unit}{after}"
    if wide:
        text = full_width(text)
    assert values.parse_amount(text) == amount


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_round_trips(amount):
    assert values.parse_amount(str(amount)) == amount


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-inf", "1..2", "1,2,3.4.5", "十万",
                                 "12元5角", "0x1F", "--1"])
def test_non_amounts_raise(raw):
    with pytest.raises(ValueError):
        values.parse_amount(raw)


def _amount_read_after_cleaning(raw: str) -> tuple[str, str | None]:
    """parse_amount's reading of any text by its long way round: nulls, NFKC, the noise
    (separators, spaces, currency) removed, then Decimal; as (outcome, digits written)."""
    if values.is_null(raw):
        return "null", None
    try:
        amount = Decimal(values._AMOUNT_NOISE.sub("", unicodedata.normalize("NFKC", raw)))
    except InvalidOperation:
        return "error", None
    return ("value", str(amount)) if amount.is_finite() else ("error", None)


@settings(max_examples=500)
@given(st.one_of(ANY_TEXT, st.decimals(allow_nan=True).map(str),
                 st.tuples(SPACES, st.decimals(allow_nan=False, allow_infinity=False), SPACES)
                 .map(lambda t: f"{t[0]}{t[1]}{t[2]}")))
def test_an_amount_read_directly_is_read_as_the_long_way_round_would(raw):
    # parse_amount tries Decimal on the text as delivered first: it must never accept what the
    # cleaning would read otherwise, nor write the digits differently (they go to the CSV as str).
    try:
        parsed = values.parse_amount(raw)
        outcome = ("null", None) if parsed is None else ("value", str(parsed))
    except ValueError:
        outcome = ("error", None)
    assert outcome == _amount_read_after_cleaning(raw)


@settings(max_examples=300)
@given(ANY_TEXT)
def test_amount_int_and_period_parsers_never_raise_anything_but_value_error(text):
    for parser in (values.parse_amount, values.parse_int, values.parse_period):
        try:
            parsed = parser(text)
        except ValueError:
            continue
        if parsed is None:
            assert values.is_null(text)
    try:
        amount = values.parse_amount(text)
    except ValueError:
        return
    assert amount is None or amount.is_finite()


@given(st.integers(-10**15, 10**15), SPACES, SPACES)
def test_integers_round_trip(number, before, after):
    assert values.parse_int(f"{before}{number}{after}") == number
    assert values.parse_int(full_width(str(number))) == number


@given(st.integers(1900, 2099), st.integers(1, 12), st.booleans())
def test_periods_round_trip_and_bad_months_raise(year, month, dashed):
    text = f"{year}-{month:02d}" if dashed else f"{year}{month:02d}"
    assert values.parse_period(text) == f"{year}{month:02d}"
    with pytest.raises(ValueError):
        values.parse_period(f"{year}{month + 12:02d}")


# --- null spellings ----------------------------------------------------------------------------

@given(st.sampled_from(sorted(values.NULL_SPELLINGS)), SPACES, SPACES)
def test_every_null_spelling_padded_is_null_for_every_parser(spelling, before, after):
    raw = before + spelling + after
    assert values.is_null(raw)
    assert values.clean_text(raw) is None
    for parser in (values.parse_date, values.parse_amount, values.parse_int, values.parse_period):
        assert parser(raw) is None
    assert ids.clean_code(raw) is None and ids.classify(raw) is None


@given(ANY_TEXT)
def test_clean_text_keeps_whatever_is_not_a_null_spelling(text):
    cleaned = values.clean_text(text)
    if values.is_null(text):
        assert cleaned is None
    else:
        assert cleaned == text.strip() and cleaned


# --- codes -----------------------------------------------------------------------------------------

@settings(max_examples=300)
@given(ANY_TEXT, EXPECTED)
def test_classify_and_clean_code_never_raise_and_agree(text, expected):
    cleaned = ids.clean_code(text)
    code = ids.classify(text, expected)
    if cleaned is None:
        assert code is None
        return
    assert re.fullmatch(r"[0-9A-Z*]+", cleaned)
    assert ids.clean_code(cleaned) == cleaned  # the repair is idempotent
    assert code is not None and code.raw == text and code.cleaned == cleaned
    assert code.masked == ("*" in cleaned)
    if code.valid:
        assert not code.masked and code.kind is not None and ids.is_valid(code.kind, cleaned)
    if code.kind is not None:
        assert len(cleaned) == ids._LENGTHS[code.kind]
    if code.org is not None:
        assert ids.is_valid_org(code.org)
    # Classifying the repaired value says the same: nothing depends on the noise.
    again = ids.classify(cleaned, expected)
    assert again is not None and (again.kind, again.valid) == (code.kind, code.valid)


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY*", min_size=1, max_size=20), EXPECTED,
       st.sampled_from(["", " ", "-", "　", "_"]), st.booleans())
def test_noise_and_width_never_change_the_classification(body, expected, separator, wide):
    assume(body not in {"NA", "NULL", "NONE"})  # null spellings, not codes
    noisy = separator.join([body[:3], body[3:]]).lower()
    if wide:
        noisy = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() or c == "*" else c for c in noisy)
    plain, repaired = ids.classify(body, expected), ids.classify(noisy, expected)
    assert plain is not None and repaired is not None
    assert (repaired.cleaned, repaired.kind, repaired.valid) == (plain.cleaned, plain.kind, plain.valid)


@given(st.text(max_size=30))
def test_mask_shows_at_most_eight_characters(number):
    masked = mask_idcard(number)
    assert len(masked) == len(number)
    assert sum(ch != "*" for ch in masked) <= 8


# --- names: the helpers beside normalize_name are total too ------------------------------------------

@given(ANY_TEXT)
def test_name_helpers_never_raise(text):
    normal = normalize_name(text)
    core_name(normal)
    assert isinstance(is_branch_name(text), bool)
