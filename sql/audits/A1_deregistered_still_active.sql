-- A1 deregistered_still_active (AUDITS.md)
--
-- Rule: AIC 登记状态 is 注销 or 吊销, and a VAT return with filing date (sbrq), a local-tax
-- declaration whose period starts (sssqq), or a customs declaration (DeclareDate) falls
-- AFTER the enterprise's 核准日期.
--
-- Near misses, not reported: activity on or before the 核准日期 ("after" is strict: the
-- date must be later than approved_on); a status other than 注销/吊销 (存续, 在业, 迁出);
-- an activity record that was deleted or replaced by a version dated earlier (only live
-- records, via the audit.<feed> views); an activity or approval date that could not be read.
--
-- The status and 核准日期 are the enterprise's register entry (audit.enterprise_registration:
-- its live AIC registration, the latest approved when it has several).
-- Evidence: the registration and every live activity record after its 核准日期.
--
-- The activity after the 核准日期 of every enterprise not in business comes from the run's
-- summary (audit.late_activity, sql/audits/summaries/late_activity.sql: its records dated
-- after the entry's 核准日期, by filing date, period start and DeclareDate as above); this
-- file keeps the enterprises whose entry is 注销 or 吊销.
with deregistered as (
    select r.enterprise_id, r.source, r.status, r.approved_on
    from audit.enterprise_registration as r
    where r.status in ('注销', '吊销')
      and r.approved_on is not null
      and r.enterprise_id in (select enterprise_id from audit.late_activity)
),

after_approval as (
    select d.enterprise_id, d.source, d.status, d.approved_on,
           audit.record_source(a.agency, a.feed, a.record_id)
               || jsonb_build_object(a.date_field, a.activity_on) as record,
           a.activity_on, a.agency, a.feed, a.record_id
    from deregistered as d
    join audit.late_activity as a
      on a.enterprise_id = d.enterprise_id
     and a.activity_on > d.approved_on
)

select enterprise_id,
       jsonb_build_object(
           'records',
           jsonb_build_array(source || jsonb_build_object('status', status,
                                                          'approved_on', approved_on))
           || jsonb_agg(record order by activity_on, agency, feed, record_id),
           'status', status,
           'approved_on', approved_on,
           'activities_after', count(*),
           'first_after', min(activity_on),
           'last_after', max(activity_on)
       ) as evidence
from after_approval
group by enterprise_id, source, status, approved_on
