"""质监 quality supervision. Quirks: GB18030 CSV; organization codes written XXXXXXXX-X;
the product-inspection code column sometimes holds a unified code instead."""

from xinyong.feeds.spec import Agency, Feed, Field

ORG_CODE_CERTIFICATES = Feed(
    file="org_code_certificates.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("组织机构代码", "org_code", "code", ("org",)),
        Field("机构名称", "name", "name"),
        Field("机构类型", "org_type"),
        Field("法定代表人", "legal_rep"),
        Field("地址", "address"),
        Field("颁证日期", "issued_on", "date"),
        Field("有效期至", "valid_until", "date"),
        Field("状态", "status"),
    ),
    named_on_field="issued_on",
    name_field="name", code_fields=("org_code",), legal_rep_field="legal_rep",
    description="Organization code certificates (组织机构代码证).",
)

PRODUCT_INSPECTIONS = Feed(
    file="product_inspections.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("组织机构代码", "org_code", "code", ("org", "uscc")),
        Field("企业名称", "name", "name"),
        Field("产品名称", "product"),
        Field("抽查日期", "inspected_on", "date"),
        Field("检验结论", "verdict", comment="合格 or 不合格"),
        Field("不合格项目", "failed_items"),
    ),
    named_on_field="inspected_on",
    penalty_on_field="inspected_on", penalty_if=("verdict", "不合格"),
    name_field="name", code_fields=("org_code",),
    description="Product quality spot checks (产品质量抽查).",
)

AGENCY = Agency(code="quality", title="质监 quality supervision", source_rank=3,
                feeds=(ORG_CODE_CERTIFICATES, PRODUCT_INSPECTIONS))
