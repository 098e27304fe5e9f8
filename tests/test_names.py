"""Company-name normalisation, cores and similarity: pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.names import core_name, is_branch_name, normalize_name
from xinyong.resolve.similarity import PREFIX_SCORE, name_score

FULL = "沈阳华丰科技有限公司"


@pytest.mark.parametrize("variant", [
    "沈阳华丰科技有限公司",
    "沈阳华丰科技有限责任公司",  # organisation form written differently
    "华丰(沈阳)科技有限公司",  # place name moved into brackets
    "华丰（沈阳）科技有限公司",  # full-width brackets
    "华丰【沈阳】科技有限公司",
    "沈阳 华丰科技 有限公司",  # spaces, also the ideographic one
    "沈阳\u3000华丰科技有限公司",
    "瀋陽華豐科技有限公司",  # traditional characters
    "華豐（瀋陽）科技有限責任公司",
])
def test_spellings_of_one_name_share_one_key(variant: str) -> None:
    assert normalize_name(variant) == normalize_name(FULL) == FULL


def test_share_company_forms_are_one_key() -> None:
    assert normalize_name("大连宏远股份有限公司") == normalize_name("大连宏远股份公司")


def test_different_names_stay_different() -> None:
    names = ["沈阳华丰科技有限公司", "大连华丰科技有限公司", "沈阳华丰贸易有限公司",
             "沈阳华丰科技有限公司和平分公司", "华丰科技"]
    assert len({normalize_name(n) for n in names}) == len(names)


def test_a_place_in_brackets_at_the_end_moves_to_the_front() -> None:
    assert normalize_name("鼎安(大连)") == "大连鼎安"


def test_full_width_letters_and_case() -> None:
    assert normalize_name("ＡＢＣ（大连）贸易有限公司") == "大连ABC贸易有限公司"
    assert normalize_name("abc贸易有限公司") == "ABC贸易有限公司"


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_empty_names_are_none(raw: str | None) -> None:
    assert normalize_name(raw) is None


@pytest.mark.parametrize(("name", "core"), [
    ("沈阳华丰科技有限公司", "华丰科技"),
    ("辽宁省华丰科技股份公司", "华丰科技"),
    ("沈阳市华丰科技有限公司", "华丰科技"),
    ("华丰科技", "华丰科技"),  # a short form is its own core
    ("华丰公司", "华丰"),
    ("沈阳华丰科技有限公司和平分公司", "华丰科技和平分公司"),  # a branch keeps its own part
    ("华丰科技和平分公司", "华丰科技和平分公司"),
    ("沈阳公司", "沈阳公司"),  # nothing would be left: the name stays whole
])
def test_core_is_trade_name_and_industry(name: str, core: str) -> None:
    assert core_name(normalize_name(name)) == core


def test_branch_names() -> None:
    assert is_branch_name("沈阳华丰科技有限公司和平分公司")
    assert is_branch_name("华丰超市铁西分店")
    assert not is_branch_name(FULL) and not is_branch_name(None)


@given(st.text(max_size=40))
def test_normalisation_is_total_and_idempotent(raw: str) -> None:
    once = normalize_name(raw)
    assert once is None or (once == normalize_name(once) and once.strip() == once)
    core = core_name(once)
    assert core is None or len(core) >= 1


@given(st.text(alphabet="沈阳华丰科技有限公司和平分(（）)大连贸易 股份", max_size=30))
def test_core_never_grows(raw: str) -> None:
    norm = normalize_name(raw)
    core = core_name(norm)
    assert (norm is None) == (core is None)
    if norm is not None and core is not None:
        assert len(core) <= len(norm)


def test_name_scores() -> None:
    same = normalize_name(FULL)
    assert name_score(same, core_name(same), same, core_name(same)) == 100.0
    # the short form equals the full name's core
    assert name_score("华丰科技", "华丰科技", same, "华丰科技") == 100.0
    # a prefix of the core: nearly as good, the linker's margin decides between rivals
    assert name_score("华丰", "华丰", same, "华丰科技") == PREFIX_SCORE
    # another industry under the same 字号 is not the same enterprise
    assert name_score("华丰科技", "华丰科技", "沈阳华丰贸易有限公司", "华丰贸易") < 90
    assert name_score(None, None, same, "华丰科技") == 0.0
