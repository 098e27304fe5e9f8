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
-- an enterprise's legal representative, indexed by person and by enterprise), so the audit
-- starts from the debtors' representatives and reads only the enterprises they also represent.
-- A person is named by several records of each enterprise (its registration, seal filings):
-- the pairs are found per (debtor, person) and (other enterprise, person) first, and the
-- records are attached to the pairs after, each once. (Joining record with record, every
-- debtor-side record met every other-side record: 649,048 rows for 31,397 pairs at scale 1.)
with debtor_record as (
    select enterprise_id, agency, feed, record_id, case_no, published_on, performance
    from audit.court__dishonest_debtors
),

active as (
    select enterprise_id, record_id, source, status
    from audit.enterprise_registration
    where status = '存续'
),

-- The records naming a person as legal representative of a debtor.
debtor_rep as (
    select r.enterprise_id, r.person, r.person_masked, r.agency, r.feed, r.record_id
    from audit.legal_rep as r
    where r.enterprise_id in (select enterprise_id from debtor_record)
),

-- Each debtor's representatives, once per person (and masked id).
debtor_person as (
    select distinct enterprise_id, person, person_masked
    from debtor_rep
),

-- The records naming the same person as legal representative of another, active enterprise
-- (a row per masked id of the debtor's person: the unions and DISTINCT below drop repeats).
active_rep as (
    select d.enterprise_id as debtor_id, r.enterprise_id as active_id, r.person,
           r.agency, r.feed, r.record_id
    from debtor_person as d
    join audit.legal_rep as r
      on r.person = d.person
     and r.enterprise_id <> d.enterprise_id
    where exists (select from active as a where a.enterprise_id = r.enterprise_id)
),

pair as (
    select distinct a.debtor_id, a.active_id, a.person, d.person_masked
    from active_rep as a
    join debtor_person as d on d.enterprise_id = a.debtor_id and d.person = a.person
),

involved as (
    select debtor_id as enterprise_id, 'dishonest_debtor' as role, p.*
    from pair as p
    union all
    select active_id, 'active_elsewhere', p.*
    from pair as p
),

-- Per finding, each record once, with the enterprise it is about (the record's own).
evidence_key as (
    select i.enterprise_id, d.enterprise_id as about_id, d.agency, d.feed, d.record_id
    from involved as i
    join debtor_record as d on d.enterprise_id = i.debtor_id
    union
    select i.enterprise_id, r.enterprise_id, r.agency, r.feed, r.record_id
    from involved as i
    join debtor_rep as r on r.enterprise_id = i.debtor_id and r.person = i.person
    union
    select i.enterprise_id, r.active_id, r.agency, r.feed, r.record_id
    from involved as i
    join active_rep as r
      on r.debtor_id = i.debtor_id and r.active_id = i.active_id and r.person = i.person
    union
    select i.enterprise_id, a.enterprise_id, a.source ->> 'agency', a.source ->> 'feed',
           a.record_id
    from involved as i
    join active as a on a.enterprise_id = i.active_id
),

evidence_record as (
    select k.enterprise_id, k.about_id, k.agency, k.feed, k.record_id,
           audit.record_source(k.agency, k.feed, k.record_id)
               || case when d.record_id is null
                       then jsonb_build_object('enterprise_id', k.about_id)
                       else jsonb_build_object('enterprise_id', k.about_id,
                                               'case_no', d.case_no,
                                               'published_on', d.published_on,
                                               'performance', d.performance) end as record
    from evidence_key as k
    left join debtor_record as d
      on d.agency = k.agency and d.feed = k.feed and d.record_id = k.record_id
),

-- Ordered by the columns, not by fields read back from the built records (three jsonb
-- lookups per comparison: a third of the audit's time at scale 1).
records as (
    select enterprise_id,
           jsonb_agg(record order by about_id, agency, feed, record_id) as records
    from evidence_record
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
