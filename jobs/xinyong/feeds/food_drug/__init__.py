"""食药监 food and drug. Quirks: UTF-8 CSV that may start with a BOM; 社会信用代码 holds
whatever code the licensee gave (unified code, registration number or organization code)."""

from xinyong.feeds.spec import Agency, Feed, Field
from xinyong.ids import CodeKind

_ANY_CODE: tuple[CodeKind, ...] = ("uscc", "regno", "org")

LICENSES = Feed(
    file="licenses.csv", format="csv", encoding="utf-8", key="记录ID", op="操作",
    fields=(
        Field("许可证编号", "license_no"),
        Field("企业名称", "name", "name"),
        Field("社会信用代码", "credit_code", "code", _ANY_CODE),
        Field("法定代表人", "legal_rep"),
        Field("经营地址", "address"),
        Field("许可范围", "scope"),
        Field("发证日期", "issued_on", "date"),
        Field("有效期至", "valid_until", "date"),
    ),
    named_on_field="issued_on",
    name_field="name", code_fields=("credit_code",), legal_rep_field="legal_rep",
    description="Food and drug licences (许可证).",
)

PENALTIES = Feed(
    file="penalties.csv", format="csv", encoding="utf-8", key="记录ID", op="操作",
    fields=(
        Field("处罚决定书文号", "decision_no"),
        Field("当事人名称", "name", "name"),
        Field("社会信用代码", "credit_code", "code", _ANY_CODE),
        Field("违法行为", "violation"),
        Field("处罚内容", "penalty"),
        Field("罚没金额(元)", "amount", "amount"),
        Field("处罚日期", "decided_on", "date"),
    ),
    named_on_field="decided_on",
    penalty_on_field="decided_on",
    name_field="name", code_fields=("credit_code",),
    description="Food and drug administrative penalties (行政处罚).",
)

AGENCY = Agency(code="food_drug", title="食药监 food and drug", source_rank=3,
                feeds=(LICENSES, PENALTIES))
