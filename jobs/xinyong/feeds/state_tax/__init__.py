"""国税 state tax. Quirks: `|`-separated UTF-8 without quoting; nsrsbh holds either the old
15-character tax number (region + organization code) or the unified code."""

from xinyong.feeds.spec import Agency, Feed, Field

_TAXPAYER = (
    Field("nsrsbh", "taxpayer_id", "code", ("taxno", "uscc")),
    Field("nsrmc", "taxpayer_name", "name"),
)

VAT_RETURNS = Feed(
    file="vat_returns.txt", format="pipe", encoding="utf-8", key="record_id", op="op",
    fields=(
        *_TAXPAYER,
        Field("sssq", "tax_period", "period", comment="tax period YYYYMM"),
        Field("xse", "sales", "amount"),
        Field("ynse", "tax_payable", "amount"),
        Field("yjse", "tax_paid", "amount"),
        Field("sbrq", "filed_on", "date"),
    ),
    named_on_field="filed_on",
    name_field="taxpayer_name", code_fields=("taxpayer_id",),
    description="Monthly VAT returns (增值税申报).",
)

CREDIT_RATINGS = Feed(
    file="credit_ratings.txt", format="pipe", encoding="utf-8", key="record_id", op="op",
    fields=(
        *_TAXPAYER,
        Field("pjnd", "rating_year", "int"),
        Field("xydj", "rating"),
    ),
    name_field="taxpayer_name", code_fields=("taxpayer_id",),
    description="Tax credit ratings A/B/M/C/D (纳税信用等级).",
)

AGENCY = Agency(code="state_tax", title="国税 state tax", source_rank=2,
                feeds=(VAT_RETURNS, CREDIT_RATINGS))
