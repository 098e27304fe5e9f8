-- A7 dishonest_legal_rep_elsewhere (AUDITS.md)
--
-- Rule: a person, identified by resident identity number (AIC 法定代表人证件号码 or
-- public-security fddbr_sfzh), is legal representative of an enterprise that is a dishonest
-- debtor and of another enterprise whose 登记状态 is 存续. Report both enterprises.
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
-- Persons come from the run's summary (audit.legal_rep: every live record naming a person as
-- an enterprise's legal representative, indexed by person and by enterprise). The audit
-- takes the debtors' representatives, then every record naming them, of any enterprise, once:
-- both sides of every pair are in it, and only its enterprises' registrations are read.
-- A person is named by several records of each enterprise (its registration, seal filings):
-- the pairs are found per (debtor, person) and (other enterprise, person) first, and the
-- records are attached to the pairs after, each once. (Joining record with record, every
-- debtor-side record met every other-side record: 649,048 rows for 31,397 pairs at scale 1.)
with debtor_record as (
    select enterprise_id, agency, feed, record_id, case_no, published_on, performance
    from audit.court__dishonest_debtors
),

-- The persons who represent a debtor.
debtor_person as (
    select distinct r.person
    from audit.legal_rep as r
    where r.enterprise_id in (select enterprise_id from debtor_record)
),

-- Every record naming one of them as legal representative, of any enterprise: the records
-- of both sides of every pair, read once.
person_rep as (
    select r.enterprise_id, r.person, r.person_masked, r.agency, r.feed, r.record_id
    from audit.legal_rep as r
    where r.person in (select person from debtor_person)
),

-- The enterprises they represent whose 登记状态 is 存续, with that registration. It is an AIC
-- registration, named so in the evidence below: the view's source column would be built for
-- each of the 86,607 enterprises read at scale 1, not only for those of the pairs.
active as (
    select a.enterprise_id, a.record_id
    from audit.enterprise_registration as a
    where a.enterprise_id in (select enterprise_id from person_rep)
      and a.status = '存续'
),

-- Who represents which active enterprise, each once.
active_person as (
    select distinct p.enterprise_id, p.person
    from person_rep as p
    where p.enterprise_id in (select enterprise_id from active)
),

-- The debtor's side names the person's masked id (a row per masked id, DISTINCT drops
-- repeats of it).
pair as (
    select distinct d.enterprise_id as debtor_id, a.enterprise_id as active_id, d.person,
           d.person_masked
    from person_rep as d
    join active_person as a on a.person = d.person and a.enterprise_id <> d.enterprise_id
    where d.enterprise_id in (select enterprise_id from debtor_record)
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

-- The representation records and the active enterprises' registrations, each once per
-- finding (the registration is often also the record naming the person).
rep_key as (
    select f.enterprise_id, p.enterprise_id as about_id, p.agency, p.feed, p.record_id
    from finding_rep as f
    join person_rep as p on p.enterprise_id = f.represented_id and p.person = f.person
    union
    select i.enterprise_id, a.enterprise_id, 'aic', 'registrations', a.record_id
    from involved as i
    join active as a on a.enterprise_id = i.active_id
),

-- Each record built in one call (a record_source object extended with || builds it twice).
evidence_record as (
    select f.enterprise_id, d.enterprise_id as about_id, d.agency, d.feed, d.record_id,
           jsonb_build_object('agency', d.agency, 'feed', d.feed, 'record_id', d.record_id,
                              'enterprise_id', d.enterprise_id, 'case_no', d.case_no,
                              'published_on', d.published_on,
                              'performance', d.performance) as record
    from finding_debtor as f
    join debtor_record as d on d.enterprise_id = f.debtor_id
    union all
    select enterprise_id, about_id, agency, feed, record_id,
           jsonb_build_object('agency', agency, 'feed', feed, 'record_id', record_id,
                              'enterprise_id', about_id)
    from rep_key
),

-- The records of each finding in order: sorted as columns, then built and aggregated in
-- that order (a group's ORDER BY inside jsonb_agg sorts the built records again).
records as (
    select enterprise_id, jsonb_agg(record) as records
    from (select * from evidence_record
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
