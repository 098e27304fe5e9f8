"""法院 courts. Quirks: a judgment names several parties; only 法人 parties are enterprises,
and each is its own mention with record id `<id>#<n>` (n = position in `parties`). The
dishonest-debtor organization code may be partly masked with `*`."""

from collections.abc import Mapping
from typing import Any

from xinyong.feeds.spec import Agency, Feed, Field, Mention


def judgment_parties(record_key: str, values: Mapping[str, Any]) -> list[Mention]:
    """One mention per party; natural persons are kept but carry no enterprise name."""
    parties = values.get("parties")
    if not isinstance(parties, list):
        return []
    mentions = []
    for position, party in enumerate(parties):
        party = party if isinstance(party, dict) else {}
        is_legal_person = party.get("type") == "法人"
        mentions.append(Mention(
            record_id=f"{record_key}#{position}",
            name=party.get("name") if is_legal_person else None,
            codes=(),
            attributes={
                "party_no": position,
                "party_name": party.get("name"),
                "party_role": party.get("role"),
                "party_type": party.get("type"),
            },
        ))
    return mentions


JUDGMENTS = Feed(
    file="judgments.jsonl", format="jsonl", encoding="utf-8", key="id", op="op",
    fields=(
        Field("ah", "case_no"),
        Field("fymc", "court"),
        Field("ay", "cause"),
        Field("cprq", "judged_on", "date"),
        Field("bdje", "amount_at_stake", "amount"),
        Field("parties", "parties", "json"),
    ),
    named_on_field="judged_on",
    mentions=judgment_parties,
    mention_columns=(
        ("party_no", "integer"), ("party_name", "text"), ("party_role", "text"),
        ("party_type", "text"),
    ),
    description="Court judgments (裁判文书); one warehouse row per party.",
)

DISHONEST_DEBTORS = Feed(
    file="dishonest_debtors.jsonl", format="jsonl", encoding="utf-8", key="id", op="op",
    fields=(
        Field("ah", "case_no"),
        Field("bzxrmc", "debtor_name", "name"),
        Field("zzjgdm", "org_code", "code", ("org", "uscc")),
        Field("fddbr", "legal_rep"),
        Field("zxfy", "executing_court"),
        Field("larq", "filed_on", "date"),
        Field("fbrq", "published_on", "date"),
        Field("lxqk", "performance", comment="全部未履行 / 部分未履行 / ..."),
        Field("sxxw", "dishonest_conduct"),
    ),
    named_on_field="filed_on",
    name_field="debtor_name", code_fields=("org_code",), legal_rep_field="legal_rep",
    description="Dishonest judgment debtors (失信被执行人).",
)

AGENCY = Agency(code="court", title="法院 courts", source_rank=3,
                feeds=(JUDGMENTS, DISHONEST_DEBTORS))
