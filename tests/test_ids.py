"""The identifier library: check characters, repair of noise, classification."""

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from xinyong import ids

# Real-format codes taken from the contract's sample deliveries.
VALID = {
    "uscc": ["91210181662418641N", "91210802MAUXF18Y5P", "912102008360836866"],
    "org": ["630388732", "331470701", "800076628"],
    "regno": ["210181204704577", "210200215042224"],
    "taxno": ["210102311190681", "210113800076628"],
    "idcard": ["211303197409121754", "210115198202018491"],
}

ORG_BODY = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=8)
USCC_HEAD = st.tuples(
    st.sampled_from("9157"), st.sampled_from("123"),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ids.USCC_ALPHABET, min_size=8, max_size=8))


@pytest.mark.parametrize(("kind", "code"), [(k, c) for k, cs in VALID.items() for c in cs])
def test_known_codes_are_valid(kind, code):
    assert ids.is_valid(kind, code)


@pytest.mark.parametrize(("kind", "code"), [(k, c) for k, cs in VALID.items() for c in cs])
def test_a_changed_check_character_is_invalid(kind, code):
    alphabet = ids.USCC_ALPHABET if kind == "uscc" else "0123456789X"
    wrong = next(ch for ch in alphabet if ch != code[-1])
    assert not ids.is_valid(kind, code[:-1] + wrong)


@given(USCC_HEAD)
def test_generated_uscc_embeds_a_valid_org_code(parts):
    authority, org_type, region, org_body = parts
    org = org_body + ids.org_check_char(org_body)
    assume(org[-1] in ids.USCC_ALPHABET)
    body = authority + org_type + region + org
    uscc = body + ids.uscc_check_char(body)
    assert ids.is_valid_uscc(uscc)
    assert ids.org_of_uscc(uscc) == org
    assert ids.classify(uscc).kind == "uscc"


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_regno_check_digit_round_trip(body):
    assert ids.is_valid_regno(body + ids.regno_check_digit(body))


@given(ORG_BODY, st.sampled_from([" ", "-", "－", "　", "_", "."]), st.booleans())
def test_noise_is_repaired(org_body, separator, full_width):
    org = org_body + ids.org_check_char(org_body)
    noisy = f"{org[:4]}{separator}{org[4:8]}{separator}{org[8]}".lower()
    if full_width:
        noisy = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in noisy)
    code = ids.classify(noisy, ("org",))
    assert code is not None and code.cleaned == org and code.valid
    assert unicodedata.normalize("NFKC", noisy) != org or separator == ""


@pytest.mark.parametrize("raw", [None, "", "无", "/", "-", "NULL", "  ", ":NA", "N-A", "n/a"])
def test_null_spellings_are_no_code(raw):
    assert ids.classify(raw) is None


def test_masked_code_is_weak_evidence():
    code = ids.classify("21****4450", ("customs",))
    assert code is not None and code.masked and not code.valid and code.org is None


def test_wrong_check_keeps_the_expected_kind_but_is_not_valid():
    code = ids.classify("91210181662418641A", ("uscc",))
    assert code is not None and code.kind == "uscc" and not code.valid and code.org is None


def test_code_in_the_wrong_column_is_recognised():
    code = ids.classify("91210181662418641N", ("regno",))
    assert code is not None and code.kind == "uscc" and code.valid


def test_fifteen_characters_prefer_the_columns_kind():
    # 210102311190681 is an old tax number (210102 + organization code 31119068-1).
    assert ids.classify("210102311190681", ("taxno", "uscc")).kind == "taxno"
    assert ids.classify("210102311190681", ("taxno",)).org == "311190681"


def test_idcard_mask_shows_first_and_last_four():
    assert ids.mask_idcard("211303197409121754") == "2113**********1754"


def test_a_damaged_code_of_the_columns_kind_is_not_another_kind_by_chance() -> None:
    # 210214628602466 is an old tax number with a wrong check character; as it happens it
    # passes the registration number's MOD 11,10 check. In a tax column it stays a damaged
    # tax number; in a column meant for registration numbers it is one.
    value = "210214628602466"
    assert ids.is_valid_regno(value) and not ids.is_valid_taxno(value)
    in_tax_column = ids.classify(value, ("taxno", "uscc"))
    assert in_tax_column is not None
    assert (in_tax_column.kind, in_tax_column.valid) == ("taxno", False)
    in_register_column = ids.classify(value, ("regno",))
    assert in_register_column is not None
    assert (in_register_column.kind, in_register_column.valid) == ("regno", True)
