"""Parsing of delivered scalar values: nulls, dates, amounts, names. Pure functions.

Every parser returns None for the contract's null spellings and raises ``ValueError`` for a
value it cannot read, so the caller decides between null-with-a-note and quarantine.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

NULL_SPELLINGS = frozenset({"", "无", "/", "-", "NULL", "null", "Null", "NONE", "None", "N/A", "—", "－"})

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
)
_PERIOD = re.compile(r"^(\d{4})-?(\d{2})$")
_AMOUNT_NOISE = re.compile(r"[,，\s元¥￥]")


def is_null(raw: str | None) -> bool:
    return clean_text(raw) is None


def clean_text(raw: str | None) -> str | None:
    """Trim and turn null spellings into None; the text itself is kept as delivered."""
    if raw is None:
        return None
    text = raw.strip()
    return None if text in NULL_SPELLINGS else text


def _nfkc(text: str) -> str:
    """Full-width digits and signs as ASCII. ASCII text is its own NFKC form, and most
    delivered values are ASCII, so they skip the Unicode tables (one call per value of tens
    of millions)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=100_000)  # a feed's dates are a few thousand distinct days
def parse_date(raw: str | None) -> date | None:
    """Dates as YYYY-MM-DD, YYYYMMDD, YYYY/M/D or YYYY年M月D日 (full-width digits too)."""
    if is_null(raw):
        return None
    assert raw is not None
    text = _nfkc(raw).strip()
    text = text.split(" ")[0].split("T")[0]  # a trailing time of day carries nothing we use
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)  # raises ValueError for 2026-02-30
    raise ValueError(f"unreadable date {raw!r}")


@lru_cache(maxsize=10_000)
def parse_period(raw: str | None) -> str | None:
    """A tax period YYYYMM (also YYYY-MM), returned as YYYYMM."""
    if is_null(raw):
        return None
    assert raw is not None
    text = _nfkc(raw).strip()
    match = _PERIOD.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"unreadable tax period {raw!r}")
    return match.group(1) + match.group(2)


def parse_amount(raw: str | None) -> Decimal | None:
    """Amounts with thousands separators, full-width digits or a currency sign."""
    try:  # most amounts are plain numbers, which Decimal reads as they are
        as_delivered: Decimal | None = Decimal(raw)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError):
        as_delivered = None
    if as_delivered is not None and as_delivered.is_finite():
        return as_delivered
    if is_null(raw):
        return None
    assert raw is not None
    text = _AMOUNT_NOISE.sub("", _nfkc(raw))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"unreadable amount {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"unreadable amount {raw!r}")
    return value


def parse_int(raw: str | None) -> int | None:
    if is_null(raw):
        return None
    assert raw is not None
    text = _nfkc(raw).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"unreadable integer {raw!r}")
    return int(text)
