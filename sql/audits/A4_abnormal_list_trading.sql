-- A4 abnormal_list_trading (AUDITS.md)
--
-- Rule: an abnormal-operations listing with no 移出日期, and a customs declaration dated on
-- or after its 列入日期.
--
-- Near misses, not reported: a listing that was removed (it has a 移出日期; also when the
-- removal came as a later version of the listing record: only its live version counts,
-- and when the delivered 移出日期 could not be read, it is still a removal); a declaration
-- dated before the 列入日期 (on the 列入日期 counts: "on or after"); a deleted listing or
-- declaration.
-- Evidence: the open listings and every declaration on or after the listing's 列入日期.
--
-- The latest customs declaration of each enterprise comes from the run's summary
-- (audit.enterprise_activity); only the declarations of the enterprises it points at are read.
with open_listing as (
    select l.enterprise_id, l.feed, l.record_id, l.source, l.listed_on, l.listing_reason
    from audit.aic__abnormal_operations as l
    join audit.enterprise_activity as a on a.enterprise_id = l.enterprise_id
    where l.listed_on is not null
      and l.removed_on is null
      and not coalesce(l.issues ? 'removed_on', false)
      and a.customs_last_declared_on >= l.listed_on
),

pair as (
    select l.enterprise_id, l.feed as listing_feed, l.record_id as listing_record_id,
           l.source as listing_source, l.listed_on, l.listing_reason,
           d.feed as declaration_feed, d.record_id as declaration_record_id,
           d.source as declaration_source, d.declared_on
    from open_listing as l
    join audit.customs__declarations__by_enterprise as d
      on d.enterprise_id = l.enterprise_id
     and d.declared_on >= l.listed_on
    where d.enterprise_id in (select enterprise_id from open_listing)
),

evidence_record as (
    select enterprise_id, 'listing' as kind, listed_on as sort_date, listing_feed as feed,
           listing_record_id as record_id,
           listing_source || jsonb_build_object('listed_on', listed_on,
                                                'listing_reason', listing_reason) as record
    from pair
    union
    select enterprise_id, 'declaration', declared_on, declaration_feed, declaration_record_id,
           declaration_source || jsonb_build_object('declared_on', declared_on)
    from pair
)

select enterprise_id,
       jsonb_build_object(
           'records', jsonb_agg(record order by sort_date, feed, record_id),
           'listed_on', min(sort_date) filter (where kind = 'listing'),
           'declarations', count(*) filter (where kind = 'declaration'),
           'first_declared_on', min(sort_date) filter (where kind = 'declaration'),
           'last_declared_on', max(sort_date) filter (where kind = 'declaration')
       ) as evidence
from evidence_record
group by enterprise_id
