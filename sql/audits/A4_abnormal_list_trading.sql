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
-- 列入日期, removed or not, and its enterprise's declarations on or after it); this file
-- keeps the listings still open.
with pair as (
    select t.enterprise_id, t.listing_record_id, t.listed_on, t.listing_reason,
           t.declaration_record_id, t.declared_on
    from audit.listed_trading as t
    where t.removed_on is null
      and not t.removed_on_unreadable
      and t.declared_on >= t.listed_on
),

-- Each record once (an enterprise may have several open listings), its evidence built after.
listing as (
    select distinct enterprise_id, listing_record_id, listed_on, listing_reason
    from pair
),

declaration as (
    select distinct enterprise_id, declaration_record_id, declared_on
    from pair
),

evidence_record as (
    select enterprise_id, 'listing' as kind, listed_on as sort_date,
           'abnormal_operations' as feed, listing_record_id as record_id,
           jsonb_build_object('agency', 'aic', 'feed', 'abnormal_operations',
                              'record_id', listing_record_id, 'listed_on', listed_on,
                              'listing_reason', listing_reason) as record
    from listing
    union all
    select enterprise_id, 'declaration', declared_on, 'declarations', declaration_record_id,
           jsonb_build_object('agency', 'customs', 'feed', 'declarations',
                              'record_id', declaration_record_id, 'declared_on', declared_on)
    from declaration
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
