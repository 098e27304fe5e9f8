-- Per-run summaries the audits start from. Each table is filled from the query of the same
-- name in sql/audits/summaries/ (summary_activity <- activity.sql, ...) once a run's links are
-- stored (xinyong.night.build_audit_summaries), over the same audit.<feed> views the audits
-- read: live records only, linked by that run.
--
-- Why: an audit that joins whole feeds with the run's links pays for tens of millions of rows
-- at full scale (A1, A2 and A5 about 50 s each). The night reads each feed once to fill these
-- tables; an audit then finds its enterprises in them and reads the records of those
-- enterprises only, by index, to build the evidence.
--
-- Rows go with their run (on delete cascade), like the run's links and findings.

create table audit.summary_registration (
    run_id              bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id       text not null,
    record_id           text not null,
    status              text,
    approved_on         date,
    name                text,
    uscc_norm           text,
    reg_no_norm         text,
    legal_rep           text,
    legal_rep_id_hash   text,
    legal_rep_id_masked text,
    primary key (run_id, enterprise_id)
);
comment on table audit.summary_registration is
    'per run and enterprise, its live AIC registration (the latest 核准日期 when several)';

create table audit.summary_activity (
    run_id                  bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id           text not null,
    vat_returns             integer not null,
    vat_first_period        text,
    vat_last_period         text,
    vat_last_filed_on       date,
    local_declarations      integer not null,
    local_last_period_start date,
    customs_declarations    integer not null,
    customs_last_declared_on date,
    primary key (run_id, enterprise_id)
);
comment on table audit.summary_activity is
    'per run and enterprise with any VAT return, local-tax or customs declaration: counts and '
    'latest dates of its live records';

create table audit.summary_trade_year (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    year          integer not null,
    customs_cny   numeric not null,
    vat_sales     numeric not null,
    primary key (run_id, enterprise_id, year)
);
comment on table audit.summary_trade_year is
    'per run, enterprise and calendar year with customs value: customs value in CNY and VAT sales';

create table audit.summary_legal_rep (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    person        text not null,
    enterprise_id text not null,
    agency        text not null,
    feed          text not null,
    record_id     text not null,
    person_masked text
);
create index summary_legal_rep_person on audit.summary_legal_rep (run_id, person);
create index summary_legal_rep_enterprise on audit.summary_legal_rep (run_id, enterprise_id);
comment on table audit.summary_legal_rep is
    'per run, every live record naming a person (identity-number hash) as an enterprise''s '
    'legal representative';

-- A run whose summaries are complete (built in one transaction with the rows above).
create table audit.summary_run (
    run_id   bigint primary key references resolve.night_run (run_id) on delete cascade,
    built_at timestamptz not null default now(),
    seconds  numeric not null
);
comment on table audit.summary_run is 'runs whose audit summaries are built';
