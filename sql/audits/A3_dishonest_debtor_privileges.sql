-- A3 dishonest_debtor_privileges (AUDITS.md)
--
-- Rule: a dishonest-debtor record with lxqk 全部未履行, and a construction qualification or
-- a food/drug licence whose 发证日期 is after that record's publication date (fbrq).
--
-- Near misses, not reported: 部分未履行 (or any lxqk other than exactly 全部未履行); a
-- qualification or licence issued on or before the publication date ("after" is strict);
-- a debtor record that was deleted, or whose live version no longer says 全部未履行 (only
-- live records); a privilege of another enterprise.
-- Evidence: the debtor records and the privileges issued after their publication, and the
-- pairs (debtor record, privilege) that make the finding.
--
-- The privileges come from the run's summary (audit.privilege, sql/audits/summaries/
-- privilege.sql: every live dated qualification and licence by enterprise), joined with the
-- debtor records without nested loops.
-- planner: enable_nestloop = off
with unperformed as (
    select enterprise_id, record_id, source, case_no, published_on, performance
    from audit.court__dishonest_debtors
    where btrim(performance) = '全部未履行'
      and published_on is not null
),

pair as (
    select u.enterprise_id,
           u.record_id as debtor_record_id, u.source as debtor_source, u.case_no,
           u.published_on, u.performance,
           p.record_id as privilege_record_id,
           audit.record_source(p.agency, p.feed, p.record_id) as privilege_source, p.issued_on
    from unperformed as u
    join audit.privilege as p
      on p.enterprise_id = u.enterprise_id
     and p.issued_on > u.published_on
),

evidence_record as (
    select enterprise_id, published_on as sort_date, debtor_record_id as record_id,
           debtor_source || jsonb_build_object('case_no', case_no,
                                               'published_on', published_on,
                                               'performance', performance) as record
    from pair
    union
    select enterprise_id, issued_on, privilege_record_id,
           privilege_source || jsonb_build_object('issued_on', issued_on)
    from pair
),

records as (
    select enterprise_id,
           jsonb_agg(record order by sort_date, record ->> 'feed', record_id) as records
    from evidence_record
    group by enterprise_id
),

pairs as (
    select enterprise_id,
           jsonb_agg(jsonb_build_object('dishonest_debtor', debtor_source,
                                        'published_on', published_on,
                                        'privilege', privilege_source,
                                        'issued_on', issued_on)
                     order by published_on, debtor_record_id, issued_on, privilege_record_id)
               as pairs
    from pair
    group by enterprise_id
)

select p.enterprise_id,
       jsonb_build_object('records', r.records, 'pairs', p.pairs) as evidence
from pairs as p
join records as r on r.enterprise_id = p.enterprise_id
