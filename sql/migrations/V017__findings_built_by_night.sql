-- The findings of A2 and A7, built once per run by the night with their evidence, in the
-- shape of a finding: audit.summary_customs_exceeds_vat (sql/audits/summaries/
-- customs_exceeds_vat.sql) and audit.summary_dishonest_rep_elsewhere (…/dishonest_rep_elsewhere.sql).
-- A2 and A7 copy them. Unlike the other summaries, these apply an audit's rule.
--
-- Why: at scale 1, A7 took 4.39 s (p50 of 10), over the second an audit may take: about 1 s
-- finding the persons and pairs, 0.87 s writing the 559,554 evidence records of its 49,509
-- findings, and most of the rest building, sorting and aggregating those records. A2 took
-- 0.78-0.95 s (p50), its p95 1.04-1.57 s: about 0.5 s finding the exceeding years and
-- cutting their records, 0.45 s writing its 1.4M records. A stored evidence value is copied
-- into a finding compressed as it is.
create table audit.summary_customs_exceeds_vat (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    evidence      jsonb not null,
    primary key (run_id, enterprise_id)
);
comment on table audit.summary_customs_exceeds_vat is
    'per run, the enterprises A2 reports (customs value of a year over 5 × that year''s VAT '
    'sales), with the evidence of the finding';
comment on column audit.summary_customs_exceeds_vat.evidence is
    '{records, years}: the declarations and returns of the exceeding years as evidence records '
    'in date order, and each such year''s {year, customs_cny, vat_sales}';
select audit.prefer_lz4('audit.summary_customs_exceeds_vat', 'evidence');

create table audit.summary_dishonest_rep_elsewhere (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    evidence      jsonb not null,
    primary key (run_id, enterprise_id)
);
comment on table audit.summary_dishonest_rep_elsewhere is
    'per run, the enterprises A7 reports (dishonest debtor, or another enterprise 存续 with the '
    'same legal representative), with the evidence of the finding';
comment on column audit.summary_dishonest_rep_elsewhere.evidence is
    '{records, roles, pairs}: the debtors'' dishonest-debtor records, the records naming the '
    'person for each enterprise and the other enterprise''s registration as evidence records; '
    'roles dishonest_debtor and/or active_elsewhere; pairs {debtor_enterprise_id, '
    'active_enterprise_id, active_status, legal_rep_id_masked, legal_rep_id_hash}';
select audit.prefer_lz4('audit.summary_dishonest_rep_elsewhere', 'evidence');

-- Every run's summaries are built again (the published run's by the next `xinyong audit` or
-- night): these are new.
delete from audit.summary_run;
