-- A5 state_local_tax_gap (AUDITS.md)
--
-- Rule: AIC 登记状态 is 存续 (exactly; 在业 does not count), at least 12 VAT returns, and no
-- local-tax declaration ever.
--
-- The status is the enterprise's register entry (audit.enterprise_registration: its live
-- AIC registration, the latest approved when it has several). "Ever" is every live local-tax
-- declaration, whatever its period; arrears announcements are not declarations.
--
-- Near misses, not reported: 在业 (or 注销, 吊销, 迁出, no registration); 11 VAT returns or
-- fewer (counting live return records: a deleted return or an older version of a return
-- does not count); any live local-tax declaration. A local-tax declaration that was
-- deleted is no declaration: the enterprise is reported.
-- Evidence: the registration and every live VAT return.
--
-- The counts come from the run's summary (audit.enterprise_activity: live VAT returns and
-- local-tax declarations per enterprise); only the reported enterprises' returns are read.
with gap as (
    select r.enterprise_id, r.source, r.status, a.vat_returns,
           a.vat_first_period as first_period, a.vat_last_period as last_period
    from audit.enterprise_registration as r
    join audit.enterprise_activity as a on a.enterprise_id = r.enterprise_id
    where r.status = '存续'
      and a.vat_returns >= 12
      and a.local_declarations = 0
),

vat_records as (
    select g.enterprise_id,
           jsonb_agg(v.source || jsonb_build_object('tax_period', v.tax_period,
                                                    'filed_on', v.filed_on)
                     order by v.tax_period, v.record_id) as records
    from gap as g
    join audit.state_tax__vat_returns__by_enterprise as v on v.enterprise_id = g.enterprise_id
    group by g.enterprise_id
)

select g.enterprise_id,
       jsonb_build_object(
           'records', jsonb_build_array(g.source || jsonb_build_object('status', g.status))
                      || r.records,
           'status', g.status,
           'vat_returns', g.vat_returns,
           'first_period', g.first_period,
           'last_period', g.last_period,
           'local_tax_declarations', 0
       ) as evidence
from gap as g
join vat_records as r on r.enterprise_id = g.enterprise_id
