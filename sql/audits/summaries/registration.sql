-- audit.summary_registration: per enterprise of the run, its live AIC registration; of
-- several, the latest approved (核准日期). 登记状态 and 核准日期 of the audits and the status of
-- the golden record come from here (through the view audit.enterprise_registration).
select distinct on (r.enterprise_id)
       r.enterprise_id, r.record_id, r.status, r.approved_on, r.name, r.uscc_norm,
       r.reg_no_norm, r.legal_rep, r.legal_rep_id_hash, r.legal_rep_id_masked
from audit.aic__registrations as r
order by r.enterprise_id, r.approved_on desc nulls last, r.record_id
