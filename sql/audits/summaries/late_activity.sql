-- audit.summary_late_activity: for each enterprise of the run whose register entry is not in
-- business (登记状态 other than 存续 and 在业: 注销, 吊销, 迁出, …), its live activity records
-- dated after the entry's 核准日期: VAT returns by filing date (sbrq), local-tax declarations
-- by the start of their period (sssqq), customs declarations by DeclareDate. "After" is
-- strict; a record without the date is not dated after. What A1 names.
--
-- The activity summary's latest dates tell which enterprises have such records at all; only
-- the records of those (at scale 1 about 8,000 of 750,000) are read, by enterprise.
-- after: registration activity
-- planner: enable_nestloop = on
with not_in_business as (
    select r.enterprise_id, r.approved_on
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

select a.enterprise_id, a.agency, a.feed, a.record_id, a.date_field, a.activity_on
from not_in_business as n
join activity as a
  on a.enterprise_id = n.enterprise_id
 and a.activity_on > n.approved_on
