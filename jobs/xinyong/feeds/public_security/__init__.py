"""公安 public security. Quirks: tyshxydm may hold a registration number instead of the
unified code; fddbr_sfzh is a personal identity number (stored only hashed and masked)."""

from xinyong.feeds.spec import Agency, Feed, Field

SEAL_FILINGS = Feed(
    file="seal_filings.jsonl", format="jsonl", encoding="utf-8", key="id", op="op",
    fields=(
        Field("dwmc", "unit_name", "name"),
        Field("tyshxydm", "uscc", "code", ("uscc", "regno")),
        Field("fddbr", "legal_rep"),
        Field("fddbr_sfzh", "legal_rep_id", "person_id"),
        Field("yzlx", "seal_type"),
        Field("barq", "filed_on", "date"),
    ),
    named_on_field="filed_on",
    name_field="unit_name", code_fields=("uscc",), legal_rep_field="legal_rep",
    description="Seal filings (印章备案).",
)

AGENCY = Agency(code="public_security", title="公安 public security", source_rank=3,
                feeds=(SEAL_FILINGS,))
