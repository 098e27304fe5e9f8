"""Planted cross-audit cases (AUDITS.md A1-A8) and the exact audit truth, ``truth/audits.csv``.

**Planting.** world.py chooses the planted enterprises (one scenario each, ``P_*`` in world.py,
at fixed shares of the enterprises with a minimum count so that small sets get some too) and
gives them the flags, customs codes or legal representatives their scenario needs; the
builders in agencies.py shape their records; :func:`plan` draws the dates several builders
must agree on. ``pos`` scenarios meet the rule, ``near`` ones are its near misses:

- A1 deregistered_still_active: pos ``A1_ZOMBIE`` 注销/吊销 with VAT returns and local-tax
  declarations going on 5-21 months after the 核准日期 (its deregistration date); pos
  ``A1_NEXT_DAY`` 注销/吊销 with one customs declaration the day after the 核准日期 and nothing
  else after it; near ``A1_SAME_DAY`` the last VAT return (and for traders a customs
  declaration) dated exactly on the 核准日期.
- A2 customs_exceeds_vat: pos ``A2_LOW_VAT`` a trader with little VAT sales; the other three
  have their customs rebuilt from their (whole-yuan) VAT sales per year, 0.2-1.2 × VAT in
  ordinary years and one special year: pos ``A2_USD_OVER`` customs in USD just above 5 × VAT
  once converted at 7 (below it unconverted); near ``A2_EQUAL`` customs in CNY exactly 5 × VAT;
  near ``A2_WITHIN`` customs in USD just below 5 × VAT once converted.
- A3 dishonest_debtor_privileges (construction or food/drug trades): one dishonest-debtor
  record, published around the enterprise's last qualification or licence; pos ``A3_AFTER``
  全部未履行 and issued 1 to 600 days after the publication; near ``A3_PARTIAL`` the same with
  部分未履行; near ``A3_SAME_DAY`` 全部未履行 and issued on the publication date.
- A4 abnormal_list_trading (traders, one listing): pos ``A4_AFTER`` open listing, trading goes
  on; pos ``A4_ON_DAY`` open listing, the last declaration on the 列入日期; near
  ``A4_REMOVED`` the listing removed (移出日期), trading goes on; near ``A4_BEFORE`` open
  listing, the last declaration the day before the 列入日期.
- A5 state_local_tax_gap (no local-tax declarations): pos ``A5_TWELVE`` 存续 with exactly 12
  VAT returns; pos ``A5_MANY`` 存续 with all its returns; near ``A5_ELEVEN`` 存续 with 11;
  near ``A5_OPERATING`` 在业.
- A6 arrears_with_a_rating: pos ``A6_SAME_YEAR`` an arrears announcement in year Y (often on
  1 January or 31 December) and rating A for Y; near ``A6_OTHER_YEAR`` rating A for Y,
  announcement in Y±1 whose rating is B, M or none; near ``A6_RATED_B`` announcement in Y,
  rating B for Y and A for a neighbouring year.
- A7 dishonest_legal_rep_elsewhere (pairs with a legal representative of their own, a new
  person): pos ``A7_DEBTOR`` a dishonest debtor and ``A7_PARTNER`` a 存续 enterprise; near
  ``A7_NEAR_DEBTOR`` a 存续 dishonest debtor whose other enterprise is 注销
  (``A7_NEAR_CANCELLED``) or 在业 (``A7_NEAR_OPERATING``).
- A8 multi_agency_penalties (no other penalties): pos ``A8_EDGE`` penalties of three agencies,
  first and last exactly 365 days apart; near ``A8_SPREAD`` 366 days apart; near
  ``A8_PASSED`` penalties of two agencies and a quality inspection 合格 between them.

**Truth.** The workers note the final version of every record of the audited feeds as they
write it (the latest night's version of each key, before data problems are injected, which
keep every value's meaning; deleted keys drop out; sacrificial rows are not records), and
:func:`evaluate` applies the AUDITS.md rules to each enterprise's live records, in Python,
independently of the warehouse SQL. So ``finding`` rows are every enterprise that meets a rule,
planted or not (accidental findings included); ``near_miss`` rows are the planted near misses
that do not meet it (a near miss that a later correction turned into a finding is a finding).
A7 spans enterprises: the workers return per enterprise whether it is a dishonest debtor, 存续,
and names its legal representative in a live record; the parent groups by identity number.
(A code problem may mask or mistype the number in one row; the person stays known from the
enterprise's other rows -- registration and seal filings -- in practice, as the replay test
checks.)
Rule details as in AUDITS.md: calendar dates, "after" strict, USD × 7, a dishonest debtor
for A7 is any live dishonest-debtor record (whatever its lxqk), the status is the live
registration's 登记状态.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

import numpy as np

from xinyong.generate.feeds import COMPACT, DATE_BASE, FEED_INDEX, ISO
from xinyong.generate.world import (
    P_A3_AFTER,
    P_A3_PARTIAL,
    P_A3_SAME_DAY,
    P_A4_AFTER,
    P_A4_BEFORE,
    P_A4_ON_DAY,
    P_A4_REMOVED,
    P_A6_OTHER_YEAR,
    P_A6_RATED_B,
    P_A6_SAME_YEAR,
    P_A7_DEBTOR,
    P_A7_NEAR_DEBTOR,
    P_A8_EDGE,
    P_A8_PASSED,
    P_A8_SPREAD,
    SCENARIOS,
    Ent,
    World,
)

AUDITS = ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8")
A3_PLANTS = (P_A3_AFTER, P_A3_PARTIAL, P_A3_SAME_DAY)
AUDITS_HEADER = "audit,enterprise_id,expected\n"
PENALTY_SOURCES = ("quality", "construction", "food_drug", "price")
_PERFORMANCE = ("全部未履行", "全部未履行", "部分未履行", "已履行")

# The feeds the audits read (feed index in FEEDS).
REG = FEED_INDEX[("aic", "registrations.csv")]
ABNORMAL = FEED_INDEX[("aic", "abnormal_operations.csv")]
VAT = FEED_INDEX[("state_tax", "vat_returns.txt")]
RATING = FEED_INDEX[("state_tax", "credit_ratings.txt")]
LOCAL = FEED_INDEX[("local_tax", "declarations.jsonl")]
ARREARS = FEED_INDEX[("local_tax", "arrears.jsonl")]
INSPECTION = FEED_INDEX[("quality", "product_inspections.csv")]
CUSTOMS = FEED_INDEX[("customs", "declarations.xml")]
QUALIFICATION = FEED_INDEX[("construction", "qualifications.csv")]
VIOLATION = FEED_INDEX[("construction", "violations.csv")]
LICENCE = FEED_INDEX[("food_drug", "licenses.csv")]
PENALTY = FEED_INDEX[("food_drug", "penalties.csv")]
PRICE = FEED_INDEX[("price", "price_violations.csv")]
SEAL = FEED_INDEX[("public_security", "seal_filings.jsonl")]
DEBTOR = FEED_INDEX[("court", "dishonest_debtors.jsonl")]
AUDIT_FEEDS = frozenset((REG, ABNORMAL, VAT, RATING, LOCAL, ARREARS, INSPECTION, CUSTOMS, QUALIFICATION,
                         VIOLATION, LICENCE, PENALTY, PRICE, SEAL, DEBTOR))

# A7 flags per enterprise, returned by the workers.
A7_DEBTOR, A7_NAMED, A7_ALIVE = 1, 2, 4

_DAY = {text: DATE_BASE + i for i, text in enumerate(ISO)}
_DAY.update({text: DATE_BASE + i for i, text in enumerate(COMPACT)})
_NEAR: dict[int, str] = {code: audit for code, (audit, kind) in SCENARIOS.items() if kind == "near"}


def _ord(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal()


# --- planting: the dates several builders share --------------------------------------------

def plan(e: Ent, nights: tuple[int, ...], rng: random.Random) -> None:
    """Draw the planted scenario's shared dates into ``e.memo`` (before the records are built)."""
    code, memo, d0 = e.plant, e.memo, nights[0]
    if code in (P_A4_AFTER, P_A4_ON_DAY, P_A4_REMOVED, P_A4_BEFORE):
        lo = max(e.est + 400, _ord(2023, 1, 1))
        listed = lo + int(rng.random() * max(1, d0 - 120 - lo))
        memo["listed"] = listed
        memo["removed"] = (listed + 30 + int(rng.random() * min(400, d0 - 1 - listed - 30))
                           if code == P_A4_REMOVED else 0)
        memo["after"] = listed + 1 + int(rng.random() * 90)  # a declaration while listed
    elif code in (P_A6_SAME_YEAR, P_A6_OTHER_YEAR, P_A6_RATED_B):
        first = max(2019, date.fromordinal(e.est).year + 1)
        year = first + int(rng.random() * (2024 - first + 1))
        other = year + 1 if year == first or rng.random() < 0.5 else year - 1
        if code == P_A6_SAME_YEAR:
            memo["ratings"], announced = {year: "A"}, year
        elif code == P_A6_OTHER_YEAR:
            memo["ratings"], announced = {year: "A", other: rng.choice(("B", "M", None))}, other
        else:
            memo["ratings"], announced = {year: "B", other: "A"}, year
        edge = rng.random()
        memo["arrears"] = (_ord(announced, 1, 1) if edge < 0.3 else _ord(announced, 12, 31) if edge < 0.6
                           else _ord(announced, 1, 1) + int(rng.random() * 365))
    elif code in (P_A7_DEBTOR, P_A7_NEAR_DEBTOR):
        lo = max(e.est + 200, _ord(2016, 1, 1))
        published = lo + int(rng.random() * max(1, d0 - 30 - lo))
        memo["debtor"] = (published, rng.choice(_PERFORMANCE))
    elif code in (P_A8_EDGE, P_A8_SPREAD, P_A8_PASSED):
        lo = max(e.est + 30, _ord(2021, 1, 1))
        first = lo + int(rng.random() * max(1, d0 - 400 - lo))
        penalties: dict[str, list[int]] = {}
        if code == P_A8_PASSED:  # two agencies, several penalties, and an inspection passed
            a, b = rng.sample(PENALTY_SOURCES[1:], 2)
            penalties[a] = [first, first + 1 + int(rng.random() * 300)]
            penalties[b] = [first + 1 + int(rng.random() * 200)]
            memo["passed"] = [first + 1 + int(rng.random() * 200)]
        else:
            span = 365 if code == P_A8_EDGE else 366
            sources = rng.sample(PENALTY_SOURCES, 3)
            days = [first, first + 1 + int(rng.random() * (span - 1)), first + span]
            for source, day in zip(sources, days, strict=True):
                penalties[source] = [day]
        memo["penalties"] = penalties


