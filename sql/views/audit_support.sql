-- What the cross-audits (sql/audits/A*.sql) read, per feed. Applied by every
-- `xinyong db migrate` after the feed tables exist (a migration cannot refer to them on a
-- fresh warehouse; see V005__audit_support.sql), so a feed added later gets the same
-- (each feed table's index on record_id, the side a run's links are joined on, comes with the
-- table: xinyong.warehouse.schema.ensure_feed_tables):
--
--   audit.<agency>__<feed>                     the feed's live records (latest version, not
--                                             deleted) that the audited run links to an
--                                             enterprise: enterprise_id, agency, feed,
--                                             source = {"agency", "feed", "record_id"} (what
--                                             evidence names), then the table's columns
--   audit.<agency>__<feed>__by_enterprise     the same rows, read enterprise by enterprise:
--                                             for a query that filters on enterprise_id
--   audit.audited_run()                        the run audited (xinyong.run_id, else published)
--   audit.enterprise_registration,             the audited run's summaries (audit.summary_*):
--   audit.enterprise_activity,                 register entry, activity counts and dates,
--   audit.enterprise_trade(_year),             customs and VAT per year, legal representation,
--   audit.representation, audit.penalty,      dated penalties and privileges
--   audit.privilege
--   audit.record_source(agency, feed, record_id)  what evidence names a record by

