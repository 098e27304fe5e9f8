-- A hash of each finding's evidence, so that a rerun compares hashes instead of evidence.
--
-- Why: a rerun writes only the findings that changed (night.AuditSession.write_findings), and
-- until now it compared evidence value against value, which reads both copies back and
-- decompresses them: too slow for evidence stored out of line, which it wrote again unread
-- instead. At scale 1 a rerun rewrote 9,701 of A2's findings (0.72 s of its 0.9 s on a cold
-- cache, and dead rows until a vacuum) and 4,223 of A4's, and comparing A7's 49,531 took
-- 0.30 s of its 0.9 s.
--
-- evidence_hash is jsonb_hash_extended(evidence, 0): PostgreSQL's own 64-bit hash of a jsonb
-- value (what hash partitioning uses: equal jsonb, equal hash), 4x faster at scale 1 than md5
-- of the evidence's text (A4's 6,909 findings: 55 ms against 237 ms). The summaries whose
-- evidence an audit copies keep theirs, computed as they are built, and the audits copying
-- them (A2, A5, A7) return it beside the evidence; for the others the rerun computes it from
-- the evidence the audit built.
alter table audit.finding add column evidence_hash bigint;
comment on column audit.finding.evidence_hash is
    'jsonb_hash_extended(evidence, 0), as written with the evidence; null for findings written '
    'before V019 (written again by their next rerun)';

alter table audit.summary_customs_exceeds_vat
    add column evidence_hash bigint generated always as (jsonb_hash_extended(evidence, 0)) stored;
alter table audit.summary_dishonest_rep_elsewhere
    add column evidence_hash bigint generated always as (jsonb_hash_extended(evidence, 0)) stored;
alter table audit.summary_vat_without_local
    add column evidence_hash bigint generated always as (jsonb_hash_extended(evidence, 0)) stored;
