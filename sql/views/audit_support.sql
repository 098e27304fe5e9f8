-- What the cross-audits (sql/audits/A*.sql) read, per feed. Applied by every
-- `xinyong db migrate` after the feed tables exist (a migration cannot refer to them on a
-- fresh warehouse; see V005__audit_support.sql), so a feed added later gets the same:
--
--   ingest.<agency>__<feed>__live_record_id   index on record_id of the current versions:
--                                             the side a run's links are joined on
--   audit.<agency>__<feed>                     the feed's live records (latest version, not
--                                             deleted) that the audited run links to an
--                                             enterprise: enterprise_id, agency, feed,
--                                             source = {"agency", "feed", "record_id"} (what
--                                             evidence names), then the table's columns
--   audit.enterprise_registration              per enterprise, its live AIC registration
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
        execute format(
            'create index if not exists %I on ingest.%I (record_id) where valid_to is null',
            feed_table.name || '__live_record_id', feed_table.name);
        execute format($view$
            create or replace view audit.%1$I as
            select l.enterprise_id,
                   %2$L::text as agency,
                   %3$L::text as feed,
                   audit.record_source(%2$L::text, %3$L::text, t.record_id) as source,
                   t.*
            from ingest.%1$I as t
            join audit.run_link as l
              on l.agency = %2$L and l.feed = %3$L and l.record_id = t.record_id
            where t.valid_to is null and t.op <> 'D'
        $view$, feed_table.name, feed_table.agency, feed_table.feed);
        execute format(
            'comment on view audit.%I is %L', feed_table.name,
            format('live records of ingest.%s linked to an enterprise by the audited run'
                   ' (xinyong.run_id, else the published run)', feed_table.name));
    end loop;
end
$$;

-- The enterprise's register entry, as resolve.enterprise.status takes it (night.py): of its
-- live AIC registrations, the latest approved. 登记状态 and 核准日期 of the audits come from here.
create or replace view audit.enterprise_registration as
select distinct on (r.enterprise_id)
       r.enterprise_id, r.record_id, r.source, r.status, r.approved_on, r.name, r.uscc_norm,
       r.reg_no_norm, r.legal_rep, r.legal_rep_id_hash, r.legal_rep_id_masked
from audit.aic__registrations as r
order by r.enterprise_id, r.approved_on desc nulls last, r.record_id;

comment on view audit.enterprise_registration is
    'per enterprise of the audited run, its live AIC registration (latest 核准日期)';