-- What evidence names a record by. An audit that reads millions of rows carries agency, feed
-- and record_id through its joins and builds this only for the records of its findings: built
-- for every row (the views' column source), it was half of A1's time at scale 0.1.
create or replace function audit.record_source(agency text, feed text, record_id text)
returns jsonb
language sql immutable parallel safe
as $$ select jsonb_build_object('agency', agency, 'feed', feed, 'record_id', record_id) $$;

comment on function audit.record_source(text, text, text) is
    'the evidence name of a delivered record: {"agency", "feed", "record_id"}';

do $$
declare
    feed_table record;
    view_columns text;  -- what both views of a feed select
begin
    for feed_table in
        select c.relname as name,
               split_part(c.relname, '__', 1) as agency,
               substr(c.relname, strpos(c.relname, '__') + 2) as feed
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'ingest' and c.relkind = 'r' and strpos(c.relname, '__') > 0
          and (select count(*) from pg_attribute as a
               where a.attrelid = c.oid and not a.attisdropped
                 and a.attname in ('record_id', 'valid_to', 'op')) = 3
        order by c.relname
    loop
        if exists (select 1 from pg_attribute as a
                   where a.attrelid = format('ingest.%I', feed_table.name)::regclass
                     and not a.attisdropped
                     and a.attname in ('enterprise_id', 'agency', 'feed', 'source')) then
            raise warning 'ingest.% has a column named like the audit view''s own; no audit view',
                feed_table.name;
            continue;
        end if;
        view_columns := format(
            'l.enterprise_id, %1$L::text as agency, %2$L::text as feed,'
            ' audit.record_source(%1$L::text, %2$L::text, l.record_id) as source, t.*',
            feed_table.agency, feed_table.feed);
        execute format($view$
            create or replace view audit.%1$I as
            select %4$s
            from ingest.%1$I as t
            join audit.run_link as l
              on l.agency = %2$L and l.feed = %3$L and l.record_id = t.record_id
            where t.valid_to is null and t.op <> 'D'
        $view$, feed_table.name, feed_table.agency, feed_table.feed, view_columns);
        execute format(
            'comment on view audit.%I is %L', feed_table.name,
            format('live records of ingest.%s linked to an enterprise by the audited run'
                   ' (xinyong.run_id, else the published run)', feed_table.name));
        -- The same rows for a query that names its enterprises (an audit's evidence): the
        -- run's links of those enterprises by index, then each linked record by its record_id.
        -- The planner cannot count an audit's enterprises (they come from a CTE) and plans a
        -- join of the view above for ~2.5x the links there are; at scale 1 it then hashes
        -- the whole feed (A5: 16.6M VAT returns hashed for 370k probes, 9 s against 1.3 s).
        -- OFFSET 0 keeps the lookup a subquery, so it stays one index probe per link.
        execute format($view$
            create or replace view audit.%1$I as
            select %5$s
            from audit.run_link as l
            cross join lateral (
                select r.*
                from ingest.%2$I as r
                where r.record_id = l.record_id and r.valid_to is null and r.op <> 'D'
                offset 0
            ) as t
            where l.agency = %3$L and l.feed = %4$L
        $view$, feed_table.name || '__by_enterprise', feed_table.name, feed_table.agency,
            feed_table.feed, view_columns);
        execute format(
            'comment on view audit.%I is %L', feed_table.name || '__by_enterprise',
            format('audit.%s read enterprise by enterprise (filter on enterprise_id): the run''s'
                   ' links of the enterprises, then each record by index', feed_table.name));
    end loop;
end
$$;

-- The run the audits read: xinyong.run_id (set by night.audit and while a run's summaries are
-- built), else the published run.
create or replace function audit.audited_run()
returns bigint
language sql stable parallel safe
as $$ select coalesce(nullif(current_setting('xinyong.run_id', true), '')::bigint,
                      (select p.run_id from credit.published as p)) $$;

comment on function audit.audited_run() is
    'the run being audited: xinyong.run_id, else the published run';

-- The summaries of the audited run (tables audit.summary_*, sql/migrations/V011, filled from
-- sql/audits/summaries/*.sql once the run's links are stored).

-- Most summaries are read as they are, for the audited run: audit.<view> is every column of
-- audit.summary_<name> but run_id.
do $$
declare
    summary record;
begin
    for summary in
        select *
        from (values ('summary_activity', 'enterprise_activity'),
                     ('summary_trade', 'enterprise_trade'),
                     ('summary_trade_year', 'enterprise_trade_year'),
                     ('summary_representation', 'representation'),
                     ('summary_penalty', 'penalty'),
                     ('summary_privilege', 'privilege'),
                     ('summary_late_activity', 'late_activity'),
                     ('summary_listed_trading', 'listed_trading'),
                     ('summary_vat_without_local', 'vat_without_local'),
                     ('summary_customs_exceeds_vat', 'customs_exceeds_vat'),
                     ('summary_dishonest_rep_elsewhere', 'dishonest_rep_elsewhere'))
                     as v (name, view)
    loop
        execute format(
            'create or replace view audit.%I as select %s from audit.%I as s'
            ' where s.run_id = audit.audited_run()',
            summary.view,
            (select string_agg(format('s.%I', a.attname), ', ' order by a.attnum)
             from pg_attribute as a
             where a.attrelid = format('audit.%I', summary.name)::regclass
               and a.attnum > 0 and not a.attisdropped and a.attname <> 'run_id'),
            summary.name);
    end loop;
end
$$;

-- The enterprise's register entry, as resolve.enterprise.status takes it: of its live AIC
-- registrations, the latest approved. 登记状态 and 核准日期 of the audits come from here.
create or replace view audit.enterprise_registration as
select s.enterprise_id, s.record_id,
       audit.record_source('aic', 'registrations', s.record_id) as source,
       s.status, s.approved_on, s.name, s.uscc_norm, s.reg_no_norm, s.legal_rep,
       s.legal_rep_id_hash, s.legal_rep_id_masked
from audit.summary_registration as s
where s.run_id = audit.audited_run();

comment on view audit.enterprise_registration is
    'per enterprise of the audited run, its live AIC registration (latest 核准日期)';

comment on view audit.enterprise_activity is
    'per enterprise of the audited run with VAT returns, local-tax or customs declarations: '
    'counts and latest dates of its live records';

comment on view audit.enterprise_trade is
    'per enterprise of the audited run with customs value: its years (customs CNY, VAT sales) '
    'and the records of both as evidence, in the shape of an A2 finding';

comment on view audit.enterprise_trade_year is
    'per enterprise of the audited run and year with customs value: customs CNY, VAT sales';

comment on view audit.penalty is
    'per live penalty of the audited run with a date: construction, food/drug and price '
    'penalties, quality inspections 不合格 (enterprise_id, penalty_on, agency, feed, record_id)';

comment on view audit.privilege is
    'per live privilege of the audited run with a date: construction qualifications and '
    'food/drug licences (enterprise_id, issued_on, agency, feed, record_id)';

comment on view audit.representation is
    'per person (identity-number hash) and enterprise of the audited run: the live records '
    'naming the person as the enterprise''s legal representative, and its register entry';

create or replace view audit.enterprise_rating as
select s.enterprise_id, s.rating_year, s.record_id,
       audit.record_source('state_tax', 'credit_ratings', s.record_id) as source, s.rating
from audit.summary_rating as s
where s.run_id = audit.audited_run();

comment on view audit.enterprise_rating is
    'per enterprise of the audited run and rating year (pjnd), its live state-tax credit ratings';

comment on view audit.late_activity is
    'live activity records dated after the 核准日期 of an enterprise of the audited run that is '
    'not in business (登记状态 other than 存续 and 在业)';

comment on view audit.listed_trading is
    'per live abnormal-operations listing of the audited run, removed or not, the live customs '
    'declarations of its enterprise on or after its 列入日期';

comment on view audit.customs_exceeds_vat is
    'per enterprise of the audited run that A2 reports: the evidence of its finding (the '
    'exceeding years and their declarations and returns)';

comment on view audit.dishonest_rep_elsewhere is
    'per enterprise of the audited run that A7 reports: the evidence of its finding (debtor '
    'records, the records naming the shared legal representative, registrations, pairs)';

comment on view audit.vat_without_local is
    'per enterprise of the audited run with VAT returns and no local-tax declaration: its '
    'register entry, and its registration and returns as evidence records';
