-- audit.summary_listed_trading: per live abnormal-operations listing (经营异常名录) of the run
-- with a 列入日期, removed or not, each live customs declaration of its enterprise dated on
-- or after the 列入日期, with the listing's removal: its 移出日期, or that one was delivered
-- and could not be read (kept in the record's issues). What A4 names, for the listings it
-- finds still open.
--
-- The activity summary's latest declaration date tells which listings have such
-- declarations at all; only their enterprises' declarations are read, by enterprise.
-- after: activity
-- planner: enable_nestloop = on
with listing as (
    select l.enterprise_id, l.record_id, l.listed_on, l.listing_reason, l.removed_on,
           coalesce(l.issues ? 'removed_on', false) as removed_on_unreadable
    from audit.aic__abnormal_operations as l
    join audit.enterprise_activity as a on a.enterprise_id = l.enterprise_id
    where l.listed_on is not null
      and a.customs_last_declared_on >= l.listed_on
)

select l.enterprise_id, l.record_id as listing_record_id, l.listed_on, l.listing_reason,
       l.removed_on, l.removed_on_unreadable,
       d.record_id as declaration_record_id, d.declared_on
from listing as l
join audit.customs__declarations__by_enterprise as d
  on d.enterprise_id = l.enterprise_id
 and d.declared_on >= l.listed_on
where d.enterprise_id in (select enterprise_id from listing)
