"""Chinese company-name normalisation. Pure functions.

``normalize_name`` maps the spellings agencies use for one name onto one key: full/half
width, brackets, spaces, traditional characters, organisation-form synonyms and a place
name moved into brackets. It never merges different names on purpose: a short form stays
a different key (fuzzy matching decides about those).
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
PLACES = (
    "辽宁", "沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳",
    "盘锦", "铁岭", "朝阳", "葫芦岛",
)
_BRACKETED_PLACE = re.compile(r"^(?P<head>.+?)\((?P<place>[^()]{2,8}?)(?:省|市|县|区)?\)(?P<tail>.+)$")
_SPACES = re.compile(r"\s+")


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
    if match and match.group("place") in PLACES:
        text = match.group("place") + match.group("head") + match.group("tail")
    return text.upper()


def is_branch_name(name: str | None) -> bool:
    return bool(name) and ("分公司" in name or "分店" in name or "分厂" in name)  # type: ignore[operator]
