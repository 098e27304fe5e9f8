-- A5's evidence, stored once per enterprise by the night. audit.summary_vat_without_local
-- keeps, beside an enterprise's VAT returns, its register entry (登记状态 and registration)
-- and `evidence`: the registration and the returns as evidence records, with the counts, in
-- the shape of an A5 finding. A5 copies it for the enterprises 存续 with 12 returns or more.
--
-- Why: at scale 1, A5 looked up the register entry of 15,722 enterprises one index probe at
-- a time (0.62 s of its 0.77 s), and built their records again into each finding. The
-- summary keeps facts; A5 still applies its rule (exactly 存续, at least 12 returns).

-- The view over the old columns goes with them; `xinyong db migrate` makes the views again
-- after the migrations (sql/views/audit_support.sql).
drop view if exists audit.vat_without_local;
delete from audit.summary_vat_without_local;  -- built again by the next night or audit
alter table audit.summary_vat_without_local drop column records;
alter table audit.summary_vat_without_local add column registration_record_id text;
alter table audit.summary_vat_without_local add column status text;
alter table audit.summary_vat_without_local add column evidence jsonb not null;
comment on column audit.summary_vat_without_local.registration_record_id is
    'the enterprise''s register entry (audit.summary_registration), null when it has none';
comment on column audit.summary_vat_without_local.status is 'its 登记状态';
comment on column audit.summary_vat_without_local.evidence is
    '{records, status, vat_returns, first_period, last_period, local_tax_declarations: 0}: '
    'the registration (with its status) and the returns as evidence records, by tax period';
select audit.prefer_lz4('audit.summary_vat_without_local', 'evidence');

-- Every run's summaries are built again (the published run's by the next `xinyong audit` or
-- night).
delete from audit.summary_run;
