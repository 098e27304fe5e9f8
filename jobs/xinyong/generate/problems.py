"""The contract's "Known data problems", injected into rows and files.

Field problems change how a value is written, never which enterprise it belongs to, so the
row still loads. Rows meant to be unusable (bad op code, missing key, wrong field count,
unparseable, truncated) are extra sacrificial rows with keys of their own that no later
delivery touches, so the truth of every real record stays exact.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from xinyong.generate.feeds import FeedSpec, date_variant
from xinyong.generate.world import Ent
from xinyong.ids import USCC_ALPHABET

FIELD_PROBLEMS = (
    "code_fullwidth", "code_lowercase", "code_spaces", "code_separators", "code_bad_check",
    "code_wrong_column", "code_masked", "name_brackets", "name_extra_space", "name_traditional",
    "name_org_form", "name_place_moved", "name_short_form", "name_former", "date_format",
    "amount_thousands", "null_spelling", "csv_newline_in_field", "gb18030_only_char",
)
ROW_PROBLEMS = ("bad_op_code", "missing_record_key", "wrong_field_count")
FILE_PROBLEMS = ("truncated_file", "wrong_encoding", "extra_column", "missing_column",
                 "unparseable_row", "crlf_line_endings", "utf8_bom")
# File problems that make a row unusable (counted in rows_expected_quarantined).
QUARANTINING_FILE_PROBLEMS = ("truncated_file", "unparseable_row")

_SIMPLIFIED = ("东贸责备电业药华丰广发兴达顺龙凤汇宝荣纪锦绣腾飞凯鹏亿万乐远诚润阳创联骏长胜众云澜"
               "铭轩优网络进产开机装医饮饰钢结构运输传车销农询环术连抚营辽盘铁岭芦岛宁")
_TRADITIONAL = ("東貿責備電業藥華豐廣發興達順龍鳳匯寶榮紀錦繡騰飛凱鵬億萬樂遠誠潤陽創聯駿長勝眾雲瀾"
                "銘軒優網絡進產開機裝醫飲飾鋼結構運輸傳車銷農詢環術連撫營遼盤鐵嶺蘆島寧")
TO_TRADITIONAL = str.maketrans(_SIMPLIFIED, _TRADITIONAL)
_FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0)
                            for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"})
NULL_SPELLINGS = ("无", "/", "-", "NULL")
BAD_OPS = ("X", "A", "R", "insert", "0")


@dataclass
class FilePlan:
    """How one delivered file is written: encoding, line ending, BOM, column changes."""

    encoding: str
    nl: str = "\n"
    bom: bool = False
    extra_column: bool = False
    missing_column: int | None = None
    truncate: bool = False
    unparseable: bool = False
    wrong_encoding: bool = False


class Injector:
    """Applies field and row problems to the rows of one feed, counting what it did."""

    def __init__(self, spec: FeedSpec, rate: float, rng: random.Random, counts: Counter[str]):
        self.spec = spec
        self.rng = rng
        self.counts = counts
        self.csv = spec.fmt == "csv"
        self.gb = spec.encoding == "gb18030"
        slots: list[tuple[str, int]] = [("code", i) for i in spec.codes]
        slots += [("name", i) for i in spec.names]
        slots += [("date", i) for i in spec.dates]
        slots += [("amount", i) for i in spec.amounts]
        if self.csv:
            slots += [("text", i) for i in spec.texts]
        self.slots = slots
        self.row_rate = min(0.6, rate * len(slots)) if slots else 0.0
        self.name_rate = rate
        self.sacrifice_rate = rate / 8
        self.native_date = 1 if spec.file in ("vat_returns.txt", "declarations.xml") else 0

    # Field problems return True when the row needs CSV quoting.
    def apply(self, fields: list[str], ent: Ent | None, day: int) -> bool:
        """Give a row chosen for a problem (at row_rate) one field problem."""
        role, col = self.slots[int(self.rng.random() * len(self.slots))]
        value = fields[col]
        rng = self.rng
        if role == "code":
            if not value:
                if col in self.spec.nullable:
                    fields[col] = rng.choice(NULL_SPELLINGS)
                    self.counts["null_spelling"] += 1
                return False
            kind, new = self._code(value, fields, col)
            if new is not None:
                fields[col] = new
                self.counts[kind] += 1
            return False
        if role == "name":
            if ent is not None:
                kind, new = self.vary_name(value, ent, day)
                if new is not None:
                    fields[col] = new
                    self.counts[kind] += 1
            return False
        if role == "date":
            if value:
                variant = rng.choice([v for v in range(4) if v != self.native_date])
                fields[col] = date_variant(value, variant)
                self.counts["date_format"] += 1
            elif col in self.spec.nullable:
                fields[col] = rng.choice(NULL_SPELLINGS)
                self.counts["null_spelling"] += 1
            return False
        if role == "amount":
            if value and float(value) >= 1000:
                whole, _, frac = value.partition(".")
                fields[col] = f"{int(whole):,}" + ("." + frac if frac else "")
                self.counts["amount_thousands"] += 1
                return True
            return False
        if value and len(value) > 3:  # text: a line break inside a quoted CSV field
            cut = 1 + int(rng.random() * (len(value) - 2))
            fields[col] = value[:cut] + "\n" + value[cut:]
            self.counts["csv_newline_in_field"] += 1
            return True
        if not value and col in self.spec.nullable:
            fields[col] = rng.choice(NULL_SPELLINGS)
            self.counts["null_spelling"] += 1
        return False

    def _code(self, value: str, fields: list[str], col: int) -> tuple[str, str | None]:
        rng = self.rng
        pick = rng.random()
        if pick < 0.16:
            return "code_fullwidth", value.translate(_FULLWIDTH)
        if pick < 0.28:
            if any(c.isalpha() for c in value):
                return "code_lowercase", value.lower()
            return "code_spaces", " " + value
        if pick < 0.44:
            if rng.random() < 0.5:
                spaced = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
                return "code_spaces", spaced
            return "code_spaces", value[:2] + "\u3000" + value[2:]
        if pick < 0.58:
            sep = rng.choice("-._/")
            bare = value.replace("-", "")
            cut = 2 + int(rng.random() * (len(bare) - 3))
            return "code_separators", bare[:cut] + sep + bare[cut:]
        if pick < 0.76:
            if len(value.replace("-", "")) == 10 and "-" not in value:
                return "code_masked", value[:2] + "****" + value[6:]  # customs: no check char
            return "code_bad_check", value[:-1] + _other_check(value, rng)
        if pick < 0.88:
            pair = self.spec.code_pair
            if pair and col in pair:
                other = pair[1] if col == pair[0] else pair[0]
                fields[other], new = value, fields[other]
                return "code_wrong_column", new
            return "code_masked", _mask(value)
        return "code_masked", _mask(value)

    def vary_name(self, name: str, ent: Ent, day: int) -> tuple[str, str | None]:
        """One of the ways agencies misspell a name; None when the chosen way does not apply."""
        rng = self.rng
        pick = rng.random()
        if pick < 0.15:
            if "(" in name or "（" in name:
                if "(" in name:
                    return "name_brackets", name.replace("(", "（").replace(")", "）")
                return "name_brackets", name.replace("（", "(").replace("）", ")")
            moved = ent.moved_place(name)
            if moved is not None:
                return "name_place_moved", moved.replace("(", "（").replace(")", "）")
            return "", None
        if pick < 0.30:
            cut = 2 + int(rng.random() * max(1, len(name) - 4))
            return "name_extra_space", name[:cut] + " " + name[cut:]
        if pick < 0.45:
            trad = name.translate(TO_TRADITIONAL)
            return ("name_traditional", trad) if trad != name else ("", None)
        if pick < 0.62:
            for a, b in (("股份有限公司", "股份公司"), ("有限责任公司", "有限公司"),
                         ("有限公司", "有限责任公司")):
                if a in name:
                    return "name_org_form", name.replace(a, b, 1)
            return "", None
        if pick < 0.77:
            moved = ent.moved_place(name)
            return ("name_place_moved", moved) if moved else ("", None)
        if pick < 0.87:
            return ("name_short_form", ent.short_name()) if not ent.branch else ("", None)
        if ent.names and day >= ent.names[-1][0]:
            return "name_former", ent.names[-1][1]
        return "", None

    def spoil(self, fields: list[str]) -> list[str]:
        """A copy of a row made unusable in one of the ways a loader must quarantine."""
        rng = self.rng
        out = list(fields)
        kinds = ["bad_op_code", "missing_record_key"]
        if self.spec.delimited:
            kinds.append("wrong_field_count")
        kind = rng.choice(kinds)
        if kind == "bad_op_code":
            out[1] = rng.choice(BAD_OPS)
        elif kind == "missing_record_key":
            out[0] = ""
        else:
            out = out[:-2] if rng.random() < 0.5 else [*out, out[-1]]
        self.counts[kind] += 1
        return out


def _other_check(value: str, rng: random.Random) -> str:
    """A check character that differs from the right one (identity numbers end in 0-9 or X)."""
    letters = len(value) == 18 and not value[:17].isdigit()
    alphabet = USCC_ALPHABET if letters else "0123456789X"
    return rng.choice([c for c in alphabet if c != value[-1]])


def _mask(value: str) -> str:
    n = len(value)
    start = max(2, n // 3)
    return value[:start] + "*" * max(2, n // 3) + value[start + max(2, n // 3):]
