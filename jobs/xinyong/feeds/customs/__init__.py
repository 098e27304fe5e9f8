"""海关 customs. Quirks: declarations are XML (one Declaration element per record, id and op
as attributes, currency as an attribute of TotalValue); SocialCreditCode is often empty, so
the 10-character customs code is the link."""

from xinyong.feeds.spec import Agency, Feed, Field

DECLARATIONS = Feed(
    file="declarations.xml", format="xml", encoding="utf-8", key="id", op="op",
    fields=(
        Field("EntryId", "entry_id"),
        Field("TradeCode", "trade_code", "code", ("customs",)),
        Field("TradeName", "trade_name", "name"),
        Field("SocialCreditCode", "uscc", "code", ("uscc",)),
        Field("IEFlag", "ie_flag", comment="I import, E export"),
        Field("DeclareDate", "declared_on", "date"),
        Field("TotalValue", "total_value", "amount"),
        Field("TotalValue@currency", "currency", comment="ISO 4217"),
        Field("HSCode", "hs_code"),
    ),
    named_on_field="declared_on",
    name_field="trade_name", code_fields=("trade_code", "uscc"),
    description="Customs declarations (报关单).",
)

CREDIT_RATINGS = Feed(
    file="credit_ratings.csv", format="csv", encoding="utf-8", key="record_id", op="op",
    fields=(
        Field("trade_code", "trade_code", "code", ("customs",)),
        Field("social_credit_code", "uscc", "code", ("uscc",)),
        Field("name", "name", "name"),
        Field("credit_level", "credit_level"),
        Field("effective_date", "effective_on", "date"),
    ),
    named_on_field="effective_on",
    name_field="name", code_fields=("trade_code", "uscc"),
    description="Customs enterprise credit levels (海关信用等级).",
)

AGENCY = Agency(code="customs", title="海关 customs", source_rank=3,
                feeds=(DECLARATIONS, CREDIT_RATINGS))
