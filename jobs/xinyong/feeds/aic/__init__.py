"""工商 market regulation: the enterprise register itself.

Quirks: GB18030 CSV; older enterprises carry only 注册号, newer only 统一社会信用代码,
re-issued ones both; branches are enterprises of their own (企业类型 contains 分公司).
"""

from xinyong.feeds.spec import Agency, Feed, Field

REGISTRATIONS = Feed(
    file="registrations.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("注册号", "reg_no", "code", ("regno",)),
        Field("统一社会信用代码", "uscc", "code", ("uscc",)),
        Field("企业名称", "name", "name"),
        Field("企业类型", "enterprise_type"),
        Field("法定代表人", "legal_rep"),
        Field("法定代表人证件号码", "legal_rep_id", "person_id"),
        Field("住所", "address"),
        Field("注册资本(万元)", "registered_capital_10k", "amount"),
        Field("成立日期", "established_on", "date"),
        Field("核准日期", "approved_on", "date"),
        Field("登记状态", "status"),
        Field("行业代码", "industry_code"),
        Field("登记机关", "registration_authority"),
    ),
    name_field="name", code_fields=("reg_no", "uscc"), legal_rep_field="legal_rep",
    branch_hint_field="enterprise_type",
    # 核准日期 of a closed enterprise is the date its registration ended.
    status_field="status", closed_statuses=("注销", "吊销", "迁出"), closed_on_field="approved_on",
    founded_on_field="established_on",
    description="Enterprise registrations (登记), one record per enterprise.",
)

NAME_CHANGES = Feed(
    file="name_changes.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("统一社会信用代码", "uscc", "code", ("uscc",)),
        Field("注册号", "reg_no", "code", ("regno",)),
        Field("变更前名称", "name_before", "name"),
        Field("变更后名称", "name_after", "name"),
        Field("变更日期", "changed_on", "date"),
    ),
    named_on_field="changed_on",
    name_field="name_after", code_fields=("uscc", "reg_no"), former_name_field="name_before",
    description="Changes of enterprise name (名称变更).",
)

ABNORMAL_OPERATIONS = Feed(
    file="abnormal_operations.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("统一社会信用代码", "uscc", "code", ("uscc",)),
        Field("注册号", "reg_no", "code", ("regno",)),
        Field("企业名称", "name", "name"),
        Field("列入日期", "listed_on", "date"),
        Field("列入原因", "listing_reason"),
        Field("移出日期", "removed_on", "date"),
        Field("移出原因", "removal_reason"),
    ),
    named_on_field="listed_on",
    name_field="name", code_fields=("uscc", "reg_no"),
    description="List of enterprises with abnormal operations (经营异常名录).",
)

AGENCY = Agency(
    code="aic", title="工商 market regulation", source_rank=0,
    feeds=(REGISTRATIONS, NAME_CHANGES, ABNORMAL_OPERATIONS),
)
