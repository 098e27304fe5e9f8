"""The synthetic world: Liaoning enterprises, their codes, names, people and life events.

The world is a set of compact numpy arrays (one entry per enterprise or person) built once
in the parent process and handed to each worker process once, as it starts. Strings are only made
when a worker turns one enterprise into an :class:`Ent` for the records it writes, so memory
stays flat (about 100 bytes per enterprise) even at 750,000 enterprises.

The world also plants the cross-audit cases of AUDITS.md (``plant``, scenarios ``P_*``): which
enterprises, and the flags, customs codes and legal representatives they need; audits.py
describes the scenarios and computes the exact truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from xinyong.ids import (
    USCC_ALPHABET,
    idcard_check_char,
    org_check_char,
    regno_check_digit,
    uscc_check_char,
)

# --- static tables ------------------------------------------------------------------------

# city code, city name, weight, districts (2-digit suffix, name)
CITIES: tuple[tuple[str, str, float, tuple[tuple[str, str], ...]], ...] = (
    ("2101", "沈阳", 0.25, (("02", "和平区"), ("03", "沈河区"), ("04", "大东区"), ("05", "皇姑区"),
        ("06", "铁西区"), ("11", "苏家屯区"), ("12", "浑南区"), ("13", "沈北新区"),
        ("14", "于洪区"), ("15", "辽中区"), ("23", "康平县"), ("24", "法库县"), ("81", "新民市"))),
    ("2102", "大连", 0.24, (("02", "中山区"), ("03", "西岗区"), ("04", "沙河口区"),
        ("11", "甘井子区"), ("12", "旅顺口区"), ("13", "金州区"), ("14", "普兰店区"),
        ("24", "长海县"), ("81", "瓦房店市"), ("83", "庄河市"))),
    ("2103", "鞍山", 0.08, (("02", "铁东区"), ("03", "铁西区"), ("04", "立山区"), ("11", "千山区"),
        ("21", "台安县"), ("23", "岫岩满族自治县"), ("81", "海城市"))),
    ("2104", "抚顺", 0.05, (("02", "新抚区"), ("03", "东洲区"), ("04", "望花区"), ("11", "顺城区"),
        ("21", "抚顺县"), ("22", "新宾满族自治县"), ("23", "清原满族自治县"))),
    ("2105", "本溪", 0.03, (("02", "平山区"), ("03", "溪湖区"), ("04", "明山区"), ("05", "南芬区"),
        ("21", "本溪满族自治县"), ("22", "桓仁满族自治县"))),
    ("2106", "丹东", 0.05, (("02", "元宝区"), ("03", "振兴区"), ("04", "振安区"),
        ("24", "宽甸满族自治县"), ("81", "东港市"), ("82", "凤城市"))),
    ("2107", "锦州", 0.05, (("02", "古塔区"), ("03", "凌河区"), ("11", "太和区"), ("26", "黑山县"),
        ("27", "义县"), ("81", "凌海市"), ("82", "北镇市"))),
    ("2108", "营口", 0.06, (("02", "站前区"), ("03", "西市区"), ("04", "鲅鱼圈区"), ("11", "老边区"),
        ("81", "盖州市"), ("82", "大石桥市"))),
    ("2109", "阜新", 0.03, (("02", "海州区"), ("03", "新邱区"), ("04", "太平区"), ("05", "清河门区"),
        ("11", "细河区"), ("21", "阜新蒙古族自治县"), ("22", "彰武县"))),
    ("2110", "辽阳", 0.03, (("02", "白塔区"), ("03", "文圣区"), ("04", "宏伟区"), ("05", "弓长岭区"),
        ("11", "太子河区"), ("21", "辽阳县"), ("81", "灯塔市"))),
    ("2111", "盘锦", 0.04, (("02", "双台子区"), ("03", "兴隆台区"), ("04", "大洼区"), ("22", "盘山县"))),
    ("2112", "铁岭", 0.03, (("02", "银州区"), ("04", "清河区"), ("21", "铁岭县"), ("23", "西丰县"),
        ("24", "昌图县"), ("81", "调兵山市"), ("82", "开原市"))),
    ("2113", "朝阳", 0.03, (("02", "双塔区"), ("03", "龙城区"), ("21", "朝阳县"), ("22", "建平县"),
        ("24", "喀喇沁左翼蒙古族自治县"), ("81", "北票市"), ("82", "凌源市"))),
    ("2114", "葫芦岛", 0.03, (("02", "连山区"), ("03", "龙港区"), ("04", "南票区"), ("21", "绥中县"),
        ("22", "建昌县"), ("81", "兴城市"))),
)

# One row per district: (6-digit code, city index, district name, short name for branches).
DISTRICTS: list[tuple[str, int, str, str]] = []
for _ci, (_cc, _cn, _w, _ds) in enumerate(CITIES):
    for _suffix, _dn in _ds:
        _short = _dn[:-1] if len(_dn) > 2 and not _dn.endswith("自治县") else _dn[:2]
        DISTRICTS.append((_cc + _suffix, _ci, _dn, _short))

# Industry word, GB/T 4754 code, flags, share of enterprises that trade across the border.
TRADER, CONSTRUCTION, FOOD_DRUG, MAKER, RETAIL = 1, 2, 4, 8, 16
INDUSTRIES: tuple[tuple[str, str, int, float], ...] = (
    ("科技", "I6513", 0, 0.03), ("网络科技", "I6420", 0, 0.0), ("信息技术", "I6510", 0, 0.0),
    ("贸易", "F5191", RETAIL, 0.30), ("进出口贸易", "F5191", 0, 0.95), ("商贸", "F5199", RETAIL, 0.15),
    ("物业管理", "K7020", RETAIL, 0.0), ("房地产开发", "K7010", 0, 0.0), ("建材", "F5165", RETAIL, 0.05),
    ("机械制造", "C3490", MAKER, 0.25), ("电子", "C3971", MAKER, 0.30), ("化工", "C2614", MAKER, 0.25),
    ("服装", "C1810", MAKER, 0.35), ("食品", "C1499", MAKER | FOOD_DRUG, 0.10),
    ("大药房", "F5251", FOOD_DRUG | RETAIL, 0.0), ("医药", "F5151", FOOD_DRUG, 0.10),
    ("餐饮管理", "H5610", FOOD_DRUG | RETAIL, 0.0), ("超市", "F5211", FOOD_DRUG | RETAIL, 0.02),
    ("酒店管理", "H6110", FOOD_DRUG | RETAIL, 0.0), ("装饰工程", "E5011", CONSTRUCTION, 0.0),
    ("建设工程", "E4811", CONSTRUCTION, 0.0), ("钢结构", "E4790", CONSTRUCTION | MAKER, 0.05),
    ("运输", "G5430", 0, 0.0), ("物流", "G5990", 0, 0.10), ("广告", "L7251", 0, 0.0),
    ("文化传媒", "L7259", 0, 0.0), ("汽车销售", "F5261", RETAIL, 0.05), ("农业发展", "A0190", 0, 0.0),
    ("水产", "A0411", MAKER, 0.30), ("教育咨询", "P8399", RETAIL, 0.0), ("环保科技", "N7724", 0, 0.0),
)
FORMS = ("有限公司", "有限责任公司", "股份有限公司")
FORM_WEIGHTS = (0.47, 0.40, 0.13)
ETYPES_LLC = ("有限责任公司(自然人投资或控股)", "有限责任公司(自然人独资)", "有限责任公司(法人独资)",
              "其他有限责任公司", "有限责任公司(国有独资)")
ETYPES_SHARE = ("股份有限公司(非上市、自然人投资或控股)", "股份有限公司(非上市、国有控股)")
ETYPES_BRANCH = ("有限责任公司分公司(自然人投资或控股)", "其他有限责任公司分公司",
                 "股份有限公司分公司(非上市、自然人投资或控股)")

# Characters for trade names (字号). Two or three of them make one 字号.
TRADE_CHARS = "".join(dict.fromkeys(  # distinct characters: a 字号 id is one spelling
    "华鑫金达兴盛源恒隆昌顺通泰祥瑞丰宏远航嘉信诚德润安和永正天宇海博创新中东辰星晨阳光明亿万佳"
    "美福康乐益利同成众合力卓越鹏程腾飞凯旋锦绣荣耀世纪宝鼎汇聚智慧云峰晟澜禾睿铭轩弘毅尚品优联"
    "邦翔骏龙凤麒麟祺裕长胜百叁三名珠慷帝森林泽涛章沃"))
# Characters only GB18030 (not GBK) can encode, used in a few trade names.
RARE_CHARS = "𠀾䶮𪚥𤭢𠮷㐀"
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁"
    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红梅鑫博宇浩凯健俊帆帅旭宁龙林欣佳雪"
    "婷晓海成志德宏凤建国庆春秋文武东辉斌亮鹏飞晨阳光"
)
STREETS = ("中山路", "人民路", "解放路", "和平路", "青年大街", "站前街", "友谊街", "胜利路", "建设东路",
           "光明街", "文化路", "商业街", "中华路", "兴隆大街", "东北路", "黄河路", "长江路", "北京街",
           "新华路", "民主路")
STATUSES = ("存续", "在业", "吊销", "注销", "迁出")
ALIVE, OPERATING, REVOKED, CANCELLED, MOVED = range(5)

# Enterprise flags (bit field): behaviour the audits look at.
F_TRADER, F_ZOMBIE, F_RARE, F_NO_VAT, F_NO_LOCAL, F_LOW_VAT, F_MULTI_PEN, F_MONTHLY = (
    1 << i for i in range(8))

# Planted audit cases (AUDITS.md A1-A8, see audits.py): one scenario per planted enterprise.
# "pos" scenarios meet the audit's rule, "near" ones are its near misses (must not be reported).
(P_NONE, P_A1_ZOMBIE, P_A1_NEXT_DAY, P_A1_SAME_DAY, P_A2_LOW_VAT, P_A2_USD_OVER, P_A2_EQUAL,
 P_A2_WITHIN, P_A3_AFTER, P_A3_PARTIAL, P_A3_SAME_DAY, P_A4_AFTER, P_A4_ON_DAY, P_A4_REMOVED,
 P_A4_BEFORE, P_A5_TWELVE, P_A5_MANY, P_A5_ELEVEN, P_A5_OPERATING, P_A6_SAME_YEAR, P_A6_OTHER_YEAR,
 P_A6_RATED_B, P_A7_DEBTOR, P_A7_PARTNER, P_A7_NEAR_DEBTOR, P_A7_NEAR_CANCELLED,
 P_A7_NEAR_OPERATING, P_A8_EDGE, P_A8_SPREAD, P_A8_PASSED) = range(30)
# scenario -> (audit, "pos" or "near")
SCENARIOS: dict[int, tuple[str, str]] = {
    P_A1_ZOMBIE: ("A1", "pos"), P_A1_NEXT_DAY: ("A1", "pos"), P_A1_SAME_DAY: ("A1", "near"),
    P_A2_LOW_VAT: ("A2", "pos"), P_A2_USD_OVER: ("A2", "pos"), P_A2_EQUAL: ("A2", "near"),
    P_A2_WITHIN: ("A2", "near"),
    P_A3_AFTER: ("A3", "pos"), P_A3_PARTIAL: ("A3", "near"), P_A3_SAME_DAY: ("A3", "near"),
    P_A4_AFTER: ("A4", "pos"), P_A4_ON_DAY: ("A4", "pos"), P_A4_REMOVED: ("A4", "near"),
    P_A4_BEFORE: ("A4", "near"),
    P_A5_TWELVE: ("A5", "pos"), P_A5_MANY: ("A5", "pos"), P_A5_ELEVEN: ("A5", "near"),
    P_A5_OPERATING: ("A5", "near"),
    P_A6_SAME_YEAR: ("A6", "pos"), P_A6_OTHER_YEAR: ("A6", "near"), P_A6_RATED_B: ("A6", "near"),
    P_A7_DEBTOR: ("A7", "pos"), P_A7_PARTNER: ("A7", "pos"), P_A7_NEAR_DEBTOR: ("A7", "near"),
    P_A7_NEAR_CANCELLED: ("A7", "near"), P_A7_NEAR_OPERATING: ("A7", "near"),
    P_A8_EDGE: ("A8", "pos"), P_A8_SPREAD: ("A8", "near"), P_A8_PASSED: ("A8", "near"),
}

HISTORY_FLOOR = date(1990, 1, 1).toordinal()
USCC_REFORM = date(2015, 10, 1).toordinal()
BRANCH_SHARE = 0.06


@dataclass
class World:
    """Enterprise and person attributes as parallel arrays (index = truth enterprise number)."""

    n: int
    nights: tuple[int, ...]          # batch dates as ordinals
    district: np.ndarray             # index into DISTRICTS
    city_level: np.ndarray           # registered by the city authority (region code XXXX00)
    trade: np.ndarray                # 字号 as char indices c1 + C*c2 + C*C*(c3+1)
    industry: np.ndarray
    form: np.ndarray
    style: np.ndarray                # 0 city prefix, 1 trade(city), 2 辽宁 prefix
    est: np.ndarray
    end: np.ndarray                  # ordinal of 注销/吊销/迁出, 0 while alive
    status: np.ndarray
    approve: np.ndarray              # 核准日期
    kind: np.ndarray                 # 0 regno only, 1 uscc only, 2 both
    uscc_date: np.ndarray
    org_num: np.ndarray
    regno_num: np.ndarray
    customs_num: np.ndarray          # -1 for non-traders
    rep: np.ndarray                  # person index of the legal representative
    head: np.ndarray                 # head office index for branches, else -1
    etype: np.ndarray
    capital: np.ndarray              # 万元
    flags: np.ndarray
    plant: np.ndarray                # planted audit scenario (P_*), 0 = none
    former: np.ndarray               # (n, 2, 3): trade, industry, style of former names, -1 = none
    change: np.ndarray               # (n, 2): ordinal of each change, 0 = none
    p_surname: np.ndarray
    p_given: np.ndarray              # g1 + G*(g2+1)
    p_district: np.ndarray
    p_birth: np.ndarray
    p_seq: np.ndarray


def build_world(n: int, seed: int, nights: tuple[int, ...], rare_share: float) -> World:
    rng = np.random.default_rng([seed, 1])
    d0, last = nights[0], nights[-1]
    n_trade = len(TRADE_CHARS)

    city_w = np.array([c[2] for c in CITIES])
    city = rng.choice(len(CITIES), n, p=city_w / city_w.sum())
    first_district = np.cumsum([0] + [len(c[3]) for c in CITIES])[:-1]
    district = first_district[city] + (rng.random(n) * np.array([len(c[3]) for c in CITIES])[city])
    district = district.astype(np.int16)
    city_level = rng.random(n) < 0.3

    industry = rng.integers(0, len(INDUSTRIES), n).astype(np.int8)
    form = rng.choice(len(FORMS), n, p=FORM_WEIGHTS).astype(np.int8)
    style = rng.choice(3, n, p=(0.82, 0.13, 0.05)).astype(np.int8)
    trade = _unique_trades(rng, city, industry, n_trade)

    # Founding dates: growth over the years, a few founded during the delivered nights.
    year_pos = rng.beta(2.4, 1.0, n)
    est = (HISTORY_FLOOR + year_pos * (d0 - 30 - HISTORY_FLOOR)).astype(np.int32)
    branch = rng.random(n) < BRANCH_SHARE
    branch[0] = False
    for night in nights[1:]:
        picks = rng.choice(n, max(1, n // 5000), replace=False)
        est[picks] = night
        branch[picks] = False

    head = np.full(n, -1, np.int32)
    heads = np.flatnonzero(~branch)
    head[branch] = heads[rng.integers(0, len(heads), int(branch.sum()))]
    hb = np.flatnonzero(branch)
    est[hb] = np.maximum(est[hb], np.minimum(est[head[hb]] + 60, d0 - 1))
    industry[hb] = industry[head[hb]]
    form[hb] = form[head[hb]]
    trade[hb] = trade[head[hb]]

    _distinct_names(rng, branch, head, district, style, trade, industry)
    status, end, approve = _life(rng, est, nights)
    for night in nights[1:]:  # a deregistration on every delta night
        alive = np.flatnonzero((end == 0) & (est < d0 - 400))
        if len(alive):
            pick = alive[rng.integers(0, len(alive))]
            end[pick], status[pick], approve[pick] = night, CANCELLED, night

    kind = np.where(est >= USCC_REFORM, 1, 0).astype(np.int8)
    reissue = (kind == 0) & ((end == 0) | (end > date(2016, 6, 1).toordinal())) & (rng.random(n) < 0.92)
    kind[reissue] = 2
    uscc_date = np.where(kind == 1, est, 0).astype(np.int32)
    lo = np.maximum(est, USCC_REFORM)
    hi = np.maximum(lo + 1, np.minimum(date(2017, 12, 31).toordinal(), np.where(end > 0, end, last)))
    uscc_date[reissue] = (lo + rng.random(n) * (hi - lo))[reissue].astype(np.int32)

    # Numeric organization codes stay below 9xxxxxxx, which institutions (not enterprises) use.
    org_num = np.where(kind == 1, _unique_ints(rng, n, 31 ** 6),
                       10 ** 7 + _unique_ints(rng, n, 8 * 10 ** 7))
    regno_num = _unique_ints(rng, n, 10 ** 8)

    trader_share = np.array([ind[3] for ind in INDUSTRIES])[industry]
    trader = (rng.random(n) < trader_share) & ~branch
    customs_num = np.where(trader, _unique_ints(rng, n, 10 ** 6), -1).astype(np.int32)

    n_people = max(10, int(n * 0.85))
    rep = rng.integers(0, n_people, n).astype(np.int32)
    serial = rng.random(n) < 0.06  # people who represent several enterprises
    rep[serial] = rng.integers(0, max(1, n_people // 40), int(serial.sum()))
    same_rep = branch & (rng.random(n) < 0.5)
    rep[same_rep] = rep[head[same_rep]]

    etype = np.where(form == 2, rng.integers(0, len(ETYPES_SHARE), n),
                     rng.integers(0, len(ETYPES_LLC), n)).astype(np.int8)
    etype[hb] = np.where(form[hb] == 2, 2, rng.integers(0, 2, len(hb)))
    capital = rng.choice(np.array([10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000]), n).astype(np.int32)

    flags = np.zeros(n, np.int32)
    flags[trader] |= F_TRADER
    dead = end > 0
    flags[dead & (rng.random(n) < 0.05)] |= F_ZOMBIE
    flags[rng.random(n) < 0.14] |= F_NO_VAT
    flags[rng.random(n) < 0.03] |= F_NO_LOCAL
    flags[trader & (rng.random(n) < 0.10)] |= F_LOW_VAT
    flags[rng.random(n) < 0.004] |= F_MULTI_PEN
    flags[rng.random(n) < 0.15] |= F_MONTHLY
    # A separate stream so the rest of the world does not depend on the problem rate.
    rare_rng = np.random.default_rng([seed, 2])
    flags[(rare_rng.random(n) < rare_share) & ~branch] |= F_RARE

    former, change = _name_changes(rng, n, branch, est, end, nights, trade, industry, style, n_trade)

    p_district = rng.integers(0, len(DISTRICTS), n_people).astype(np.int16)
    p_birth = rng.integers(date(1950, 1, 1).toordinal(), date(2000, 12, 31).toordinal(), n_people)
    world = World(
        n=n, nights=nights, district=district, city_level=city_level, trade=trade,
        industry=industry, form=form, style=style, est=est, end=end, status=status,
        approve=approve, kind=kind, uscc_date=uscc_date, org_num=org_num, regno_num=regno_num,
        customs_num=customs_num, rep=rep, head=head, etype=etype, capital=capital, flags=flags,
        plant=np.zeros(n, np.int8), former=former, change=change,
        p_surname=rng.integers(0, len(SURNAMES), n_people).astype(np.int16),
        p_given=(rng.integers(0, len(GIVEN_CHARS), n_people)
                 + len(GIVEN_CHARS) * rng.integers(0, len(GIVEN_CHARS) + 1, n_people)).astype(np.int32),
        p_district=p_district, p_birth=p_birth.astype(np.int32),
        p_seq=rng.integers(0, 1000, n_people).astype(np.int16),
    )
    # A separate stream: the world around the planted cases is the same as without them.
    _plant_audits(np.random.default_rng([seed, 3]), world)
    return world


# --- planted audit cases -------------------------------------------------------------------

# scenario, share of enterprises (pairs for A7), minimum count (small sets still get some)
_PLANT_RATES: tuple[tuple[int, float, int], ...] = (
    (P_A1_ZOMBIE, 0.0015, 3), (P_A1_NEXT_DAY, 0.001, 1), (P_A1_SAME_DAY, 0.0015, 2),
    (P_A2_LOW_VAT, 0.001, 1), (P_A2_USD_OVER, 0.0015, 3), (P_A2_EQUAL, 0.0008, 1),
    (P_A2_WITHIN, 0.0008, 1),
    (P_A3_AFTER, 0.0025, 3), (P_A3_PARTIAL, 0.0008, 1), (P_A3_SAME_DAY, 0.0008, 1),
    (P_A4_AFTER, 0.0015, 3), (P_A4_ON_DAY, 0.001, 1), (P_A4_REMOVED, 0.0008, 1),
    (P_A4_BEFORE, 0.0008, 1),
    (P_A5_TWELVE, 0.001, 2), (P_A5_MANY, 0.001, 1), (P_A5_ELEVEN, 0.0008, 1),
    (P_A5_OPERATING, 0.0008, 1),
    (P_A6_SAME_YEAR, 0.0025, 3), (P_A6_OTHER_YEAR, 0.0008, 1), (P_A6_RATED_B, 0.0008, 1),
    (P_A8_EDGE, 0.0025, 3), (P_A8_SPREAD, 0.0008, 1), (P_A8_PASSED, 0.0008, 1),
)
# A7 pairs: (debtor scenario, other enterprise's scenario, pairs per enterprise, minimum)
_PAIR_RATES = ((P_A7_DEBTOR, P_A7_PARTNER, 0.0012, 2),
               (P_A7_NEAR_DEBTOR, P_A7_NEAR_CANCELLED, 0.0006, 1),
               (P_A7_NEAR_DEBTOR, P_A7_NEAR_OPERATING, 0.0004, 1))


def _day(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal()


def _plant_audits(rng: np.random.Generator, w: World) -> None:
    """Choose the enterprises of the planted audit cases and give them what their scenario needs.

    Only flags, customs codes and legal representatives change here (statuses and dates are
    chosen among enterprises that already have them); the records themselves are shaped by
    the builders (agencies.py) from the scenario. At most half of the enterprises are planted:
    one case of every scenario first, then the rest, so that small sets get every scenario.
    """
    n, d0 = w.n, w.nights[0]
    budget = [n // 2]
    branch = w.head >= 0
    alive = w.end == 0
    dead = (w.end > 0) & ((w.status == REVOKED) | (w.status == CANCELLED))
    trader = w.customs_num >= 0
    privileged = (np.array([ind[2] for ind in INDUSTRIES])[w.industry] & (CONSTRUCTION | FOOD_DRUG)) != 0
    est = w.est
    traders_first = (P_A1_NEXT_DAY, P_A2_LOW_VAT, P_A2_USD_OVER, P_A2_EQUAL, P_A2_WITHIN,
                     P_A4_AFTER, P_A4_ON_DAY, P_A4_REMOVED, P_A4_BEFORE)

    masks = {
        P_A1_ZOMBIE: dead & (w.end >= _day(2019, 9, 1)) & (w.end <= d0 - 200),
        P_A1_NEXT_DAY: dead & ~branch & (w.end >= _day(2019, 3, 1)) & (w.end <= d0 - 30),
        P_A1_SAME_DAY: dead & (w.end >= _day(2019, 9, 1)) & (w.end <= d0 - 30),
        P_A3_AFTER: alive & privileged & (est <= d0 - 3 * 365),
        P_A5_OPERATING: alive & (w.status == OPERATING) & (est <= _day(2022, 1, 1)),
        # A7: the debtor, and the other enterprise of the same legal representative
        P_A7_DEBTOR: ~branch & (est <= d0 - 400),
        P_A7_PARTNER: ~branch & alive & (w.status == ALIVE),
        P_A7_NEAR_DEBTOR: ~branch & (est <= d0 - 400) & alive & (w.status == ALIVE),
        P_A7_NEAR_CANCELLED: ~branch & (w.status == CANCELLED) & (w.end > 0),
        P_A7_NEAR_OPERATING: ~branch & alive & (w.status == OPERATING),
    }
    masks[P_A3_PARTIAL] = masks[P_A3_SAME_DAY] = masks[P_A3_AFTER]
    for code in (P_A2_LOW_VAT, P_A2_USD_OVER, P_A2_EQUAL, P_A2_WITHIN):
        masks[code] = alive & ~branch & (est <= _day(2022, 1, 1))
    for code in (P_A4_AFTER, P_A4_ON_DAY, P_A4_REMOVED, P_A4_BEFORE):
        masks[code] = alive & ~branch & (est <= _day(2022, 6, 1))
    for code in (P_A5_TWELVE, P_A5_MANY, P_A5_ELEVEN):
        masks[code] = alive & (w.status == ALIVE) & (est <= _day(2022, 1, 1))
    for code in (P_A6_SAME_YEAR, P_A6_OTHER_YEAR, P_A6_RATED_B):
        masks[code] = alive & (est <= _day(2018, 1, 1))
    for code in (P_A8_EDGE, P_A8_SPREAD, P_A8_PASSED):
        masks[code] = alive & (est <= _day(2020, 6, 1))

    def pick(code: int, count: int) -> np.ndarray:
        count = min(count, budget[0])
        cand = np.flatnonzero(masks[code] & (w.plant == 0))
        if code in traders_first:
            ordered = np.concatenate([rng.permutation(cand[trader[cand]]),
                                      rng.permutation(cand[~trader[cand]])])
        else:
            ordered = rng.permutation(cand)
        chosen = ordered[:count]
        w.plant[chosen] = code
        budget[0] -= len(chosen)
        return chosen

    # Scarce pools first: deregistered enterprises, 在业, the construction and food trades.
    scarce = (P_A1_NEXT_DAY, P_A1_ZOMBIE, P_A1_SAME_DAY, P_A5_OPERATING, P_A3_AFTER, P_A3_PARTIAL,
              P_A3_SAME_DAY)
    singles = sorted(_PLANT_RATES, key=lambda r: r[0] not in scarce)
    chosen: dict[int, list[np.ndarray]] = {code: [] for code in SCENARIOS}
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for first_round in (True, False):
        for code, rate, minimum in singles:
            total = max(minimum, round(n * rate))
            chosen[code].append(pick(code, min(1, total) if first_round else total - 1))
        for debtor, other, rate, minimum in _PAIR_RATES:
            total = max(minimum, round(n * rate))
            ys = pick(other, min(1, total) if first_round else total - 1)
            xs = pick(debtor, len(ys))
            w.plant[ys[len(xs):]] = P_NONE
            budget[0] += len(ys) - len(xs)
            pairs.append((xs, ys[:len(xs)]))
            chosen[debtor].append(xs)
            chosen[other].append(ys[:len(xs)])
    planted = {code: np.concatenate(parts) for code, parts in chosen.items()}

    def with_flags(codes: tuple[int, ...], add: int = 0, remove: int = 0) -> None:
        for code in codes:
            w.flags[planted[code]] = (w.flags[planted[code]] | add) & ~remove

    with_flags((P_A1_ZOMBIE,), F_ZOMBIE, F_NO_VAT)
    with_flags((P_A1_NEXT_DAY,), 0, F_ZOMBIE)
    with_flags((P_A1_SAME_DAY,), 0, F_ZOMBIE | F_NO_VAT)
    with_flags((P_A2_LOW_VAT,), F_LOW_VAT, F_NO_VAT)
    with_flags((P_A2_USD_OVER, P_A2_EQUAL, P_A2_WITHIN), 0, F_LOW_VAT | F_NO_VAT)
    with_flags((P_A5_TWELVE, P_A5_MANY, P_A5_ELEVEN, P_A5_OPERATING), F_NO_LOCAL, F_NO_VAT)
    with_flags((P_A6_SAME_YEAR, P_A6_OTHER_YEAR, P_A6_RATED_B), 0, F_NO_VAT)
    with_flags((P_A8_EDGE, P_A8_SPREAD, P_A8_PASSED), 0, F_MULTI_PEN)
    _make_traders(rng, w, np.concatenate([planted[code] for code in traders_first]))

    # A7: a new person is the legal representative of both enterprises of a pair, and of no other.
    xs = np.concatenate([x for x, _ in pairs])
    ys = np.concatenate([y for _, y in pairs])
    m = len(xs)
    people = len(w.p_surname) + np.arange(m, dtype=np.int32)
    w.rep[xs] = people
    w.rep[ys] = people
    w.p_surname = np.concatenate([w.p_surname, rng.integers(0, len(SURNAMES), m).astype(np.int16)])
    w.p_given = np.concatenate([w.p_given, rng.integers(0, len(GIVEN_CHARS), m).astype(np.int32)])
    w.p_district = np.concatenate([w.p_district, rng.integers(0, len(DISTRICTS), m).astype(np.int16)])
    w.p_birth = np.concatenate([w.p_birth, rng.integers(_day(1955, 1, 1), _day(1998, 12, 31), m)
                                .astype(np.int32)])
    w.p_seq = np.concatenate([w.p_seq, rng.integers(0, 1000, m).astype(np.int16)])


def _make_traders(rng: np.random.Generator, w: World, idx: np.ndarray) -> None:
    """Give planted enterprises that trade across the border a customs code of their own."""
    w.flags[idx] |= F_TRADER
    need = idx[w.customs_num[idx] < 0]
    if not len(need):
        return
    free = np.setdiff1d(rng.integers(0, 10 ** 6, 4 * len(need) + 64), w.customs_num)
    w.customs_num[need] = rng.choice(free, len(need), replace=False).astype(np.int32)


def _unique_ints(rng: np.random.Generator, n: int, bound: int) -> np.ndarray:
    """n distinct random integers below bound (codes must never collide)."""
    values = rng.integers(0, bound, int(n * 1.2) + 16)
    _, first = np.unique(values, return_index=True)
    uniq = values[np.sort(first)]
    while len(uniq) < n:  # pragma: no cover - only for tiny bounds
        more = rng.integers(0, bound, n)
        uniq = np.unique(np.concatenate([uniq, more]))
    return uniq[:n].astype(np.int64)


def _unique_trades(rng: np.random.Generator, city: np.ndarray, industry: np.ndarray,
                   n_trade: int) -> np.ndarray:
    """字号 unique per (city, industry), so two enterprises never share a full name."""
    size = rng.random(len(city))
    trade = rng.integers(0, n_trade, len(city)) + n_trade * rng.integers(0, n_trade, len(city))
    three = size < 0.12
    trade[three] += n_trade * n_trade * (1 + rng.integers(0, n_trade, int(three.sum())))
    for _ in range(50):
        key = (trade.astype(np.int64) * 64 + industry) * 16 + city
        _, first = np.unique(key, return_index=True)
        dup = np.ones(len(city), bool)
        dup[first] = False
        if not dup.any():
            break
        k = int(dup.sum())
        trade[dup] = (rng.integers(0, n_trade, k) + n_trade * rng.integers(0, n_trade, k)
                      + n_trade * n_trade * (1 + rng.integers(0, n_trade, k)))
    return trade.astype(np.int64)


def _distinct_names(rng: np.random.Generator, branch: np.ndarray, head: np.ndarray,
                    district: np.ndarray, style: np.ndarray, trade: np.ndarray,
                    industry: np.ndarray) -> None:
    """No two enterprises share a full name: 辽宁-prefixed names and branch names are checked
    here (city-prefixed names are unique by their 字号)."""
    provincial = np.flatnonzero((style == 2) & ~branch)
    key = trade[provincial] * 64 + industry[provincial]
    _, first = np.unique(key, return_index=True)
    dup = np.ones(len(provincial), bool)
    dup[first] = False
    style[provincial[dup]] = 0
    hb = np.flatnonzero(branch)
    for _ in range(50):
        key = head[hb].astype(np.int64) * 1024 + district[hb]
        _, first = np.unique(key, return_index=True)
        dup = np.ones(len(hb), bool)
        dup[first] = False
        if not dup.any():
            break
        district[hb[dup]] = rng.integers(0, len(DISTRICTS), int(dup.sum()))


def _life(rng: np.random.Generator, est: np.ndarray, nights: tuple[int, ...]
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, d0 = len(est), nights[0]
    status = rng.choice(5, n, p=(0.58, 0.14, 0.11, 0.14, 0.03)).astype(np.int8)
    young = est > d0 - 400
    status[young & (status >= REVOKED)] = ALIVE
    dead = status >= REVOKED
    span = np.maximum(d0 - 1 - (est + 365), 1)
    end = np.where(dead, est + 365 + (rng.random(n) * span).astype(np.int32), 0).astype(np.int32)
    changed = rng.random(n) < 0.5
    approve = np.where(changed, est + (rng.random(n) * np.maximum(d0 - est, 0)).astype(np.int32), est)
    approve = np.where(dead, end, approve).astype(np.int32)
    return status, end, approve


def _name_changes(rng: np.random.Generator, n: int, branch: np.ndarray, est: np.ndarray,
                  end: np.ndarray, nights: tuple[int, ...], trade: np.ndarray,
                  industry: np.ndarray, style: np.ndarray, n_trade: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    d0 = nights[0]
    former = np.full((n, 2, 3), -1, np.int64)
    change = np.zeros((n, 2), np.int32)
    eligible = ~branch & (est < d0 - 400) & (end == 0)
    count = np.where(eligible, rng.choice(3, n, p=(0.84, 0.13, 0.03)), 0)
    forced = []
    for night in nights[1:]:  # a name change on every delta night
        cand = np.flatnonzero(eligible & (count == 0))
        if len(cand):
            pick = cand[rng.integers(0, len(cand))]
            count[pick] = 1
            forced.append((pick, night))
    for i in np.flatnonzero(count):
        c = int(count[i])
        lo = int(est[i]) + 90
        dates = sorted(int(x) for x in rng.integers(lo, d0, c))
        for k in range(c):
            what = rng.random()
            f_trade, f_ind, f_style = int(trade[i]), int(industry[i]), int(style[i])
            if what < 0.5:
                f_trade = int(rng.integers(0, n_trade)) + n_trade * int(rng.integers(0, n_trade))
            elif what < 0.8:
                f_ind = int(rng.integers(0, len(INDUSTRIES)))
            else:
                f_style = 2 if f_style != 2 else 0
            former[i, 2 - c + k] = (f_trade, f_ind, f_style)
            change[i, 2 - c + k] = dates[k]
    for pick, night in forced:
        change[pick, 1] = night
    return former, change


# --- materialised enterprise -------------------------------------------------------------

def trade_name(trade: int, rare: bool = False) -> str:
    c = len(TRADE_CHARS)
    text = TRADE_CHARS[trade % c] + TRADE_CHARS[(trade // c) % c]
    if trade >= c * c:
        text += TRADE_CHARS[trade // (c * c) - 1]
    if rare:
        text = RARE_CHARS[trade % len(RARE_CHARS)] + text[1:]
    return text


def compose_name(city: str, trade: str, industry: str, form: str, style: int) -> str:
    if style == 1:
        return f"{trade}({city}){industry}{form}"
    if style == 2:
        return f"辽宁{trade}{industry}{form}"
    return f"{city}{trade}{industry}{form}"


def person_name(w: World, p: int) -> str:
    g = int(w.p_given[p])
    gl = len(GIVEN_CHARS)
    given = GIVEN_CHARS[g % gl] + (GIVEN_CHARS[g // gl - 1] if g >= gl else "")
    return SURNAMES[int(w.p_surname[p])] + given


def person_idcard(w: World, p: int) -> str:
    body = (DISTRICTS[int(w.p_district[p])][0] + date.fromordinal(int(w.p_birth[p])).strftime("%Y%m%d")
            + f"{int(w.p_seq[p]):03d}")
    return body + idcard_check_char(body)


def _org_code(w: World, i: int) -> str:
    num = int(w.org_num[i])
    if w.kind[i] == 1:  # post-reform codes: MA + 6 characters of the USCC alphabet
        chars = []
        for _ in range(6):
            num, r = divmod(num, 31)
            chars.append(USCC_ALPHABET[r])
        body = "MA" + "".join(reversed(chars))
    else:
        body = f"{num:08d}"
    return body + org_check_char(body)


@dataclass(slots=True)
class Ent:
    """Everything the record writers need about one enterprise, as ready-made strings."""

    idx: int
    eid: str
    name: str
    names: tuple[tuple[int, str], ...]   # (valid until ordinal, former name), oldest first
    city: str
    trade: str
    industry: str
    form: str
    style: int
    branch: bool
    uscc: str
    regno: str
    org: str
    taxno: str
    customs: str
    region: str
    uscc_date: int
    est: int
    end: int
    approve: int
    status: int
    rep_name: str
    rep_id: str
    address: str
    authority: str
    etype: str
    industry_code: str
    industry_flags: int
    capital: int
    flags: int
    plant: int = P_NONE                  # planted audit scenario
    memo: dict[str, Any] = field(default_factory=dict)  # the scenario's dates, shared by builders

    def name_at(self, day: int) -> str:
        for until, former in self.names:
            if day < until:
                return former
        return self.name

    def short_name(self) -> str:
        return self.trade + self.industry

    def moved_place(self, name: str) -> str | None:
        """沈阳某某科技有限公司 <-> 某某(沈阳)科技有限公司; None when the name has no such place."""
        if self.branch:
            return None
        for place in (self.city, "辽宁"):
            if name.startswith(place + self.trade):
                return self.trade + "(" + place + ")" + name[len(place) + len(self.trade):]
            for bracket in ("(" + place + ")", "（" + place + "）"):
                if bracket in name:
                    return place + name.replace(bracket, "", 1)
        return None

    def tax_id_at(self, day: int) -> str:
        """Taxpayers file under the old tax number until they receive a unified code."""
        return self.uscc if self.uscc and day >= self.uscc_date else self.taxno


def enterprise(w: World, i: int) -> Ent:
    d = DISTRICTS[int(w.district[i])]
    city_code = CITIES[d[1]][0]
    city_name = CITIES[d[1]][1]
    region = city_code + "00" if w.city_level[i] else d[0]
    kind = int(w.kind[i])
    org = _org_code(w, i)
    uscc = ""
    if kind:
        body = "91" + region + org
        uscc = body + uscc_check_char(body)
    regno = ""
    if kind != 1:
        body = f"{region}{int(w.regno_num[i]):08d}"
        regno = body + regno_check_digit(body)
    customs = ""
    if w.customs_num[i] >= 0:
        customs = f"{city_code}{int(w.customs_num[i]):06d}"
    head = int(w.head[i])
    rare = bool(w.flags[i] & F_RARE)
    trade = trade_name(int(w.trade[i]), rare)
    ind = INDUSTRIES[int(w.industry[i])]
    form = FORMS[int(w.form[i])]
    names: list[tuple[int, str]] = []
    if head >= 0:
        name = enterprise_name(w, head) + d[3] + "分公司"
        etype = ETYPES_BRANCH[int(w.etype[i])]
    else:
        name = compose_name(city_name, trade, ind[0], form, int(w.style[i]))
        etype = (ETYPES_SHARE if form.startswith("股份") else ETYPES_LLC)[int(w.etype[i])]
        for k in range(2):
            if w.change[i, k]:
                f_trade, f_ind, f_style = (int(x) for x in w.former[i, k])
                names.append((int(w.change[i, k]), compose_name(
                    city_name, trade_name(f_trade), INDUSTRIES[f_ind][0], form, f_style)))
    level = city_name + "市" + ("" if w.city_level[i] else d[2])
    rep = int(w.rep[i])
    house = (i * 7919) % 400 + 1
    address = f"辽宁省{city_name}市{d[2]}{STREETS[i % len(STREETS)]}{house}号"
    if i % 3 == 0:
        address += f"{i % 29 + 1}-{i % 5 + 1}-{i % 11 + 1}"
    return Ent(
        idx=i, eid=f"E{i:07d}", name=name, names=tuple(names), city=city_name, trade=trade,
        industry=ind[0], form=form, style=int(w.style[i]), branch=head >= 0, uscc=uscc,
        regno=regno, org=org, taxno=region + org, customs=customs, region=region,
        uscc_date=int(w.uscc_date[i]), est=int(w.est[i]), end=int(w.end[i]),
        approve=int(w.approve[i]), status=int(w.status[i]), rep_name=person_name(w, rep),
        rep_id=person_idcard(w, rep), address=address, authority=level + "市场监督管理局",
        etype=etype, industry_code=ind[1], industry_flags=ind[2], capital=int(w.capital[i]),
        flags=int(w.flags[i]), plant=int(w.plant[i]),
    )


def enterprise_name(w: World, i: int, day: int | None = None) -> str:
    """The name of enterprise i (at a date) without materialising the whole enterprise."""
    head = int(w.head[i])
    if head >= 0:
        return enterprise_name(w, head, day) + DISTRICTS[int(w.district[i])][3] + "分公司"
    city = CITIES[DISTRICTS[int(w.district[i])][1]][1]
    form = FORMS[int(w.form[i])]
    if day is not None:
        for k in range(2):
            if w.change[i, k] and day < w.change[i, k]:
                f_trade, f_ind, f_style = (int(x) for x in w.former[i, k])
                return compose_name(city, trade_name(f_trade), INDUSTRIES[f_ind][0], form, f_style)
    return compose_name(city, trade_name(int(w.trade[i]), bool(w.flags[i] & F_RARE)),
                        INDUSTRIES[int(w.industry[i])][0], form, int(w.style[i]))
