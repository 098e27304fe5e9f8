-- A8's penalties, gathered once per run by the night. audit.summary_penalty keeps every live
-- dated penalty of the four feeds A8 counts (construction, food/drug, price, and quality
-- inspections 不合格), a row each, in the order of enterprise and date.
--
-- Why: at scale 1, reading the four feeds through the run's links was 0.5 s of A8's 0.9 s
-- (the quality inspections alone: 262k links and 262k inspections for 51k 不合格). A8 still
-- applies its rule (3 agencies within 365 days) to these rows.
create table audit.summary_penalty (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    penalty_on    date not null,
    agency        text not null,
    feed          text not null,
    record_id     text not null,
    primary key (run_id, enterprise_id, penalty_on, agency, feed, record_id)
);
comment on table audit.summary_penalty is
    'per run, every live penalty with its date: construction violations (决定日期), food/drug '
    'penalties (处罚日期), price violations (决定日期), quality inspections 不合格 (抽查日期)';

-- Every run's summaries are built again (the published run's by the next `xinyong audit` or
-- night): this one is new.
delete from audit.summary_run;
