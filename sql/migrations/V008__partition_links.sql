-- resolve.link partitioned by run (LIST on run_id): one partition per night's run,
-- resolve.link_run_<run_id>. A night loads its links into a new table without indexes, then
-- attaches it (the indexes are built once, after the bulk load: xinyong.night
-- _store_resolution), and an old run's links go by dropping its partition instead of a
-- DELETE of tens of millions of rows (night.remove_old_runs). Queries already name one run
-- (credit.published, audit.run_link, xinyong.run_id): they read one partition.
--
-- Upgrading a populated warehouse keeps every link without copying it: the existing table
-- becomes the partition resolve.link_before_v008 holding the runs it has, and is dropped with
-- the last of them. Its indexes and foreign key match the new parent's, so they are attached,
-- not rebuilt; attaching checks (one scan) that it holds only those runs.
alter table resolve.link rename to link_before_v008;
alter table resolve.link_before_v008 rename constraint link_pkey to link_before_v008_pkey;
alter table resolve.link_before_v008
    rename constraint link_run_id_fkey to link_before_v008_run_id_fkey;
alter index resolve.link_enterprise rename to link_before_v008_enterprise;

create table resolve.link (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    agency        text not null,
    feed          text not null,
    record_id     text not null,
    enterprise_id text not null,
    rule          text not null,
    evidence      jsonb not null default '{}',
    primary key (run_id, agency, feed, record_id)
) partition by list (run_id);
-- enterprise_id then agency, feed: a view reading one feed's links of one enterprise stays on them.
create index link_enterprise on resolve.link (run_id, enterprise_id, agency, feed);

comment on table resolve.link is
    'every live mention linked to an enterprise, per run; one partition per run '
    '(resolve.link_run_<run_id>), dropped when the run is removed';

-- Views bind to a table, not its name: point the one a migration owns at the new parent
-- (credit.record_link is recreated from sql/views/ after the migrations).
create or replace view audit.run_link as
select l.run_id, l.agency, l.feed, l.record_id, l.enterprise_id, l.rule, l.evidence
from resolve.link as l
where l.run_id = coalesce(nullif(current_setting('xinyong.run_id', true), '')::bigint,
                          (select p.run_id from credit.published as p));

-- The existing table, with the runs it may hold (its foreign key: runs of resolve.night_run),
-- or none: run 0 is never issued, and a partition of no kept run is dropped at the next
-- publication (night.drop_link_partitions). Attaching keeps views that still name it working.
do $$
declare
    runs text;
begin
    select coalesce(string_agg(run_id::text, ', ' order by run_id), '0') into runs
    from resolve.night_run;
    execute format('alter table resolve.link attach partition resolve.link_before_v008'
                   ' for values in (%s)', runs);
end
$$;
