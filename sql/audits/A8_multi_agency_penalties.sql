-- A8 multi_agency_penalties (AUDITS.md)
--
-- Rule: penalties from at least 3 different agencies within 365 days (last date minus first
-- date ≤ 365): construction violations (决定日期), food/drug penalties (处罚日期), price
-- violations (决定日期), quality inspections with 检验结论 不合格 (抽查日期).
--
-- A window starts at each penalty date and ends 365 days later (both ends included); the
-- enterprise is reported when some window holds penalties of 3 or more of the 4 agencies.
-- Evidence is the earliest such window: its penalties, agencies, first and last dates.
--
-- Near misses, not reported: penalties spread over more than 365 days (366 days apart do
-- not share a window); several penalties from only two agencies; an inspection with 检验结论
-- 合格; a deleted or superseded penalty (only live records).
--
-- The penalties come from the run's summary (audit.penalty,
-- sql/audits/summaries/penalty.sql: every live dated penalty of the four feeds, a row each,
-- with agency, feed and record_id); what evidence names a record by (audit.record_source) is
-- built for the findings' records only.
--
-- Planned without nested loops: the windows are joined with the penalties of thousands of
-- enterprises, which a hash join reads once.
-- planner: enable_nestloop = off
with dated as (
    select enterprise_id, agency, feed, record_id, penalty_on
    from audit.penalty
),

-- Only an enterprise penalised by 3 agencies at all may have 3 in one window, so windows are
-- looked for among those alone (scale 1: 5,296 of the 125,242 enterprises penalised).
-- Each enterprise's agencies once, then counted: count(distinct agency) over all 154k
-- penalties of scale 1 sorted them first (0.27 s of the audit's 0.92 s).
enterprise_agency as (
    select distinct enterprise_id, agency
    from dated
),

three_agencies as (
    select enterprise_id
    from enterprise_agency
    group by enterprise_id
    having count(*) >= 3
),

qualifying_window as (
    select s.enterprise_id, s.penalty_on as window_start
    from (select distinct enterprise_id, penalty_on from dated
          where enterprise_id in (select enterprise_id from three_agencies)) as s
    join dated as p
      on p.enterprise_id = s.enterprise_id
     and p.penalty_on between s.penalty_on and s.penalty_on + 365
    group by s.enterprise_id, s.penalty_on
    having count(distinct p.agency) >= 3
),

first_window as (
    select enterprise_id, min(window_start) as window_start
    from qualifying_window
    group by enterprise_id
)

select w.enterprise_id,
       jsonb_build_object(
           'records', jsonb_agg(audit.record_source(p.agency, p.feed, p.record_id)
                                || jsonb_build_object('penalty_on', p.penalty_on)
                                order by p.penalty_on, p.agency, p.record_id),
           'agencies', jsonb_agg(distinct p.agency order by p.agency),
           'first_on', min(p.penalty_on),
           'last_on', max(p.penalty_on),
           'days', max(p.penalty_on) - min(p.penalty_on)
       ) as evidence
from first_window as w
join dated as p
  on p.enterprise_id = w.enterprise_id
 and p.penalty_on between w.window_start and w.window_start + 365
group by w.enterprise_id
