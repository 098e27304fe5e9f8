"""What each agency records about an enterprise, and its own way of writing it.

One builder per file, grouped by agency: ``history`` lists the records an enterprise has in
that file as items (first element: the day the record becomes deliverable, every random
value already drawn so that a later U or D row shows the same record), ``row`` writes an
item as the agency writes it, ``mutate`` changes a row for a U (a corrected record).

Per-feed volume (records per enterprise at scale 1, full delivery; 750,000 enterprises give
about 42.7 million records): vat_returns 23, declarations (local tax) 18, declarations.xml
(customs) 6, seal_filings 3.2, credit_ratings.txt 2, org_code_certificates 1.3,
registrations 1, judgments 0.8, licenses 0.4, product_inspections 0.3, qualifications 0.25,
name_changes 0.2, credit_ratings.csv 0.12, abnormal_operations 0.1, penalties 0.08,
arrears 0.06, dishonest_debtors 0.05, price_violations 0.04, violations 0.03.

Planted audit cases (``Ent.plant``, see audits.py) change the history of their enterprise
only: an extra or re-dated record, a history cut short, customs values made from the VAT
sales, the one listing, rating, announcement or debtor record of the scenario, with the dates
``audits.plan`` put in ``Ent.memo``. VAT and customs histories both start in 2019, so A2
compares years that both agencies deliver.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import date
from typing import Any

from xinyong.generate.audits import A3_PLANTS, cents, debtor_record
from xinyong.generate.feeds import FEEDS, compact, iso
from xinyong.generate.problems import Injector
from xinyong.generate.world import (
    ALIVE,
    CITIES,
    CONSTRUCTION,
    DISTRICTS,
    F_LOW_VAT,
    F_MONTHLY,
    F_MULTI_PEN,
    F_NO_LOCAL,
    F_NO_VAT,
    F_TRADER,
    F_ZOMBIE,
    FOOD_DRUG,
    GIVEN_CHARS,
    MAKER,
    P_A1_NEXT_DAY,
    P_A1_SAME_DAY,
    P_A1_ZOMBIE,
    P_A2_EQUAL,
    P_A2_USD_OVER,
    P_A2_WITHIN,
    P_A4_AFTER,
    P_A4_BEFORE,
    P_A4_ON_DAY,
    P_A4_REMOVED,
    P_A5_ELEVEN,
    P_A5_TWELVE,
    P_A6_OTHER_YEAR,
    P_A6_RATED_B,
    P_A6_SAME_YEAR,
    P_A7_DEBTOR,
    P_A7_NEAR_CANCELLED,
    P_A7_NEAR_DEBTOR,
    P_A7_NEAR_OPERATING,
    P_A7_PARTNER,
    P_A8_EDGE,
    P_A8_PASSED,
    P_A8_SPREAD,
    RETAIL,
    STATUSES,
    SURNAMES,
    Ent,
    World,
    enterprise_name,
)
from xinyong.ids import org_check_char

Item = tuple[Any, ...]
VAT_START = date(2019, 1, 1).toordinal()
LOCAL_START = date(2019, 1, 1).toordinal()
CUSTOMS_START = date(2019, 1, 1).toordinal()  # as VAT: A2 compares the years of both
# Planted audit scenarios (world.py, audits.py) whose records the builders shape.
A2_REBUILT = (P_A2_USD_OVER, P_A2_EQUAL, P_A2_WITHIN)
A4_PLANTS = (P_A4_AFTER, P_A4_ON_DAY, P_A4_REMOVED, P_A4_BEFORE)
A6_PLANTS = (P_A6_SAME_YEAR, P_A6_OTHER_YEAR, P_A6_RATED_B)
A7_PARTNERS = (P_A7_PARTNER, P_A7_NEAR_CANCELLED, P_A7_NEAR_OPERATING)
A8_PLANTS = (P_A8_EDGE, P_A8_SPREAD, P_A8_PASSED)
COURT_START = date(2012, 1, 1).toordinal()
ORG_CERT_END = date(2018, 6, 30).toordinal()
YEAR = 365.25

_MONTH0 = 1985


def _month_start(y: int, m: int) -> int:
    return _MONTH_STARTS[(y - _MONTH0) * 12 + m - 1]


_MONTH_STARTS = [date(y, m, 1).toordinal() for y in range(_MONTH0, 2036) for m in range(1, 13)]


def _ym(day: int) -> tuple[int, int]:
    d = date.fromordinal(day)
    return d.year, d.month


def _events(rng: random.Random, start: int, stop: int, per_year: float) -> list[int]:
    """Days of events at a yearly rate between start and stop (both inclusive)."""
    if stop <= start:
        return []
    span = stop - start
    count = int(span / YEAR * per_year + rng.random())
    return sorted(start + int(rng.random() * span) for _ in range(count))


def _money(x: float) -> str:
    return f"{x:.2f}"


def _yuan(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """total as parts positive integers (fewer when total is small)."""
    parts = max(1, min(parts, total))
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _person(rng: random.Random) -> str:
    given = rng.choice(GIVEN_CHARS) + (rng.choice(GIVEN_CHARS) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


class Builder(ABC):
    """Base of the per-file builders; the world and the night dates are shared."""

    per_item_enterprise = False  # True when records differ in the enterprise they refer to

    def __init__(self, world: World, injector: Injector):
        self.w = world
        self.d0 = world.nights[0]
        self.last = world.nights[-1]
        self.inj = injector

    def active_until(self, e: Ent, rng: random.Random) -> int:
        """Last day an enterprise files; deregistered "zombies" keep filing for a while (A1)."""
        if not e.end:
            return self.last
        if e.flags & F_ZOMBIE:
            if e.plant == P_A1_ZOMBIE:  # long enough for a VAT return after the end (A1)
                return min(self.last, e.end + 150 + int(rng.random() * 500))
            return min(self.last, e.end + 60 + int(rng.random() * 600))
        return e.end

    @abstractmethod
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        """Every record the enterprise has in this file over its life."""

    @abstractmethod
    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        """One delivered row of a record, as it stood on day ``as_of``."""

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        """A corrected record: by default the amounts change."""
        for col in FEEDS_BY_BUILDER[type(self)].amounts:
            if fields[col]:
                fields[col] = _money(float(fields[col]) * (0.8 + rng.random() * 0.4))

    def scheduled_updates(self, e: Ent) -> list[int]:
        """Days on which the record of this enterprise changes by itself (registrations)."""
        return []

    def parties(self, e: Ent, item: Item) -> list[str] | None:
        """Truth enterprise ids of the parties (judgments); None for one-enterprise records."""
        return None

    def record_enterprise(self, e: Ent, item: Item) -> str:
        return e.eid


# --- aic ---------------------------------------------------------------------------------

class Registrations(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        return [(e.est,)] if e.est <= self.last else []

    def scheduled_updates(self, e: Ent) -> list[int]:
        days = [e.end] if e.end > self.d0 else []
        days += [until for until, _ in e.names if until > self.d0]
        return days

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        dead = bool(e.end) and e.end <= as_of
        status = e.status if dead or e.status <= 1 else ALIVE
        approve = e.approve if e.approve <= as_of else e.est
        uscc = e.uscc if e.uscc and e.uscc_date <= as_of else ""
        capital = f"{e.capital}.000000" if e.idx % 3 == 0 else str(e.capital)
        return [rid, op, e.regno, uscc, e.name_at(as_of), e.etype, e.rep_name, e.rep_id,
                e.address, capital, iso(e.est), iso(approve), STATUSES[status],
                e.industry_code, e.authority]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        if rng.random() < 0.5:
            fields[9] = str(int(float(fields[9])) * 2)
        else:
            fields[8] = fields[8] + f"{int(rng.random() * 30) + 1}室"


class NameChanges(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        items = []
        for k, (day, before) in enumerate(e.names):
            after = e.names[k + 1][1] if k + 1 < len(e.names) else e.name
            items.append((day, before, after))
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        return [rid, op, e.uscc, e.regno, item[1], item[2], iso(item[0])]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        """A corrected change date, a few days earlier."""
        fields[6] = iso(date.fromisoformat(fields[6]).toordinal() - 1 - int(rng.random() * 10))


_ABNORMAL_IN = ("未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
                "通过登记的住所或者经营场所无法联系的", "公示企业信息隐瞒真实情况、弄虚作假的")
_ABNORMAL_OUT = "已补报年度报告并申请移出"


class AbnormalOperations(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if e.plant in A4_PLANTS:  # one listing, open or removed (A4)
            return [(e.memo["listed"], rng.choice(_ABNORMAL_IN), e.memo["removed"])]
        stop = e.end or self.last
        days = _events(rng, e.est + 365, stop, 0.012)
        if e.end and e.status != 4 and rng.random() < 0.12:
            days.append(max(e.est + 1, e.end - 200))
        items = []
        for day in sorted(days):
            removed = day + 30 + int(rng.random() * 500) if rng.random() < 0.45 else 0
            if removed >= self.d0:
                removed = 0
            items.append((day, rng.choice(_ABNORMAL_IN), removed))
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day, reason, removed = item
        return [rid, op, e.uscc if day >= e.uscc_date else "", e.regno, e.name_at(day), iso(day),
                reason, iso(removed) if removed else "", _ABNORMAL_OUT if removed else ""]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[7], fields[8] = iso(day), _ABNORMAL_OUT


# --- state_tax ---------------------------------------------------------------------------

class VatReturns(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if e.flags & F_NO_VAT:
            return []
        start, stop = max(e.est, VAT_START), self.active_until(e, rng)
        step = 1 if e.flags & F_MONTHLY else 3
        scale = e.capital * (300.0 if not e.flags & F_LOW_VAT else 2.0) * step
        rate = 0.01 + rng.random() * 0.05
        whole = e.plant in A2_REBUILT  # whole yuan: 5 x VAT is exact in any arithmetic (A2)
        y, m = _ym(start)
        m = ((m - 1) // step + 1) * step  # first period end at or after the start
        items = []
        while True:
            ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
            filed = _month_start(ny, nm) + int(rng.random() * 15)
            if filed > stop:
                break
            sales = 0.0 if rng.random() < 0.08 else scale * (0.3 + rng.random() * 1.4)
            if whole:
                sales = float(round(sales))
            tax = sales * rate
            paid = tax if rng.random() < 0.9 else tax * rng.random()
            items.append((filed, f"{y}{m:02d}", _money(sales), _money(tax), _money(paid)))
            m += step
            if m > 12:
                y, m = y + 1, m - 12
        return self._planted(e, items) if e.plant else items

    def _planted(self, e: Ent, items: list[Item]) -> list[Item]:
        if e.plant == P_A1_SAME_DAY and items:  # the last return filed on the 核准日期
            items[-1] = (e.end, *items[-1][1:])
        elif e.plant in (P_A5_TWELVE, P_A5_ELEVEN):  # exactly 12 or 11 returns (A5)
            keep = 12 if e.plant == P_A5_TWELVE else 11
            items = [item for item in items if item[0] <= self.d0][-keep:]
        elif e.plant in A2_REBUILT:  # the sales per year the customs values are made from
            sales: dict[int, int] = {}
            for item in items:
                if item[0] <= self.d0:
                    year = int(item[1][:4])
                    sales[year] = sales.get(year, 0) + cents(item[2])
            e.memo["sales"] = sales
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        filed = item[0]
        return [rid, op, e.tax_id_at(filed), e.name_at(filed), item[1], item[2], item[3],
                item[4], compact(filed)]


_RATINGS = ("A", "B", "B", "B", "B", "M", "C", "D")


class StateCreditRatings(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if e.flags & F_NO_VAT:
            return []
        items = []
        stop = e.end or self.last
        forced: dict[int, str | None] = e.memo.get("ratings", {}) if e.plant in A6_PLANTS else {}
        for year in range(2014, 2026):
            if e.est <= _month_start(year, 1) and stop >= _month_start(year + 1, 1):
                if year in forced:  # the ratings of the planted years (A6); None: not rated
                    level = forced[year]
                    if level is not None:
                        items.append((_month_start(year + 1, 4) + int(rng.random() * 60), year, level))
                elif rng.random() < 0.36:
                    items.append((_month_start(year + 1, 4) + int(rng.random() * 60), year,
                                  rng.choice(_RATINGS)))
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        return [rid, op, e.tax_id_at(item[0]), e.name_at(item[0]), str(item[1]), item[2]]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[5] = rng.choice([r for r in "ABMCD" if r != fields[5]])


# --- local_tax ---------------------------------------------------------------------------

_LEVIES = ("城镇土地使用税", "房产税", "城市维护建设税", "印花税", "教育费附加", "地方教育附加")


class LocalDeclarations(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if e.flags & F_NO_LOCAL:
            return []
        start, stop = max(e.est, LOCAL_START), self.active_until(e, rng)
        levies = rng.sample(_LEVIES, 1 if rng.random() < 0.8 else 2)
        items = []
        for levy in levies:
            step = 3 if rng.random() < 0.6 else 6
            base = e.capital * (2.0 + rng.random() * 20)
            y, m = _ym(start)
            m = ((m - 1) // step) * step + 1  # period start month
            while True:
                ey, em = (y, m + step - 1)
                ny, nm = (ey + 1, 1) if em == 12 else (ey, em + 1)
                period_end = _month_start(ny, nm) - 1
                filed = period_end + 1 + int(rng.random() * 20)
                if filed > stop:
                    break
                tax = base * (0.5 + rng.random())
                paid = tax if rng.random() < 0.93 else 0.0
                items.append((filed, levy, _month_start(y, m), period_end, _money(tax), _money(paid)))
                m += step
                if m > 12:
                    y, m = y + 1, m - 12
        items.sort()
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        filed = item[0]
        return [rid, op, e.tax_id_at(filed), e.name_at(filed), item[1], iso(item[2]), iso(item[3]),
                item[4], item[5]]


class Arrears(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if e.plant in A6_PLANTS:  # one announcement, in the planted year (A6)
            return [(e.memo["arrears"], _money(e.capital * (5 + rng.random() * 80)), rng.choice(_LEVIES))]
        rate = 0.008 if not e.end else 0.02
        return [(day, _money(e.capital * (5 + rng.random() * 80)), rng.choice(_LEVIES))
                for day in _events(rng, max(e.est, LOCAL_START), e.end or self.last, rate)]

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        return [rid, op, e.tax_id_at(item[0]), e.name_at(item[0]), e.rep_name, item[1], item[2],
                iso(item[0])]


# --- quality -----------------------------------------------------------------------------

_INSTITUTIONS = ("图书馆", "第三中学", "人民医院", "疾病预防控制中心", "档案馆", "实验小学", "文化馆")
INSTITUTION_EVERY = 25


def hyphen_org(org: str) -> str:
    return org[:8] + "-" + org[8]


class OrgCodeCertificates(Builder):
    per_item_enterprise = True

    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        items: list[Item] = []
        stop = min(e.end or ORG_CERT_END, ORG_CERT_END)
        day = max(e.est, date(1995, 1, 1).toordinal())
        while day <= stop:
            items.append((day, "", ""))
            day += 4 * 365 - int(rng.random() * 30)
        if e.idx % INSTITUTION_EVERY == 7:  # an institution certificate: no enterprise behind it
            inst = rng.choice(_INSTITUTIONS)
            body = f"9{e.idx // INSTITUTION_EVERY:07d}"
            code = body + org_check_char(body)
            first = date(2000, 1, 1).toordinal() + int(rng.random() * 4000)
            items.append((first, inst, code))
            items.append((first + 4 * 365, inst, code))
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        expiry = day + 4 * 365 - 2
        if item[1]:
            district = DISTRICTS[e.idx % len(DISTRICTS)]
            name = CITIES[district[1]][1] + "市" + district[2] + item[1]
            return [rid, op, hyphen_org(item[2]), name, "事业单位法人", e.rep_name,
                    f"辽宁省{CITIES[district[1]][1]}市{district[2]}中山路{e.idx % 90 + 1}号",
                    iso(day), iso(expiry), "过期" if expiry < self.d0 else "有效"]
        state = "注销" if e.end and e.end <= expiry else ("过期" if expiry < self.d0 else "有效")
        return [rid, op, hyphen_org(e.org), e.name_at(day), "企业非法人" if e.branch else "企业法人",
                e.rep_name, e.address, iso(day), iso(expiry), state]

    def record_enterprise(self, e: Ent, item: Item) -> str:
        return "" if item[1] else e.eid

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[9] = "注销" if fields[9] != "注销" else "过期"


_PRODUCTS = ("塑料制品", "电线电缆", "儿童玩具", "化肥", "建筑用钢筋", "家用电器", "服装", "食品用包装",
             "农机具", "涂料")
_DEFECTS = ("色牢度", "标志标识", "绝缘电阻", "抗拉强度", "有害物质含量", "耐久性")


class ProductInspections(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        days = (_events(rng, max(e.est, date(2012, 1, 1).toordinal()), e.end or self.last, 0.2)
                if e.industry_flags & MAKER else [])
        items: list[Item] = [(d, rng.choice(_PRODUCTS), rng.random() < 0.18, rng.choice(_DEFECTS))
                             for d in days]
        if e.flags & F_MULTI_PEN:  # one of several penalties within a year (A8)
            items.append((_multi_pen_day(e, 0), rng.choice(_PRODUCTS), True, rng.choice(_DEFECTS)))
        if e.plant in A8_PLANTS:  # only the planted failures (A8), and inspections passed
            items = [(d, product, False, defect) for d, product, _, defect in items]
            items += [(d, rng.choice(_PRODUCTS), True, rng.choice(_DEFECTS))
                      for d in e.memo["penalties"].get("quality", ())]
            items += [(d, rng.choice(_PRODUCTS), False, rng.choice(_DEFECTS))
                      for d in e.memo.get("passed", ())]
        return sorted(items)

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day, product, failed, defect = item
        code = e.uscc if e.uscc and day >= e.uscc_date else hyphen_org(e.org)
        return [rid, op, code, e.name_at(day), product, iso(day), "不合格" if failed else "合格",
                defect if failed else ""]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[6], fields[7] = "合格", ""


def _multi_pen_day(e: Ent, k: int) -> int:
    """Penalties of several agencies within one year (A8): days spread over about 200 days."""
    return max(e.est + 30, date(2023, 1, 1).toordinal() + (e.idx % 500)) + 70 * k


# --- customs -----------------------------------------------------------------------------

_HS = ("0303890090", "8471300000", "8708299000", "2710199100", "8517120000", "6204620000",
       "3901100000", "7208510000", "8544422900", "0306170000")
_PORTS = ("0900", "0901", "0940", "0801", "0810")


class CustomsDeclarations(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if not e.flags & F_TRADER:
            return []
        if e.plant in A2_REBUILT:
            return self._rebuilt(e, rng)
        start, stop = max(e.est, CUSTOMS_START), self.active_until(e, rng)
        lam = (0.3 + rng.random() * 1.2) * 1.25  # declarations a month (history since 2019)
        usd = rng.random() < 0.7
        scale = e.capital * (40.0 if not e.flags & F_LOW_VAT else 400.0)
        items = []
        y, m = _ym(start)
        while True:
            first = _month_start(y, m)
            if first > stop:
                break
            for _ in range(int(lam + rng.random())):
                day = first + int(rng.random() * 28)
                if start <= day <= stop:
                    value = scale * (0.2 + rng.random() * 2)
                    items.append((day, f"{rng.choice(_PORTS)}{date.fromordinal(day).year}"
                                  f"{int(rng.random() * 1e10):010d}",
                                  "E" if rng.random() < 0.6 else "I", "USD" if usd else "CNY",
                                  _money(value if usd else value * 7), rng.choice(_HS),
                                  rng.random() < 0.85))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        if e.plant:
            items = self._planted(e, rng, items, scale, usd)
        items.sort()
        return items

    def _planted(self, e: Ent, rng: random.Random, items: list[Item], scale: float,
                 usd: bool) -> list[Item]:
        """A1: a declaration the day after or on the 核准日期; A4: declarations around the listing."""
        day = None
        if e.plant == P_A1_NEXT_DAY:
            day = e.end + 1
        elif e.plant == P_A1_SAME_DAY:
            day = e.end
        elif e.plant in (P_A4_AFTER, P_A4_REMOVED):
            day = e.memo["after"]
        elif e.plant in (P_A4_ON_DAY, P_A4_BEFORE):  # trading stops with the listing (or the day before)
            day = e.memo["listed"] - (1 if e.plant == P_A4_BEFORE else 0)
            items = [item for item in items if item[0] < day]
        if day is not None:
            value = scale * (0.2 + rng.random() * 2)
            items.append(_declaration(rng, day, "USD" if usd else "CNY", _money(value if usd else value * 7)))
        return items

    def _rebuilt(self, e: Ent, rng: random.Random) -> list[Item]:
        """A2: customs values made from the VAT sales of each year, one year at the edge."""
        sales = {y: s for y, s in e.memo.get("sales", {}).items() if s > 0}
        if not sales:
            return []
        est_year = date.fromordinal(e.est).year
        full = [y for y in sorted(sales) if est_year < y <= 2025] or sorted(sales)
        special = rng.choice(full)
        currency = "CNY" if e.plant == P_A2_EQUAL else "USD"
        items = []
        for year, vat in sorted(sales.items()):
            if year == special:
                if e.plant == P_A2_EQUAL:  # exactly 5 x VAT, whole yuan
                    total = 5 * vat
                elif e.plant == P_A2_USD_OVER:  # x7 just above 5 x VAT, unconverted far below
                    total = 5 * vat // 7 + 1
                else:  # x7 just below 5 x VAT
                    total = 5 * vat // 7 - 1
            else:
                total = int(vat * (0.2 + rng.random()) / (1 if currency == "CNY" else 7))
            whole = currency == "CNY"
            if (total // 100 if whole else total) <= 0:
                continue
            parts = _split(total // 100 if whole else total, 1 + int(rng.random() * 4), rng)
            lo = max(e.est, date(year, 1, 1).toordinal())
            hi = min(date(year, 12, 31).toordinal(), self.d0 - 1)
            days = sorted(lo + int(rng.random() * (hi - lo + 1)) for _ in parts)
            items += [_declaration(rng, day, currency, _yuan(part * 100 if whole else part))
                      for day, part in zip(days, parts, strict=True)]
        items.sort()
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        scc = e.uscc if item[6] and e.uscc and day >= e.uscc_date else ""
        return [rid, op, item[1], e.customs, e.name_at(day), scc, item[2], compact(day),
                item[3], item[4], item[5]]


def _declaration(rng: random.Random, day: int, currency: str, value: str) -> Item:
    return (day, f"{rng.choice(_PORTS)}{date.fromordinal(day).year}{int(rng.random() * 1e10):010d}",
            "E" if rng.random() < 0.6 else "I", currency, value, rng.choice(_HS), rng.random() < 0.85)


_LEVELS = ("高级认证企业", "一般认证企业", "一般信用企业", "一般信用企业", "失信企业")


class CustomsCreditRatings(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if not e.flags & F_TRADER:
            return []
        days = [max(e.est, CUSTOMS_START) + int(rng.random() * 200)]
        days += _events(rng, days[0] + 365, e.end or self.last, 0.15)
        return [(d, rng.choice(_LEVELS)) for d in days if d <= self.last]

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        return [rid, op, e.customs, e.uscc if e.uscc and day >= e.uscc_date else "",
                e.name_at(day), item[1], iso(day)]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[5] = rng.choice([lv for lv in _LEVELS if lv != fields[5]])


# --- construction ------------------------------------------------------------------------

_QUALIFICATIONS = ("建筑装修装饰工程专业承包二级", "地基基础工程专业承包三级", "钢结构工程专业承包三级",
                   "建筑工程施工总承包三级", "市政公用工程施工总承包二级")


class Qualifications(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if not e.industry_flags & CONSTRUCTION:
            return []
        items = []
        cert = f"D2{e.region[:2]}{e.idx % 1000000:06d}"
        day = max(e.est + 30, date(2005, 1, 1).toordinal()) + int(rng.random() * 200)
        issuer = rng.choice(("辽宁省住房和城乡建设厅", f"{e.city}市城乡建设局"))
        stop = e.end or self.last
        while day <= stop:
            items.append((day, cert, rng.choice(_QUALIFICATIONS), issuer))
            day += 5 * 365 + int(rng.random() * 40)
        if e.plant in A3_PLANTS and items:  # the debtor record is published around it (A3)
            e.memo["last_issue"] = items[-1][0]
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        has_uscc = bool(e.uscc) and day >= e.uscc_date
        org = hyphen_org(e.org) if not has_uscc or e.idx % 2 else ""
        return [rid, op, e.name_at(day), e.uscc if has_uscc else "", org, item[1], item[2],
                iso(day), iso(day + 5 * 365 - 2), item[3]]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[6] = rng.choice(_QUALIFICATIONS)


_VIOLATIONS = ("违反工程建设强制性标准", "未取得施工许可证擅自施工", "转包或违法分包工程",
               "未按规定办理竣工验收备案")
_DECISIONS = ("责令改正，罚款", "责令停业整顿", "降低资质等级", "通报批评")


class Violations(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        days = (_events(rng, max(e.est, COURT_START), e.end or self.last, 0.04)
                if e.industry_flags & CONSTRUCTION else [])
        if e.flags & F_MULTI_PEN:
            days.append(_multi_pen_day(e, 1))
        if e.plant in A8_PLANTS:  # only the planted penalties (A8)
            days = list(e.memo["penalties"].get("construction", ()))
        return [(d, f"{e.city}市{rng.choice(('滨河家园', '锦绣华庭', '阳光花园', '翰林苑'))}"
                 f"{int(rng.random() * 9) + 1}期工程", rng.choice(_VIOLATIONS), rng.choice(_DECISIONS))
                for d in sorted(days)]

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        return [rid, op, e.name_at(day), e.uscc if e.uscc and day >= e.uscc_date else "",
                item[1], item[2], item[3], iso(day)]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[6] = rng.choice(_DECISIONS)


# --- food_drug ---------------------------------------------------------------------------

_SCOPES = ("热食类食品制售", "散装食品销售", "预包装食品销售", "药品零售", "保健食品销售")


def _fd_code(e: Ent, day: int) -> str:
    """The licensee gives whatever code it has: unified code, registration number or org code."""
    if e.uscc and day >= e.uscc_date:
        return e.uscc
    return e.regno if e.idx % 3 else hyphen_org(e.org)


class Licenses(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if not e.industry_flags & FOOD_DRUG:
            return []
        items = []
        prefix = "JY" if e.industry in ("餐饮管理", "超市", "酒店管理", "大药房") else "SC"
        number = f"{prefix}1{e.region}{e.idx % 10 ** 7:07d}"
        day = max(e.est + 20, date(2010, 1, 1).toordinal()) + int(rng.random() * 100)
        stop = e.end or self.last
        while day <= stop:
            items.append((day, number, rng.choice(_SCOPES)))
            day += 5 * 365 + int(rng.random() * 60)
        if e.plant in A3_PLANTS and items:  # the debtor record is published around it (A3)
            e.memo["last_issue"] = items[-1][0]
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        return [rid, op, item[1], e.name_at(day), _fd_code(e, day), e.rep_name, e.address,
                item[2], iso(day), iso(day + 5 * 365 - 3)]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[7] = rng.choice(_SCOPES)


_FD_OFFENCES = ("未按规定进行食品进货查验记录", "经营超过保质期的食品", "未取得许可从事食品经营",
                "药品储存不符合规定")


class Penalties(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        days = (_events(rng, max(e.est, COURT_START), e.end or self.last, 0.04)
                if e.industry_flags & FOOD_DRUG else [])
        if e.flags & F_MULTI_PEN:
            days.append(_multi_pen_day(e, 2))
        if e.plant in A8_PLANTS:
            days = list(e.memo["penalties"].get("food_drug", ()))
        items = []
        for d in sorted(days):
            amount = 1000 * (1 + int(rng.random() * 50))
            number = f"{e.city[0]}市监罚〔{date.fromordinal(d).year}〕{int(rng.random() * 900) + 1}号"
            items.append((d, number,
                          rng.choice(_FD_OFFENCES), f"没收违法所得，罚款{amount}元", str(amount)))
        return items

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        return [rid, op, item[1], e.name_at(day), _fd_code(e, day), item[2], item[3], item[4],
                iso(day)]


# --- price -------------------------------------------------------------------------------

_PRICE_FACTS = ("收费不公示", "不执行政府指导价", "虚构原价", "价格欺诈", "未明码标价")
_PRICE_BASIS = ("《价格违法行为行政处罚规定》第十三条", "《价格违法行为行政处罚规定》第七条",
                "《中华人民共和国价格法》第四十二条")


class PriceViolations(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        days = (_events(rng, max(e.est, COURT_START), e.end or self.last, 0.012)
                if e.industry_flags & RETAIL else [])
        if e.flags & F_MULTI_PEN:
            days.append(_multi_pen_day(e, 3))
        if e.plant in A8_PLANTS:
            days = list(e.memo["penalties"].get("price", ()))
        return [(d, rng.choice(_PRICE_FACTS), rng.choice(_PRICE_BASIS),
                 str(500 * (1 + int(rng.random() * 20))), rng.random()) for d in sorted(days)]

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day, fact, basis, amount, habit = item
        # The pricing bureau's habit: a short or colloquial name, and often no code at all.
        name = e.name_at(day) if habit < 0.55 or e.branch else (
            e.short_name() if habit < 0.8 else e.city + e.trade)
        code = "" if habit > 0.5 else (e.uscc or e.regno)
        return [rid, op, name, code, fact, basis, amount, iso(day)]


# --- public_security ---------------------------------------------------------------------

_SEALS = ("公章", "财务专用章", "合同专用章", "发票专用章", "法定代表人名章")


class SealFilings(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        first = max(e.est, date(1998, 1, 1).toordinal())
        items = [(first, s) for s in rng.sample(_SEALS, 2 + int(rng.random() * 3))]
        items += [(until + 5, "公章") for until, _ in e.names if until + 5 <= self.last]
        items += [(d, rng.choice(_SEALS)) for d in _events(rng, first + 30, e.end or self.last, 0.04)]
        return sorted(items)

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day = item[0]
        code = e.uscc if e.uscc and day >= e.uscc_date else e.regno
        return [rid, op, e.name_at(day), code, e.rep_name, e.rep_id, item[1], iso(day)]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[6] = rng.choice(_SEALS)


# --- court -------------------------------------------------------------------------------

_CAUSES = ("借款合同纠纷", "买卖合同纠纷", "房屋租赁合同纠纷", "追索劳动报酬纠纷", "建设工程施工合同纠纷",
           "服务合同纠纷")


def _court(e: Ent) -> tuple[str, str]:
    code = e.region if not e.region.endswith("00") else e.region[:4] + "02"
    district = next((d for d in DISTRICTS if d[0] == code), DISTRICTS[0])
    return code[2:], f"{CITIES[district[1]][1]}市{district[2]}人民法院"


class Judgments(Builder):
    per_item_enterprise = True

    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        items = []
        for day in _events(rng, max(e.est + 60, COURT_START), e.end or self.last, 0.09):
            parties: list[tuple[str, Any]] = [("self", None)]
            other = self._counterparty(e, day, rng) if rng.random() < 0.6 else None
            parties.append(("other", other) if other is not None else ("person", _person(rng)))
            rng.shuffle(parties)
            if rng.random() < 0.1:
                parties.append(("person", _person(rng)))
            items.append((day, rng.choice(_CAUSES), _money(2000 + rng.random() * 500000),
                          int(rng.random() * 9000) + 100, tuple(parties)))
        return items

    def _counterparty(self, e: Ent, day: int, rng: random.Random) -> int | None:
        """Another enterprise that existed on ``day`` (a few draws; None: a person instead).
        A judgment cannot name an enterprise before its founding or after its end."""
        for _ in range(5):
            other = int(rng.random() * self.w.n)
            end = int(self.w.end[other])
            if other != e.idx and int(self.w.est[other]) <= day and (end == 0 or day < end):
                return other
        return None

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        day, cause, amount, number, parties = item
        court_code, court = _court(e)
        roles = ("原告", "被告", "第三人")
        out = []
        for n, (kind, ref) in enumerate(parties):
            if kind == "self":
                name = e.name_at(day)
                if self.inj.rng.random() < self.inj.name_rate:
                    problem, varied = self.inj.vary_name(name, e, day)
                    if varied is not None:
                        name = varied
                        self.inj.counts[problem] += 1
                ptype = "法人"
            elif kind == "other":
                name, ptype = enterprise_name(self.w, ref, day), "法人"
            else:
                name, ptype = ref, "自然人"
            out.append(f'{{"name": "{name}", "role": "{roles[min(n, 2)]}", "type": "{ptype}"}}')
        case = f"（{date.fromordinal(day).year}）辽{court_code}民初{number}号"
        return [rid, op, case, court, cause, iso(day), amount, "[" + ", ".join(out) + "]"]

    def parties(self, e: Ent, item: Item) -> list[str] | None:
        return [e.eid if kind == "self" else f"E{ref:07d}" if kind == "other" else ""
                for kind, ref in item[4]]


_PERFORMANCE = ("全部未履行", "全部未履行", "全部未履行", "部分未履行", "部分未履行", "已履行")
_CONDUCT = ("有履行能力而拒不履行生效法律文书确定义务", "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
            "违反财产报告制度", "违反限制消费令")


class DishonestDebtors(Builder):
    def history(self, e: Ent, rng: random.Random) -> list[Item]:
        if e.plant:
            planted = self._planted(e, rng)
            if planted is not None:
                return planted
        rate = 0.004 if not e.end else 0.02
        items = []
        for day in _events(rng, max(e.est + 200, COURT_START), e.end or self.last, rate):
            published = day + 20 + int(rng.random() * 90)
            if published <= self.last:
                items.append((published, day, int(rng.random() * 9000) + 100,
                              rng.choice(_PERFORMANCE), rng.choice(_CONDUCT)))
        return items

    def _planted(self, e: Ent, rng: random.Random) -> list[Item] | None:
        """The one record of the A3 and A7 debtors; none for A7's other enterprises."""
        if e.plant in A7_PARTNERS:
            return []
        if e.plant in A3_PLANTS:
            record = debtor_record(e, rng)
        elif e.plant in (P_A7_DEBTOR, P_A7_NEAR_DEBTOR):
            record = e.memo["debtor"]
        else:
            return None
        if record is None:
            return []
        published, performance = record
        return [(published, published - 20 - int(rng.random() * 90), int(rng.random() * 9000) + 100,
                 performance, rng.choice(_CONDUCT))]

    def row(self, e: Ent, item: Item, rid: str, op: str, as_of: int) -> list[str]:
        published, filed, number, performance, conduct = item
        court_code, court = _court(e)
        code = e.uscc if e.uscc and filed >= e.uscc_date else hyphen_org(e.org)
        return [rid, op, f"（{date.fromordinal(filed).year}）辽{court_code}执{number}号",
                e.name_at(filed), code, e.rep_name, court, iso(filed), iso(published),
                performance, conduct]

    def mutate(self, fields: list[str], rng: random.Random, day: int) -> None:
        fields[9] = "已履行" if fields[9] != "已履行" else "部分未履行"


BUILDERS: tuple[type[Builder], ...] = (
    Registrations, NameChanges, AbnormalOperations, VatReturns, StateCreditRatings,
    LocalDeclarations, Arrears, OrgCodeCertificates, ProductInspections, CustomsDeclarations,
    CustomsCreditRatings, Qualifications, Violations, Licenses, Penalties, PriceViolations,
    SealFilings, Judgments, DishonestDebtors,
)
FEEDS_BY_BUILDER = dict(zip(BUILDERS, FEEDS, strict=True))
Factory = Callable[[World, Injector], Builder]
