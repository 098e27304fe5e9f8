"""物价 pricing. Quirks: 当事人 is often a short or colloquial form of the name and 证照号码
is often empty, so these records depend on name matching."""

from xinyong.feeds.spec import Agency, Feed, Field

PRICE_VIOLATIONS = Feed(
    file="price_violations.csv", format="csv", encoding="gb18030", key="记录ID", op="操作",
    fields=(
        Field("当事人", "party", "name"),
        Field("证照号码", "license_code", "code", ("uscc", "regno", "org")),
        Field("违法事实", "violation"),
        Field("处罚依据", "legal_basis"),
        Field("罚款金额(元)", "fine", "amount"),
        Field("决定日期", "decided_on", "date"),
    ),
    named_on_field="decided_on",
    penalty_on_field="decided_on",
    name_field="party", code_fields=("license_code",),
    description="Price violations (价格违法行为处罚).",
)

AGENCY = Agency(code="price", title="物价 pricing", source_rank=4, feeds=(PRICE_VIOLATIONS,))
