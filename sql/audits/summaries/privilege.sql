-- audit.summary_privilege: every live construction qualification (资质) and food/drug
-- licence (许可) of the run with its 发证日期, a row each. What A3 looks for privileges issued
-- after a dishonest-debtor record's publication in; one without a date is issued after none.
with privilege as (
    select enterprise_id, agency, feed, record_id, issued_on
    from audit.construction__qualifications
    union all
    select enterprise_id, agency, feed, record_id, issued_on
    from audit.food_drug__licenses
)

select enterprise_id, issued_on, agency, feed, record_id
from privilege
where issued_on is not null
