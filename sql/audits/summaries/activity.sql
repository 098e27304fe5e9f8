-- audit.summary_activity: per enterprise of the run with any live VAT return, local-tax
-- declaration or customs declaration, how many it has and the latest dates the audits
-- compare (A1: activity after the 核准日期; A4: customs on or after a listing; A5: VAT
-- returns without local-tax declarations). A record without the date counts in the
-- count, not in the date (max ignores nulls, as the audits' comparisons did).
with vat as (
    select enterprise_id, count(*) as vat_returns,
           min(tax_period) as vat_first_period, max(tax_period) as vat_last_period,
           max(filed_on) as vat_last_filed_on
    from audit.state_tax__vat_returns
    group by enterprise_id
),

local_tax as (
    select enterprise_id, count(*) as local_declarations,
           max(period_start) as local_last_period_start
    from audit.local_tax__declarations
    group by enterprise_id
),

customs as (
    select enterprise_id, count(*) as customs_declarations,
           max(declared_on) as customs_last_declared_on
    from audit.customs__declarations
    group by enterprise_id
)

select enterprise_id,
       coalesce(vat.vat_returns, 0) as vat_returns,
       vat.vat_first_period,
       vat.vat_last_period,
       vat.vat_last_filed_on,
       coalesce(local_tax.local_declarations, 0) as local_declarations,
       local_tax.local_last_period_start,
       coalesce(customs.customs_declarations, 0) as customs_declarations,
       customs.customs_last_declared_on
from vat
full join local_tax using (enterprise_id)
full join customs using (enterprise_id)
