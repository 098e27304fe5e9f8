-- audit.summary_listed_trading: per live abnormal-operations listing (经营异常名录) of the run
-- with a 列入日期, removed or not, whose enterprise has live customs declarations dated on or
-- after it: the listing (its reason, and its removal: a 移出日期, or that one was delivered
-- and could not be read, kept in the record's issues), how many such declarations, the first
-- and last date, and the declarations as evidence in date order. What A4 names, for the
-- listings it finds still open.
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
       count(*) as declarations, min(d.declared_on) as first_declared_on,
       max(d.declared_on) as last_declared_on,
       jsonb_agg(jsonb_build_object('agency', d.agency, 'feed', d.feed, 'record_id', d.record_id,
                                    'declared_on', d.declared_on)
                 order by d.declared_on, d.record_id) as records
from listing as l
join audit.customs__declarations__by_enterprise as d
  on d.enterprise_id = l.enterprise_id
 and d.declared_on >= l.listed_on
where d.enterprise_id in (select enterprise_id from listing)
group by l.enterprise_id, l.record_id, l.listed_on, l.listing_reason, l.removed_on,
         l.removed_on_unreadable
