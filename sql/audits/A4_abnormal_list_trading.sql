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
-- The declarations on or after each listing's 列入日期 come from the run's summary
-- (audit.listed_trading, sql/audits/summaries/listed_trading.sql: every live listing with a
-- 列入日期, removed or not, whose enterprise has declarations on or after it, with those
-- declarations as evidence records); this file keeps the listings still open. Of several open
-- listings of an enterprise, the earliest has every declaration the others have.
with open_listing as (
    select enterprise_id, listing_record_id, listed_on, listing_reason, declarations,
           first_declared_on, last_declared_on, records
    from audit.listed_trading
    where removed_on is null
      and not removed_on_unreadable
),

earliest as (
    select distinct on (enterprise_id) *
    from open_listing
    order by enterprise_id, listed_on, listing_record_id
),

listings as (
    select enterprise_id,
           jsonb_agg(jsonb_build_object('agency', 'aic', 'feed', 'abnormal_operations',
                                        'record_id', listing_record_id, 'listed_on', listed_on,
                                        'listing_reason', listing_reason)
                     order by listed_on, listing_record_id) as records
    from open_listing
    group by enterprise_id
)

select e.enterprise_id,
       jsonb_build_object(
           'records', l.records || e.records,
           'listed_on', e.listed_on,
           'declarations', e.declarations,
           'first_declared_on', e.first_declared_on,
           'last_declared_on', e.last_declared_on
       ) as evidence
from earliest as e
join listings as l on l.enterprise_id = e.enterprise_id
