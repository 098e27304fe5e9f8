-- audit.summary_penalty: every live penalty of the run with a date, in one shape: the
-- construction violations (决定日期), food/drug penalties (处罚日期) and price violations
-- (决定日期), and the quality inspections whose 检验结论 is 不合格 (抽查日期). What A8 looks
-- for windows of 365 days in; a penalty without a date is in no window.
with penalty as (
    select enterprise_id, agency, feed, record_id, decided_on as penalty_on
    from audit.construction__violations
    union all
    select enterprise_id, agency, feed, record_id, decided_on
    from audit.food_drug__penalties
    union all
    select enterprise_id, agency, feed, record_id, decided_on
    from audit.price__price_violations
    union all
    select enterprise_id, agency, feed, record_id, inspected_on
    from audit.quality__product_inspections
    where btrim(verdict) = '不合格'
)

select enterprise_id, penalty_on, agency, feed, record_id
from penalty
where penalty_on is not null
