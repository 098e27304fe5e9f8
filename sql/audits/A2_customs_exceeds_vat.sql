-- A2 customs_exceeds_vat (AUDITS.md)
--
-- Rule: in some calendar year, the enterprise's customs declaration value (by year of
-- DeclareDate, in CNY) exceeds 5 × its VAT sales (xse) for tax periods (sssq) of that year;
-- with no VAT sales that year, any customs value counts.
--
-- Near misses, not reported: customs value equal to 5 × sales or less ("exceeds" is
-- strict); customs and VAT sales in different years (each year stands alone); deleted or
-- superseded declarations and returns (only live records count).
--
-- The night applies this rule when it builds the run's summaries, and stores each finding
-- with its evidence: sql/audits/summaries/customs_exceeds_vat.sql, where the rule is written
-- out (currencies, years, the exceeding years' records cut from audit.enterprise_trade). A2
-- copies them: at scale 1 its 22,290 findings name 1.4M records, and writing them is about
-- half a second on its own.
-- Its hash (evidence_hash, computed as the night stored it) comes along: a rerun tells
-- a changed finding by it without reading the evidence.
select enterprise_id, evidence, evidence_hash
from audit.customs_exceeds_vat
