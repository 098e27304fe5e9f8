"""Chinese enterprise and person identifiers: check characters, repair, classification.

Pure functions, no I/O. Everything that decides whether two records share a code goes
through here, so the generator, the loaders and the resolver agree on one definition.

Kinds of code (the values of ``CodeKind``):
  uscc      18-char unified social credit code, GB 32100-2015
  org       9-char organization code, GB 11714 (8 chars + check)
  regno     15-digit registration number, GB/T 17710 MOD 11,10
  taxno     15-char old tax number: 6-digit region + 9-char organization code
  customs   10-char customs registration code
  idcard    18-char resident identity number, GB 11643
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

CodeKind = Literal["uscc", "org", "regno", "taxno", "customs", "idcard"]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Anything that is not a letter, digit or mask star is formatting noise in a code.
_NOISE = re.compile(r"[^0-9A-Z*]")
# The null spellings as they read once the noise is gone (无, /, -, dashes: nothing; N/A: NA).
_NULL_SPELLINGS = frozenset({"", "NULL", "NONE", "NA"})


def clean_code(raw: str | None) -> str | None:
    """Repair formatting noise: full-width forms, case, spaces, hyphens and separators.

    Returns None for empty values and the contract's null spellings, also when the noise
    spelled one (":NA" and "N-A" are "NA"), so that the repair is idempotent.
    """
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).strip().upper()  # NFKC also turns ＊ into *
    cleaned = _NOISE.sub("", text)
    return None if cleaned in _NULL_SPELLINGS else cleaned


# --- check characters -------------------------------------------------------------------

def org_check_char(body: str) -> str:
    """Check character of an organization code from its first 8 characters."""
    total = sum(_char_value(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check_char(body: str) -> str:
    """Check character of a unified social credit code from its first 17 characters."""
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def regno_check_digit(body: str) -> str:
    """GB/T 17710 MOD 11,10 check digit of a registration number from its first 14 digits."""
    product = 10
    for ch in body:
        remainder = (product + int(ch)) % 10 or 10
        product = (remainder * 2) % 11
    return str((11 - product) % 10)


def idcard_check_char(body: str) -> str:
    """GB 11643 check character of a resident identity number from its first 17 digits."""
    total = sum(int(ch) * w for ch, w in zip(body, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _char_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - 55


# --- shape and validity -----------------------------------------------------------------

_ORG_SHAPE = re.compile(r"^[0-9A-Z]{8}[0-9X]$")
# All 18 characters come from the 31-character alphabet (no I, O, S, V, Z).
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$")
_REGNO_SHAPE = re.compile(r"^\d{15}$")
_TAXNO_SHAPE = re.compile(r"^\d{6}[0-9A-Z]{8}[0-9X]$")
_CUSTOMS_SHAPE = re.compile(r"^[0-9A-Z]{10}$")
_IDCARD_SHAPE = re.compile(r"^\d{17}[0-9X]$")


def is_valid_org(code: str) -> bool:
    return bool(_ORG_SHAPE.match(code)) and org_check_char(code[:8]) == code[8]


def is_valid_uscc(code: str) -> bool:
    if not _USCC_SHAPE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17] and is_valid_org(code[8:17])


def is_valid_regno(code: str) -> bool:
    return bool(_REGNO_SHAPE.match(code)) and regno_check_digit(code[:14]) == code[14]


def is_valid_taxno(code: str) -> bool:
    return bool(_TAXNO_SHAPE.match(code)) and is_valid_org(code[6:])


def is_valid_idcard(code: str) -> bool:
    return bool(_IDCARD_SHAPE.match(code)) and idcard_check_char(code[:17]) == code[17]


def is_valid_customs(code: str) -> bool:
    """Customs codes carry no public check character: shape only."""
    return bool(_CUSTOMS_SHAPE.match(code))


_VALIDATORS = {
    "uscc": is_valid_uscc,
    "org": is_valid_org,
    "regno": is_valid_regno,
    "taxno": is_valid_taxno,
    "customs": is_valid_customs,
    "idcard": is_valid_idcard,
}
_LENGTHS = {"uscc": 18, "org": 9, "regno": 15, "taxno": 15, "customs": 10, "idcard": 18}


def is_valid(kind: CodeKind, code: str) -> bool:
    return _VALIDATORS[kind](code)


# --- relations between codes -------------------------------------------------------------

def org_of_uscc(uscc: str) -> str:
    """A unified code embeds the organization code at positions 9-17."""
    return uscc[8:17]


def org_of_taxno(taxno: str) -> str:
    """An old tax number is a 6-digit region code followed by the organization code."""
    return taxno[6:]


def region_of_uscc(uscc: str) -> str:
    return uscc[2:8]


# --- classification -----------------------------------------------------------------------

@dataclass(frozen=True)
class Code:
    """One delivered code value after repair and classification.

    ``kind`` is None when the value fits no kind. ``valid`` is False for a wrong check
    character or a masked value: such codes are weaker evidence, never an exact key.
    """

    raw: str
    cleaned: str | None
    kind: CodeKind | None
    valid: bool
    masked: bool

    @property
    def org(self) -> str | None:
        """The organization code this code embeds or is, when it is trustworthy."""
        if not self.valid or self.cleaned is None:
            return None
        if self.kind == "org":
            return self.cleaned
        if self.kind == "uscc":
            return org_of_uscc(self.cleaned)
        if self.kind == "taxno":
            return org_of_taxno(self.cleaned)
        return None


@lru_cache(maxsize=1 << 20)  # an enterprise's codes recur in thousands of its records
def classify(raw: str | None, expected: tuple[CodeKind, ...] = ()) -> Code | None:
    """Repair a delivered code and decide which kind it is.

    ``expected`` lists the kinds the column is meant to hold, most likely first; they break
    ties (a 15-digit value can be both a registration number and an old tax number) and name
    the kind of a value whose check character is wrong. A value in the wrong column is still
    recognised by its shape and check character.
    """
    if raw is None:
        return None
    cleaned = clean_code(raw)
    if cleaned is None:
        return None
    masked = "*" in cleaned
    candidates = _kinds_by_length(len(cleaned), expected)
    # A value as long as the column's own kind is that kind, damaged or not: a tax number
    # with a wrong check digit passes the registration number's check one time in ten.
    own_kinds = [kind for kind in candidates if kind in expected]
    if own_kinds:
        candidates = own_kinds
    if masked:
        kind = candidates[0] if candidates else None
        return Code(raw, cleaned, kind, valid=False, masked=True)
    for kind in candidates:
        if _VALIDATORS[kind](cleaned):
            return Code(raw, cleaned, kind, valid=True, masked=False)
    # No kind accepts the check character: keep the likeliest kind as weak evidence.
    kind = candidates[0] if candidates else None
    return Code(raw, cleaned, kind, valid=False, masked=False)


def _kinds_by_length(length: int, expected: tuple[CodeKind, ...]) -> list[CodeKind]:
    fitting: list[CodeKind] = [k for k in expected if _LENGTHS[k] == length]
    for kind in ("uscc", "regno", "taxno", "org", "customs"):
        if _LENGTHS[kind] == length and kind not in fitting:
            fitting.append(kind)
    return fitting


def mask_idcard(number: str) -> str:
    """The form an analyst may see: first 4 and last 4 characters."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