def debtor_record(e: Ent, rng: random.Random) -> tuple[int, str] | None:
    """(publication date, lxqk) of an A3 scenario's dishonest-debtor record, from its privileges."""
    last_issue = e.memo.get("last_issue")
    if last_issue is None:
        return None
    if e.plant == P_A3_SAME_DAY:
        return last_issue, "全部未履行"
    gap = 1 if rng.random() < 0.3 else 1 + int(rng.random() * 600)
    gap = max(1, min(gap, last_issue - e.est - 150))
    return last_issue - gap, "部分未履行" if e.plant == P_A3_PARTIAL else "全部未履行"



# --- truth: the rules of AUDITS.md on one enterprise's live records ------------------------

def cents(amount: str) -> int:
    """An amount as the generator writes it (``1234.5``, ``1234.56``), in cents."""
    whole, _, frac = amount.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _live(records: dict[int, list[str] | None] | None) -> list[list[str]]:
    return [fields for fields in records.values() if fields is not None] if records else []


def evaluate(e: Ent, final: Sequence[dict[int, list[str] | None] | None]) -> tuple[list[str], int]:
    """The audits (A7 apart) that find the enterprise, and its A7 flags.

    ``final`` holds per feed the final version of each of the enterprise's records, None when
    deleted: fields as the generator writes them before data problems (ISO or YYYYMMDD
    dates, plain amounts). Returns ``audit,enterprise_id,expected`` lines and the flags."""
    found: list[str] = []
    regs = _live(final[REG])
    status, approved = "", 0
    if regs:
        latest = regs[0] if len(regs) == 1 else max(regs, key=lambda f: _DAY[f[11]])
        status, approved = latest[12], _DAY[latest[11]]
    customs = _live(final[CUSTOMS])
    deregistered = status in ("注销", "吊销")
    local = _live(final[LOCAL]) if deregistered or status == "存续" else []
    vat = _live(final[VAT]) if customs or deregistered or (status == "存续" and not local) else []

    # A1: 注销/吊销, and a VAT filing date, local-tax period start or declaration after 核准日期.
    if deregistered and (
            any(_DAY[f[8]] > approved for f in vat) or any(_DAY[f[5]] > approved for f in local)
            or any(_DAY[f[7]] > approved for f in customs)):
        found.append("A1")

    # A2: a calendar year's customs value in CNY above 5 x that year's VAT sales.
    if customs:
        per_year: dict[int, int] = {}
        for f in customs:
            rate = 7 if f[8] == "USD" else 1 if f[8] == "CNY" else 0
            year = int(f[7][:4])
            per_year[year] = per_year.get(year, 0) + rate * cents(f[9])
        sales: dict[int, int] = {}
        for f in vat:
            year = int(f[4][:4])
            sales[year] = sales.get(year, 0) + cents(f[5])
        if any(value > 5 * sales.get(year, 0) for year, value in per_year.items()):
            found.append("A2")

    # A3: 全部未履行, and a qualification or licence issued after that record's fbrq.
    debtor = _live(final[DEBTOR])
    unperformed = [_DAY[f[8]] for f in debtor if f[9] == "全部未履行"]
    if unperformed:
        issued = ([_DAY[f[7]] for f in _live(final[QUALIFICATION])]
                  + [_DAY[f[8]] for f in _live(final[LICENCE])])
        if issued and max(issued) > min(unperformed):
            found.append("A3")

    # A4: an open listing, and a customs declaration on or after its 列入日期.
    if customs:
        listed = [_DAY[f[5]] for f in _live(final[ABNORMAL]) if not f[7]]
        if listed and max(_DAY[f[7]] for f in customs) >= min(listed):
            found.append("A4")

    # A5: 存续, at least 12 VAT returns, no local-tax declaration.
    if status == "存续" and not local and len(vat) >= 12:
        found.append("A5")

    # A6: an arrears announcement in a year whose state-tax rating is A.
    arrears = _live(final[ARREARS])
    if arrears:
        rated_a = {int(f[4]) for f in _live(final[RATING]) if f[5] == "A"}
        if any(int(f[7][:4]) in rated_a for f in arrears):
            found.append("A6")

    # A8: penalties of 3 agencies with last minus first <= 365 days.
    violations, penalties, prices = _live(final[VIOLATION]), _live(final[PENALTY]), _live(final[PRICE])
    if bool(violations) + bool(penalties) + bool(prices) >= 2:
        events = sorted([(_DAY[f[7]], 0) for f in violations] + [(_DAY[f[8]], 1) for f in penalties]
                        + [(_DAY[f[7]], 2) for f in prices]
                        + [(_DAY[f[5]], 3) for f in _live(final[INSPECTION]) if f[6] == "不合格"])
        for i, (first, _) in enumerate(events):
            if len({source for day, source in events[i:] if day - first <= 365}) >= 3:
                found.append("A8")
                break

    lines = [f"{audit},{e.eid},finding\n" for audit in found]
    near = _NEAR.get(e.plant)
    if near is not None and near != "A7" and near not in found:
        lines.append(f"{near},{e.eid},near_miss\n")
    flags = ((A7_DEBTOR if debtor else 0) | (A7_NAMED if regs or _live(final[SEAL]) else 0)
             | (A7_ALIVE if status == "存续" else 0))
    return lines, flags


