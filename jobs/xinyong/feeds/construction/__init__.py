"""建设 construction. Quirks: GB18030 CSV; qualifications may carry only the organization code."""

from xinyong.feeds.spec import Agency, Feed, Field

QUALIFICATIONS = Feed(
    file="qualifications.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("企业名称", "name", "name"),
        Field("统一社会信用代码", "uscc", "code", ("uscc",)),
        Field("组织机构代码", "org_code", "code", ("org",)),
        Field("资质证书编号", "certificate_no"),
        Field("资质类别及等级", "qualification"),
        Field("发证日期", "issued_on", "date"),
        Field("有效期至", "valid_until", "date"),
        Field("发证机关", "issuer"),
    ),
    named_on_field="issued_on",
    name_field="name", code_fields=("uscc", "org_code"),
    description="Construction enterprise qualifications (资质).",
)

VIOLATIONS = Feed(
    file="violations.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("企业名称", "name", "name"),
        Field("统一社会信用代码", "uscc", "code", ("uscc",)),
        Field("项目名称", "project"),
        Field("违规行为", "violation"),
        Field("处理决定", "decision"),
        Field("决定日期", "decided_on", "date"),
    ),
    named_on_field="decided_on",
    penalty_on_field="decided_on",
    name_field="name", code_fields=("uscc",),
    description="Construction violations and penalties (违规处理).",
)

AGENCY = Agency(code="construction", title="建设 construction", source_rank=3,
                feeds=(QUALIFICATIONS, VIOLATIONS))
