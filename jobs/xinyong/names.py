"""Chinese company-name normalisation. Pure functions.

``normalize_name`` maps the spellings agencies use for one name onto one key: full/half
width, brackets, spaces, traditional characters, organisation-form synonyms and a place
name moved into brackets. It never merges different names on purpose.

``core_name`` is what is left of a normalised name without its leading place names and its
organisation form: the trade name (字号) and the industry, 沈阳华丰科技有限公司 → 华丰科技.
Short and colloquial forms (the price bureau's 当事人) are usually that core, so it is a
blocking and comparison feature; it is not unique across cities, so it is never a key on
its own (the resolver's fuzzy blocks are cut from it).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

_T2S = OpenCC("t2s")

# Longest first: 股份有限公司 contains 有限公司.
_ORG_FORMS = (
    ("股份有限公司", "股份公司"),
    ("有限责任公司", "有限公司"),
)
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川",
    "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
)
# Liaoning's cities: the places this province's names start with or carry in brackets.
CITIES = (
    "沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳", "盘锦", "铁岭",
    "朝阳", "葫芦岛",
)
PLACES = PROVINCES + CITIES
_PLACE_ALTERNATIVES = "|".join(sorted(PLACES, key=len, reverse=True))
_BRACKETED_PLACE = re.compile(
    rf"^(?P<head>.+?)\((?P<place>{_PLACE_ALTERNATIVES})(?:省|市|自治区)?\)(?P<tail>.*)$")
_LEADING_PLACES = re.compile(rf"^(?:(?:{_PLACE_ALTERNATIVES})(?:省|市|自治区)?)+")
# After normalize_name the forms are 股份公司 / 有限公司; bare 公司 and a few others remain.
_FORM_SUFFIX = re.compile(r"(?:集团)?(?:股份公司|有限公司|公司|总厂|厂|商店|店|合作社)$")
_HEAD_OF_BRANCH = re.compile(r"^(?P<head>.+?(?:股份公司|有限公司|公司))(?P<rest>.+分(?:公司|店|厂))$")
_SPACES = re.compile(r"\s+")
_BRANCH_MARKERS = ("分公司", "分店", "分厂")


@lru_cache(maxsize=1_000_000)
def normalize_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw)  # full-width brackets and letters become ASCII
    text = _SPACES.sub("", text).replace("（", "(").replace("）", ")")
    text = text.replace("[", "(").replace("]", ")").replace("【", "(").replace("】", ")")
    if not text:
        return None
    text = _T2S.convert(text)
    for variant, canonical in _ORG_FORMS:
        text = text.replace(variant, canonical)
    match = _BRACKETED_PLACE.match(text)
    if match:
        text = match.group("place") + match.group("head") + match.group("tail")
    # Composed again: removing a space can leave a combining mark next to a letter.
    return unicodedata.normalize("NFKC", text.upper())


@lru_cache(maxsize=1_000_000)
def core_name(name_norm: str | None) -> str | None:
    """The normalised name without leading places and organisation form (字号 + industry).

    A branch keeps its own part: 沈阳华丰科技有限公司和平分公司 → 华丰科技和平分公司. A name
    that would shrink below two characters is returned whole.
    """
    if not name_norm:
        return None
    branch = _HEAD_OF_BRANCH.match(name_norm)
    if branch:
        head = core_name(branch.group("head")) or branch.group("head")
        return head + branch.group("rest")
    core = _LEADING_PLACES.sub("", name_norm)
    if not is_branch_name(core):  # 分公司 is the branch's own part, not a form to strip
        core = _FORM_SUFFIX.sub("", core)
    return core if len(core) >= 2 else name_norm


@lru_cache(maxsize=1_000_000)  # called for every record; names recur across an enterprise's records
def is_branch_name(name: str | None) -> bool:
    return bool(name) and any(marker in name for marker in _BRANCH_MARKERS)  # type: ignore[operator]
