"""地税 local tax. Quirks: JSON Lines; amounts are strings."""

from xinyong.feeds.spec import Agency, Feed, Field

_TAXPAYER = (
    Field("nsrsbh", "taxpayer_id", "code", ("taxno", "uscc")),
    Field("nsrmc", "taxpayer_name", "name"),
)

DECLARATIONS = Feed(
    file="declarations.jsonl", format="jsonl", encoding="utf-8", key="id", op="op",
    fields=(
        *_TAXPAYER,
        Field("zsxm", "levy_item"),
        Field("sssqq", "period_start", "date"),
        Field("sssqz", "period_end", "date"),
        Field("ynse", "tax_payable", "amount"),
        Field("sjse", "tax_paid", "amount"),
    ),
    named_on_field="period_end",
    name_field="taxpayer_name", code_fields=("taxpayer_id",),
    description="Local tax declarations (地税申报).",
)

ARREARS = Feed(
    file="arrears.jsonl", format="jsonl", encoding="utf-8", key="id", op="op",
    fields=(
        *_TAXPAYER,
        Field("fddbr", "legal_rep"),
        Field("qsse", "arrears_amount", "amount"),
        Field("qssz", "levy_item"),
        Field("ggrq", "announced_on", "date"),
    ),
    named_on_field="announced_on",
    name_field="taxpayer_name", code_fields=("taxpayer_id",), legal_rep_field="legal_rep",
    description="Tax arrears announcements (欠税公告).",
)

AGENCY = Agency(code="local_tax", title="地税 local tax", source_rank=2,
                feeds=(DECLARATIONS, ARREARS))
