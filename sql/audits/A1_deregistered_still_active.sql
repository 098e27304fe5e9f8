-- A1 deregistered_still_active (AUDITS.md)
--
-- Rule: AIC 登记状态 is 注销 or 吊销, and a VAT return with filing date (sbrq), a local-tax
-- declaration whose period starts (sssqq), or a customs declaration (DeclareDate) falls
-- AFTER the enterprise's 核准日期.
--
-- Near misses, not reported: activity on or before the 核准日期 ("after" is strict: the
-- date must be later than approved_on); a status other than 注销/吊销 (存续, 在业, 迁出);
-- an activity record that was deleted or replaced by a version dated earlier (only live
-- records, via the audit.<feed> views); an activity or approval date that could not be read.
--
-- The status and 核准日期 are the enterprise's register entry (audit.enterprise_registration:
-- its live AIC registration, the latest approved when it has several).
-- Evidence: the registration and every live activity record after its 核准日期.
--
-- The activity after the 核准日期 of every enterprise not in business comes from the run's
-- summary (audit.late_activity, sql/audits/summaries/late_activity.sql: the register entry,
-- and its records dated after the entry's 核准日期, by filing date, period start and
-- DeclareDate as above); this file keeps the entries that are 注销 or 吊销.
select enterprise_id,
       jsonb_build_object(
           'records',
           jsonb_build_array(audit.record_source('aic', 'registrations', registration_record_id)
                             || jsonb_build_object('status', status, 'approved_on', approved_on))
           || records,
           'status', status,
           'approved_on', approved_on,
           'activities_after', activities,
           'first_after', first_after,
           'last_after', last_after
       ) as evidence
from audit.late_activity
where status in ('注销', '吊销')
