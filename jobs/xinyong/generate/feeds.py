"""The 19 delivered files of CONTRACT.md as a table, and how one row of each is written.

Every row is a list of strings in column order (record key first, operation code second);
for XML the columns are the Declaration attributes and children, for JSON Lines the keys.
The roles say which columns a data problem may touch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

Renderer = Callable[[list[str], bool], str]

AGENCIES = ("aic", "state_tax", "local_tax", "quality", "customs", "construction", "food_drug",
            "price", "public_security", "court")


@dataclass(frozen=True)
class FeedSpec:
    agency: str
    file: str
    fmt: str                      # csv | txt | jsonl | xml
    encoding: str                 # gb18030 | utf-8
    columns: tuple[str, ...]
    prefix: str                   # record-key prefix and number width, as the agency writes it
    digits: int
    stride: int                   # key numbers per enterprise; the top RESERVED are sacrificial
    codes: tuple[int, ...] = ()
    code_pair: tuple[int, int] | None = None  # two code columns a code can be swapped between
    names: tuple[int, ...] = ()
    dates: tuple[int, ...] = ()
    amounts: tuple[int, ...] = ()
    nullable: tuple[int, ...] = ()
    texts: tuple[int, ...] = ()   # free text that may carry a newline (CSV only)
    droppable: int | None = None  # a column a delivery may lack
    extra_column: str = "备注"
    raw: tuple[int, ...] = ()     # JSON values written as-is (arrays)
    u_rate: float = 0.002         # share of live records replaced / deleted per delta night
    d_rate: float = 0.0006

    @property
    def feed(self) -> str:
        return self.file.rsplit(".", 1)[0]

    @property
    def delimited(self) -> bool:
        return self.fmt in ("csv", "txt")

    @property
    def base(self) -> int:
        return 3 * 10 ** (self.digits - 3)

    def record_id(self, ent: int, seq: int) -> str:
        return f"{self.prefix}{self.base + ent * self.stride + seq:0{self.digits}d}"


RESERVED = 64  # key numbers per enterprise kept for rows made unusable on purpose

FEEDS: tuple[FeedSpec, ...] = (
    FeedSpec("aic", "registrations.csv", "csv", "gb18030",
             ("记录ID", "操作", "注册号", "统一社会信用代码", "企业名称", "企业类型", "法定代表人",
              "法定代表人证件号码", "住所", "注册资本(万元)", "成立日期", "核准日期", "登记状态",
              "行业代码", "登记机关"),
             "DJ", 10, 80, codes=(2, 3, 7), code_pair=(2, 3), names=(4,), dates=(10, 11),
             amounts=(9,), nullable=(2, 3), texts=(8,), droppable=14),
    FeedSpec("aic", "name_changes.csv", "csv", "gb18030",
             ("记录ID", "操作", "统一社会信用代码", "注册号", "变更前名称", "变更后名称", "变更日期"),
             "BG", 10, 72, codes=(2, 3), code_pair=(2, 3), names=(4, 5), dates=(6,),
             nullable=(2, 3)),
    FeedSpec("aic", "abnormal_operations.csv", "csv", "gb18030",
             ("记录ID", "操作", "统一社会信用代码", "注册号", "企业名称", "列入日期", "列入原因",
              "移出日期", "移出原因"),
             "YC", 10, 72, codes=(2, 3), code_pair=(2, 3), names=(4,), dates=(5, 7),
             nullable=(2, 3, 7, 8), texts=(6, 8), droppable=8),
    FeedSpec("state_tax", "vat_returns.txt", "txt", "utf-8",
             ("record_id", "op", "nsrsbh", "nsrmc", "sssq", "xse", "ynse", "yjse", "sbrq"),
             "ZZS", 12, 256, codes=(2,), names=(3,), dates=(8,), amounts=(5, 6, 7), droppable=7),
    FeedSpec("state_tax", "credit_ratings.txt", "txt", "utf-8",
             ("record_id", "op", "nsrsbh", "nsrmc", "pjnd", "xydj"),
             "NSXY", 10, 80, codes=(2,), names=(3,)),
    FeedSpec("local_tax", "declarations.jsonl", "jsonl", "utf-8",
             ("id", "op", "nsrsbh", "nsrmc", "zsxm", "sssqq", "sssqz", "ynse", "sjse"),
             "DSSB", 12, 256, codes=(2,), names=(3,), dates=(5, 6), amounts=(7, 8)),
    FeedSpec("local_tax", "arrears.jsonl", "jsonl", "utf-8",
             ("id", "op", "nsrsbh", "nsrmc", "fddbr", "qsse", "qssz", "ggrq"),
             "QSGG", 8, 72, codes=(2,), names=(3,), amounts=(5,), dates=(7,)),
    FeedSpec("quality", "org_code_certificates.csv", "csv", "gb18030",
             ("记录ID", "操作", "组织机构代码", "机构名称", "机构类型", "法定代表人", "地址",
              "颁证日期", "有效期至", "状态"),
             "ZJDM", 9, 80, codes=(2,), names=(3,), dates=(7, 8), texts=(6,), droppable=4),
    FeedSpec("quality", "product_inspections.csv", "csv", "gb18030",
             ("记录ID", "操作", "组织机构代码", "企业名称", "产品名称", "抽查日期", "检验结论",
              "不合格项目"),
             "CC", 10, 80, codes=(2,), names=(3,), dates=(5,), nullable=(7,), droppable=4),
    FeedSpec("customs", "declarations.xml", "xml", "utf-8",
             ("id", "op", "EntryId", "TradeCode", "TradeName", "SocialCreditCode", "IEFlag",
              "DeclareDate", "currency", "TotalValue", "HSCode"),
             "D", 12, 400, codes=(3, 5), code_pair=(3, 5), names=(4,), dates=(7,), amounts=(9,),
             nullable=(5,)),
    FeedSpec("customs", "credit_ratings.csv", "csv", "utf-8",
             ("record_id", "op", "trade_code", "social_credit_code", "name", "credit_level",
              "effective_date"),
             "HGXY", 8, 72, codes=(2, 3), code_pair=(2, 3), names=(4,), dates=(6,), nullable=(3,),
             extra_column="remark"),
    FeedSpec("construction", "qualifications.csv", "csv", "gb18030",
             ("记录ID", "操作", "企业名称", "统一社会信用代码", "组织机构代码", "资质证书编号",
              "资质类别及等级", "发证日期", "有效期至", "发证机关"),
             "JSZZ", 8, 72, codes=(3, 4), code_pair=(3, 4), names=(2,), dates=(7, 8),
             nullable=(3, 4), droppable=9),
    FeedSpec("construction", "violations.csv", "csv", "gb18030",
             ("记录ID", "操作", "企业名称", "统一社会信用代码", "项目名称", "违规行为", "处理决定",
              "决定日期"),
             "JSWG", 8, 72, codes=(3,), names=(2,), dates=(7,), nullable=(3,), texts=(4, 5, 6),
             droppable=6),
    FeedSpec("food_drug", "licenses.csv", "csv", "utf-8",
             ("记录ID", "操作", "许可证编号", "企业名称", "社会信用代码", "法定代表人", "经营地址",
              "许可范围", "发证日期", "有效期至"),
             "SYXK", 9, 72, codes=(4,), names=(3,), dates=(8, 9), nullable=(4,), texts=(6,),
             droppable=7),
    FeedSpec("food_drug", "penalties.csv", "csv", "utf-8",
             ("记录ID", "操作", "处罚决定书文号", "当事人名称", "社会信用代码", "违法行为", "处罚内容",
              "罚没金额(元)", "处罚日期"),
             "SYCF", 9, 72, codes=(4,), names=(3,), dates=(8,), amounts=(7,), nullable=(4,),
             texts=(5, 6), droppable=6),
    FeedSpec("price", "price_violations.csv", "csv", "gb18030",
             ("记录ID", "操作", "当事人", "证照号码", "违法事实", "处罚依据", "罚款金额(元)",
              "决定日期"),
             "WJ", 9, 72, codes=(3,), names=(2,), dates=(7,), amounts=(6,), nullable=(3,),
             texts=(4,), droppable=5),
    FeedSpec("public_security", "seal_filings.jsonl", "jsonl", "utf-8",
             ("id", "op", "dwmc", "tyshxydm", "fddbr", "fddbr_sfzh", "yzlx", "barq"),
             "YZBA", 10, 80, codes=(3, 5), names=(2,), dates=(7,)),
    FeedSpec("court", "judgments.jsonl", "jsonl", "utf-8",
             ("id", "op", "ah", "fymc", "ay", "cprq", "bdje", "parties"),
             "CPWS", 10, 96, dates=(5,), amounts=(6,), raw=(7,)),
    FeedSpec("court", "dishonest_debtors.jsonl", "jsonl", "utf-8",
             ("id", "op", "ah", "bzxrmc", "zzjgdm", "fddbr", "zxfy", "larq", "fbrq", "lxqk", "sxxw"),
             "SXBZX", 9, 72, codes=(4,), names=(3,), dates=(7, 8)),
)
FEED_INDEX = {(s.agency, s.file): i for i, s in enumerate(FEEDS)}


def agency_feeds(agency: str) -> list[int]:
    return [i for i, s in enumerate(FEEDS) if s.agency == agency]


# --- dates -------------------------------------------------------------------------------

DATE_BASE = date(1985, 1, 1).toordinal()
_DATE_END = date(2035, 12, 31).toordinal()
ISO: list[str] = [date.fromordinal(o).isoformat() for o in range(DATE_BASE, _DATE_END)]
COMPACT: list[str] = [s.replace("-", "") for s in ISO]


def iso(day: int) -> str:
    return ISO[day - DATE_BASE]


def compact(day: int) -> str:
    return COMPACT[day - DATE_BASE]


def date_variant(text: str, variant: int) -> str:
    """Write an ISO or compact date as YYYY-MM-DD, YYYYMMDD, YYYY/M/D or YYYY年M月D日."""
    digits = text.replace("-", "")
    y, m, d = digits[:4], digits[4:6], digits[6:8]
    if variant == 0:
        return f"{y}-{m}-{d}"
    if variant == 1:
        return digits
    if variant == 2:
        return f"{y}/{int(m)}/{int(d)}"
    return f"{y}年{int(m)}月{int(d)}日"


# --- writing one row ---------------------------------------------------------------------

def header_line(spec: FeedSpec, columns: tuple[str, ...], nl: str) -> str:
    if spec.fmt == "xml":
        return '<?xml version="1.0" encoding="UTF-8"?>\n<Declarations>\n'
    if spec.fmt == "jsonl":
        return ""
    return ("|" if spec.fmt == "txt" else ",").join(columns) + nl


def footer(spec: FeedSpec) -> str:
    return "</Declarations>\n" if spec.fmt == "xml" else ""


def csv_quote(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


_XML_ROW = (
    '  <Declaration id="{0}" op="{1}">\n    <EntryId>{2}</EntryId>\n    <TradeCode>{3}</TradeCode>\n'
    "    <TradeName>{4}</TradeName>\n    <SocialCreditCode>{5}</SocialCreditCode>\n"
    "    <IEFlag>{6}</IEFlag>\n    <DeclareDate>{7}</DeclareDate>\n"
    '    <TotalValue currency="{8}">{9}</TotalValue>\n    <HSCode>{10}</HSCode>\n'
    "  </Declaration>\n"
)


def make_renderer(spec: FeedSpec, nl: str) -> Renderer:
    """A function fields -> line for one file (its format and line ending)."""
    if spec.fmt == "csv":
        def render_csv(fields: list[str], quote: bool = False) -> str:
            if quote:
                fields = [csv_quote(f) for f in fields]
            return ",".join(fields) + nl
        return render_csv
    if spec.fmt == "txt":
        def render_txt(fields: list[str], quote: bool = False) -> str:
            return "|".join(fields) + nl
        return render_txt
    if spec.fmt == "xml":
        def render_xml(fields: list[str], quote: bool = False) -> str:
            return _XML_ROW.format(*fields)
        return render_xml
    template = "{" + ", ".join(f'"{c}": ' + ("%s" if i in spec.raw else '"%s"')
                               for i, c in enumerate(spec.columns)) + "}" + nl

    def render_jsonl(fields: list[str], quote: bool = False) -> str:
        return template % tuple(fields)
    return render_jsonl
