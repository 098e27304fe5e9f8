-- audit.summary_late_activity: per enterprise of the run whose register entry is not in
-- business (登记状态 other than 存续 and 在业: 注销, 吊销, 迁出, …) and has activity dated after
-- the entry's 核准日期: the entry (its record, status and 核准日期), how many such records, the
-- first and last date, and the records as evidence in date order. Activity is the live VAT
-- returns by filing date (sbrq), local-tax declarations by the start of their period (sssqq)
-- and customs declarations by DeclareDate; "after" is strict, and a record without the date
-- is not dated after. What A1 names.
--
-- The activity summary's latest dates tell which enterprises have such records at all; only
-- the records of those (at scale 1 about 9,000 of 750,000) are read, by enterprise.
-- after: registration activity
-- planner: enable_nestloop = on
with not_in_business as (
    select r.enterprise_id, r.record_id, r.status, r.approved_on
    from audit.enterprise_registration as r
    join audit.enterprise_activity as a on a.enterprise_id = r.enterprise_id
    where r.status not in ('存续', '在业')
      and r.approved_on is not null
      and (a.vat_last_filed_on > r.approved_on
           or a.local_last_period_start > r.approved_on
           or a.customs_last_declared_on > r.approved_on)
),

activity as (
    select enterprise_id, agency, feed, record_id, 'filed_on' as date_field,
           filed_on as activity_on
    from audit.state_tax__vat_returns__by_enterprise
    where enterprise_id in (select enterprise_id from not_in_business)
    union all
    select enterprise_id, agency, feed, record_id, 'period_start', period_start
    from audit.local_tax__declarations__by_enterprise
    where enterprise_id in (select enterprise_id from not_in_business)
    union all
    select enterprise_id, agency, feed, record_id, 'declared_on', declared_on
    from audit.customs__declarations__by_enterprise
    where enterprise_id in (select enterprise_id from not_in_business)
)

select n.enterprise_id, n.record_id as registration_record_id, n.status, n.approved_on,
       count(*) as activities, min(a.activity_on) as first_after,
       max(a.activity_on) as last_after,
       jsonb_agg(audit.record_source(a.agency, a.feed, a.record_id)
                     || jsonb_build_object(a.date_field, a.activity_on)
                 order by a.activity_on, a.agency, a.feed, a.record_id) as records
from not_in_business as n
join activity as a
  on a.enterprise_id = n.enterprise_id
 and a.activity_on > n.approved_on
group by n.enterprise_id, n.record_id, n.status, n.approved_on
