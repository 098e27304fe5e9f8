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
-- The enterprises with live VAT returns and no live local-tax declaration come from the
-- run's summary (audit.vat_without_local, sql/audits/summaries/vat_without_local.sql: how
-- many returns, their first and last tax period, and each as an evidence record).
with gap as (
    select v.enterprise_id, r.source, r.status, v.returns, v.first_period, v.last_period,
           v.records
    from audit.vat_without_local as v
    join audit.enterprise_registration as r on r.enterprise_id = v.enterprise_id
    where r.status = '存续'
      and v.returns >= 12
)

select enterprise_id,
       jsonb_build_object(
           'records', jsonb_build_array(source || jsonb_build_object('status', status))
                      || records,
           'status', status,
           'vat_returns', returns,
           'first_period', first_period,
           'last_period', last_period,
           'local_tax_declarations', 0
       ) as evidence
from gap
