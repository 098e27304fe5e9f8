-- audit.summary_dishonest_rep_elsewhere: A7's findings of the run, built by the night, a row
-- per enterprise reported with its evidence (A7, sql/audits/A7_dishonest_legal_rep_elsewhere.sql,
-- copies them). Unlike the other summaries, this one applies an audit's rule: building the
-- evidence of A7's 49,509 findings at scale 1 (559,554 records, sorted, de-duplicated and
-- aggregated) took 4.4 s, past the second an audit may take, and a night has the time.
--
-- Rule (AUDITS.md A7): a person, identified by resident identity number (AIC 法定代表人证件号码
-- or public-security fddbr_sfzh), is legal representative of an enterprise that is a
-- dishonest debtor and of another enterprise whose 登记状态 is 存续. Report both enterprises.
--
-- Persons are compared by the keyed hash of the identity number (legal_rep_id_hash of
-- ingest.aic__registrations and ingest.public_security__seal_filings); names are never
-- compared. A dishonest debtor is an enterprise with a live dishonest-debtor record
-- (whatever its lxqk). The other enterprise's status is its register entry
-- (audit.enterprise_registration: its live AIC registration, the latest approved).
--
-- Near misses, not reported: a legal representative whose other enterprise is 注销 (or 在业,
-- 吊销, 迁出, or has no registration); the same person for one enterprise only (the debtor
-- itself is not "another enterprise"); a representative named in a superseded version of a
-- registration or a deleted seal filing; a debtor record that was deleted; two persons of
-- the same name (different identity numbers).
-- Evidence, for either enterprise: the debtor's dishonest-debtor records, the records that
-- name the person as legal representative of each enterprise, the other enterprise's
-- registration, and the pairs (debtor, other enterprise, person as masked id and hash).
--
-- Persons come from the run's summary audit.representation: a row per person and
-- enterprise, with the enterprise's 登记状态 and the records naming the person as its legal
-- representative, already built as evidence records (representation.sql).
-- The debtors' persons are taken, then every enterprise they represent, once: both
-- sides of every pair are in it. The pairs are found per (enterprise, person), and the
-- records are attached to them after, each once. (Joining record with record, every
-- debtor-side record met every other-side record: 649,048 rows for 31,397 pairs at scale 1.)
-- Whether an enterprise is a debtor is a hashed lookup on each row: as a join, the planner
-- counted 79 debtors of 3,819 at scale 0.1 and compared every pair with every debtor.
-- after: representation
with debtor_record as (
    select enterprise_id, agency, feed, record_id, case_no, published_on, performance
    from audit.court__dishonest_debtors
),

-- The persons who represent a debtor.
debtor_person as (
    select distinct r.person
    from audit.representation as r
    where r.enterprise_id in (select enterprise_id from debtor_record)
),

-- Every enterprise they represent, whether it is a debtor, its 登记状态 and the records naming
-- them: both sides of every pair, read once, a row per person and enterprise.
person_rep as (
    select r.person, r.enterprise_id, r.person_masked, r.status, r.registration_record_id,
           r.records, r.enterprise_id in (select enterprise_id from debtor_record) as is_debtor
    from audit.representation as r
    where r.person in (select person from debtor_person)
),

-- The debtor's side names the person's masked ids (a row each). Arrays are expanded in the
-- select list, here and below: in FROM, each expansion is a nested loop, which the summaries
-- are planned without (and, with nested loops off, such a plan is costed past the JIT
-- thresholds and compiled).
pair as (
    select distinct d.enterprise_id as debtor_id, a.enterprise_id as active_id, d.person,
           unnest(d.person_masked) as person_masked
    from person_rep as d
    join person_rep as a on a.person = d.person and a.enterprise_id <> d.enterprise_id
    where d.is_debtor
      and a.status = '存续'
),

involved as (
    select debtor_id as enterprise_id, 'dishonest_debtor' as role, p.*
    from pair as p
    union all
    select active_id, 'active_elsewhere', p.*
    from pair as p
),

-- Per finding, the debtors whose records it names, and the (enterprise, person) whose
-- representation records it names: each once, however many pairs the finding has.
finding_debtor as (
    select distinct enterprise_id, debtor_id
    from involved
),

finding_rep as (
    select enterprise_id, debtor_id as represented_id, person
    from involved
    union
    select enterprise_id, active_id, person
    from involved
),

-- The representation records, and the active enterprises' registrations (often one of them).
rep_record as (
    select enterprise_id, about_id, record ->> 'agency' as agency, record ->> 'feed' as feed,
           record ->> 'record_id' as record_id, record
    from (select f.enterprise_id, p.enterprise_id as about_id,
                 jsonb_array_elements(p.records) as record
          from finding_rep as f
          join person_rep as p on p.enterprise_id = f.represented_id and p.person = f.person)
         as named
    union all
    select distinct i.enterprise_id, p.enterprise_id, 'aic', 'registrations',
           p.registration_record_id,
           jsonb_build_object('agency', 'aic', 'feed', 'registrations',
                              'record_id', p.registration_record_id,
                              'enterprise_id', p.enterprise_id)
    from involved as i
    join person_rep as p on p.enterprise_id = i.active_id and p.person = i.person
),

-- The debtor records, each built in one call (a record_source object extended with || builds
-- it twice), and the representation records as the summary built them.
evidence_record as (
    select f.enterprise_id, d.enterprise_id as about_id, d.agency, d.feed, d.record_id,
           jsonb_build_object('agency', d.agency, 'feed', d.feed, 'record_id', d.record_id,
                              'enterprise_id', d.enterprise_id, 'case_no', d.case_no,
                              'published_on', d.published_on,
                              'performance', d.performance) as record
    from finding_debtor as f
    join debtor_record as d on d.enterprise_id = f.debtor_id
    union all
    select enterprise_id, about_id, agency, feed, record_id, record
    from rep_record
),

-- The records of each finding in order, each once: sorted as columns, then aggregated in that
-- order (a group's ORDER BY inside jsonb_agg sorts the built records again).
records as (
    select enterprise_id, jsonb_agg(record) as records
    from (select distinct on (enterprise_id, about_id, agency, feed, record_id) *
          from evidence_record
          order by enterprise_id, about_id, agency, feed, record_id) as sorted
    group by enterprise_id
),

facts as (
    select enterprise_id,
           jsonb_agg(distinct role order by role) as roles,
           jsonb_agg(distinct jsonb_build_object('debtor_enterprise_id', debtor_id,
                                                 'active_enterprise_id', active_id,
                                                 'active_status', '存续',
                                                 'legal_rep_id_masked', person_masked,
                                                 'legal_rep_id_hash', person)) as pairs
    from involved
    group by enterprise_id
)

select f.enterprise_id,
       jsonb_build_object('records', r.records, 'roles', f.roles, 'pairs', f.pairs) as evidence
from facts as f
join records as r on r.enterprise_id = f.enterprise_id
