-- A7 dishonest_legal_rep_elsewhere (AUDITS.md)
--
-- Rule: a person, identified by resident identity number (AIC 法定代表人证件号码 or
-- public-security fddbr_sfzh), is legal representative of an enterprise that is a dishonest
-- debtor and of another enterprise whose 登记状态 is 存续. Report both enterprises.
--
-- Near misses, not reported: the other enterprise 注销 (or 在业, 吊销, 迁出, or without a
-- registration); the debtor itself as the other enterprise; a representative named only in a
-- superseded registration or a deleted seal filing; a deleted debtor record; two persons of
-- the same name (persons are identity-number hashes, never names).
--
-- The night applies this rule when it builds the run's summaries, and stores each finding
-- with its evidence: sql/audits/summaries/dishonest_rep_elsewhere.sql, where the rule is
-- written out with its near misses, and the evidence (the debtor's dishonest-debtor records,
-- the records naming the person for each enterprise, the other enterprise's registration,
-- and the pairs) is built. A7 copies them. Building that evidence takes 4.4 s at scale 1
-- (49,509 findings, 559,554 records); copying it, a fraction of a second.
select enterprise_id, evidence
from audit.dishonest_rep_elsewhere
