-- audit.summary_vat_without_local: per enterprise of the run with live VAT returns and no
-- live local-tax declaration (ever: any period; arrears are no declaration), its register
-- entry and its returns, and `evidence`: the registration (with its status) and the returns
-- in the order of their tax period as evidence records, with the counts, in the shape of an
-- A5 finding. A5 reports the enterprises 存续 with 12 returns or more, copying it.
--
-- The activity summary's counts tell which enterprises these are; only their returns are
-- read, by enterprise.
-- after: activity, registration
-- planner: enable_nestloop = on
with vat as (
    select v.enterprise_id, count(*) as returns,
           min(v.tax_period) as first_period, max(v.tax_period) as last_period,
           jsonb_agg(audit.record_source(v.agency, v.feed, v.record_id)
                         || jsonb_build_object('tax_period', v.tax_period, 'filed_on', v.filed_on)
                     order by v.tax_period, v.record_id) as records
    from audit.state_tax__vat_returns__by_enterprise as v
    where v.enterprise_id in (select enterprise_id
                              from audit.enterprise_activity
                              where vat_returns > 0
                                and local_declarations = 0)
    group by v.enterprise_id
)

select v.enterprise_id, v.returns, v.first_period, v.last_period,
       r.record_id as registration_record_id, r.status,
       jsonb_build_object(
           'records',
           case when r.record_id is null then v.records
                else jsonb_build_array(r.source || jsonb_build_object('status', r.status))
                     || v.records
           end,
           'status', r.status,
           'vat_returns', v.returns,
           'first_period', v.first_period,
           'last_period', v.last_period,
           'local_tax_declarations', 0
       ) as evidence
from vat as v
left join audit.enterprise_registration as r on r.enterprise_id = v.enterprise_id
