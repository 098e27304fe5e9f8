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
-- The feeds hold millions of live records: the run's summary (audit.enterprise_activity, the
-- latest VAT filing, local-tax period start and customs declaration of each enterprise) finds
-- the enterprises, and only their records are read, by enterprise, for the evidence.
with deregistered as (
    select enterprise_id, source, status, approved_on
    from audit.enterprise_registration
    where status in ('注销', '吊销')
      and approved_on is not null
),

active_after as (
    select d.*
    from deregistered as d
    join audit.enterprise_activity as a on a.enterprise_id = d.enterprise_id
    where a.vat_last_filed_on > d.approved_on
       or a.local_last_period_start > d.approved_on
       or a.customs_last_declared_on > d.approved_on
),

activity as (
    select enterprise_id, agency, feed, record_id, 'filed_on' as date_field,
           filed_on as activity_on
    from audit.state_tax__vat_returns__by_enterprise
    where enterprise_id in (select enterprise_id from active_after)
    union all
    select enterprise_id, agency, feed, record_id, 'period_start', period_start
    from audit.local_tax__declarations__by_enterprise
    where enterprise_id in (select enterprise_id from active_after)
    union all
    select enterprise_id, agency, feed, record_id, 'declared_on', declared_on
    from audit.customs__declarations__by_enterprise
    where enterprise_id in (select enterprise_id from active_after)
),

after_approval as (
    select d.enterprise_id, d.source, d.status, d.approved_on,
           audit.record_source(a.agency, a.feed, a.record_id)
               || jsonb_build_object(a.date_field, a.activity_on) as record,
           a.activity_on, a.agency, a.feed, a.record_id
    from active_after as d
    join activity as a
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