def a7_truth(world: World, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A7 over all enterprises: (reported, planted near misses not reported) as index arrays.

    A person is the legal representative's resident identity number (equal numbers are one
    person, whatever the person index); an enterprise names him in its live registration or
    seal filings. A debtor is reported when the same person represents another 存续
    enterprise, a 存续 enterprise when he represents another dishonest debtor."""
    rep = world.rep
    person = ((world.p_district[rep].astype(np.int64) * 40_000 + (world.p_birth[rep] - _ord(1940, 1, 1)))
              * 1000 + world.p_seq[rep])
    named = (flags & A7_NAMED) != 0
    debtor = ((flags & A7_DEBTOR) != 0) & named
    alive = (flags & A7_ALIVE) != 0
    _, group = np.unique(person, return_inverse=True)
    debtors = np.bincount(group, weights=debtor)
    alives = np.bincount(group, weights=alive)
    reported = (debtor & (alives[group] - alive >= 1)) | (alive & (debtors[group] - debtor >= 1))
    near = np.array([SCENARIOS.get(int(p), ("", ""))[0] == "A7" and SCENARIOS[int(p)][1] == "near"
                     for p in range(max(SCENARIOS) + 1)])
    planted_near = near[world.plant] & ~reported
    return np.flatnonzero(reported), np.flatnonzero(planted_near)


class AuditsWriter:
    """Collects the workers' audit lines per audit (in enterprise order) and the A7 flags,
    then writes ``audits.csv`` sorted by audit and enterprise."""

    def __init__(self, truth: Path, n: int):
        self.truth = truth
        self.flags = np.zeros(n, np.uint8)
        self.parts: dict[str, BinaryIO] = {
            audit: open(truth / f".audits_{audit}.part", "w+b")  # noqa: SIM115 - closed in finish()
            for audit in AUDITS}

    def add(self, lo: int, lines: bytes, flags: bytes) -> None:
        self.flags[lo:lo + len(flags)] = np.frombuffer(flags, np.uint8)
        for line in lines.splitlines(keepends=True):
            self.parts[line[:2].decode()].write(line)

    def finish(self, world: World) -> dict[str, dict[str, int]]:
        reported, near = a7_truth(world, self.flags)
        rows = sorted([(int(i), "finding") for i in reported] + [(int(i), "near_miss") for i in near])
        self.parts["A7"].write("".join(f"A7,E{i:07d},{kind}\n" for i, kind in rows).encode())
        counts: dict[str, dict[str, int]] = {}
        with open(self.truth / "audits.csv", "wb") as out:
            out.write(AUDITS_HEADER.encode())
            for audit, part in self.parts.items():
                part.seek(0)
                data = part.read()
                out.write(data)
                part.close()
                (self.truth / f".audits_{audit}.part").unlink()
                counts[audit] = {"finding": data.count(b",finding\n"),
                                 "near_miss": data.count(b",near_miss\n")}
        return counts
