-- A7's persons, a row per person and enterprise. audit.summary_representation keeps, per run,
-- person (identity-number hash) and enterprise: the records naming the person as the
-- enterprise's legal representative as evidence records, the masked identity numbers they
-- show, and the enterprise's register entry (登记状态 and its registration). Written in
-- person order (its primary key), the enterprises of a person are on one or two pages.
--
-- Why: it replaces audit.summary_legal_rep, a row per record in feed order. At scale 1, A7
-- read the 390,528 records of the debtors' 38,880 persons from it one index probe at a time
-- (1.7 s), then probed 86,607 registrations for their status (0.75 s), and built every
-- record of its evidence again. Status and records are facts about the enterprise; A7 still
-- applies its rule (a debtor, another enterprise 存续) to them.

-- The view over the old table goes with it; `xinyong db migrate` makes the views again after
-- the migrations (sql/views/audit_support.sql).
drop view if exists audit.legal_rep;
drop table audit.summary_legal_rep;

create table audit.summary_representation (
    run_id                 bigint not null references resolve.night_run (run_id) on delete cascade,
    person                 text not null,
    enterprise_id          text not null,
    person_masked          text[] not null,
    status                 text,
    registration_record_id text,
    records                jsonb not null,
    primary key (run_id, person, enterprise_id)
);
create index summary_representation_enterprise
    on audit.summary_representation (run_id, enterprise_id);
comment on table audit.summary_representation is
    'per run, person (identity-number hash) and enterprise: the live records naming the person '
    'as the enterprise''s legal representative, and the enterprise''s register entry';
comment on column audit.summary_representation.person_masked is
    'the masked identity numbers those records show (each once; null when a record has none)';
comment on column audit.summary_representation.status is
    'the enterprise''s 登记状态 (audit.summary_registration); null when it has no live registration';
comment on column audit.summary_representation.registration_record_id is
    'the record_id of that registration';
comment on column audit.summary_representation.records is
    'the records naming the person, as evidence records ({agency, feed, record_id, '
    'enterprise_id}) ordered by agency, feed and record_id';

-- Every run's summaries are built again (the published run's by the next `xinyong audit` or
-- night): this one is new.
delete from audit.summary_run;
