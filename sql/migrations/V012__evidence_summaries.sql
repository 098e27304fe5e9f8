-- More per-run summaries (sql/audits/summaries/, as in V011): the records an audit names as
-- evidence, gathered once by the night for the few enterprises that can need them, so that
-- an audit reads neither whole feeds nor a feed record by record.
--
-- Why: at scale 1, A1, A4 and A5 spent 3-5 s each reading 60-600k records of their
-- enterprises one index probe at a time (audit.<feed>__by_enterprise), A2 22 s reading 1.9M,
-- and A6 1 s reading all 1.39M rating links. Each summary keeps a fact, not a verdict: the
-- audit still applies its rule (statuses, thresholds, a listing still open, rating A) to it.
--
-- Rows go with their run (on delete cascade). A summary's rows are written in the order of
-- its primary key, so that reading one run's rows by it reads the table in order.

create table audit.summary_rating (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    rating_year   integer not null,
    record_id     text not null,
    rating        text,
    primary key (run_id, enterprise_id, rating_year, record_id)
);
comment on table audit.summary_rating is
    'per run, every live state-tax credit rating (纳税信用等级) with its rating year (pjnd)';

create table audit.summary_late_activity (
    run_id                 bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id          text not null,
    registration_record_id text not null,
    status                 text,
    approved_on            date not null,
    activities             integer not null,
    first_after            date not null,
    last_after             date not null,
    records                jsonb not null,
    primary key (run_id, enterprise_id)
);
comment on table audit.summary_late_activity is
    'per run and enterprise whose register entry is not in business (登记状态 other than 存续 '
    'and 在业): the entry, and its live VAT returns, local-tax and customs declarations dated '
    'after the entry''s 核准日期 as evidence records';

create table audit.summary_listed_trading (
    run_id                bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id         text not null,
    listing_record_id     text not null,
    listed_on             date not null,
    listing_reason        text,
    removed_on            date,
    removed_on_unreadable boolean not null,
    declarations          integer not null,
    first_declared_on     date not null,
    last_declared_on      date not null,
    records               jsonb not null,
    primary key (run_id, enterprise_id, listing_record_id)
);
comment on table audit.summary_listed_trading is
    'per run and live abnormal-operations listing with a 列入日期, removed or not: the live '
    'customs declarations of its enterprise dated on or after the 列入日期, as evidence records';

create table audit.summary_vat_without_local (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    returns       integer not null,
    first_period  text,
    last_period   text,
    records       jsonb not null,
    primary key (run_id, enterprise_id)
);
comment on table audit.summary_vat_without_local is
    'per run and enterprise with live VAT returns and no live local-tax declaration: how many '
    'returns, their first and last tax period, and the returns as evidence records (agency, '
    'feed, record_id, tax_period, filed_on)';

-- A2's years carry their declarations and returns as evidence records.
alter table audit.summary_trade_year add column records jsonb not null default '[]';
alter table audit.summary_trade_year alter column records drop default;
comment on column audit.summary_trade_year.records is
    'the year''s customs declarations and VAT returns as evidence records, in date order';

-- A large evidence value is compressed when it is stored. lz4 compresses several times
-- faster than the default pglz (A5's 370k evidence records at scale 1), where the server
-- was built with it; a server without it keeps pglz.
do $$
begin
    alter table audit.finding alter column evidence set compression lz4;
    alter table audit.summary_vat_without_local alter column records set compression lz4;
    alter table audit.summary_trade_year alter column records set compression lz4;
    alter table audit.summary_late_activity alter column records set compression lz4;
    alter table audit.summary_listed_trading alter column records set compression lz4;
exception when feature_not_supported then
    raise notice 'this server has no lz4: evidence is compressed with pglz';
end
$$;

-- The runs summarised before this migration lack these summaries (and A2's records): they are
-- built again, for the published run by the next `xinyong audit` or night.
delete from audit.summary_run;
