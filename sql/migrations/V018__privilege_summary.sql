-- A3's privileges, gathered once per run by the night. audit.summary_privilege keeps every
-- live dated construction qualification and food/drug licence, a row each, in the order of
-- enterprise and date (sql/audits/summaries/privilege.sql).
--
-- Why: at scale 1, A3 read the privileges of its 20,494 debtor records' enterprises through
-- the run's links (468k links of the two feeds scanned by index, then 21k records probed by
-- record_id): 0.4 s of its 0.64 s warm, and 24.5k pages from outside PostgreSQL's cache,
-- which is where its slow first runs went (1.2-2.0 s). A3 still applies its rule (全部未履行,
-- issued after the publication) to these rows.
create table audit.summary_privilege (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    issued_on     date not null,
    agency        text not null,
    feed          text not null,
    record_id     text not null,
    primary key (run_id, enterprise_id, issued_on, agency, feed, record_id)
);
comment on table audit.summary_privilege is
    'per run, every live privilege with its 发证日期: construction qualifications and food/drug '
    'licences';

-- Every run's summaries are built again (the published run's by the next `xinyong audit` or
-- night): this one is new.
delete from audit.summary_run;
