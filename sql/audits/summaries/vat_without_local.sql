-- audit.summary_vat_without_local: per enterprise of the run with live VAT returns and no
-- live local-tax declaration (ever: any period; arrears are no declaration), its returns as
-- evidence records, in the order of their tax period. What A5 names, for the enterprises
-- whose status and number of returns it reports.
--
-- The activity summary's counts tell which enterprises these are; only their returns are
-- read, by enterprise.
-- after: activity
-- planner: enable_nestloop = on
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
