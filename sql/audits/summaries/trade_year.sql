-- audit.summary_trade_year: per enterprise of the run and calendar year with customs value,
-- that value in CNY, the VAT sales of the year, and where the year's records are in the
-- enterprise's evidence (positions from 0 in audit.enterprise_trade.evidence -> 'records'):
-- the years of audit.summary_trade (sql/audits/summaries/trade.sql, where they are summed)
-- a row each, what A2 compares.
-- after: trade
with trade_year as (
    select enterprise_id, jsonb_array_elements(years) as facts
    from audit.enterprise_trade
)

select enterprise_id,
       (facts ->> 'year')::integer as year,
       (facts ->> 'customs_cny')::numeric as customs_cny,
       (facts ->> 'vat_sales')::numeric as vat_sales,
       (facts ->> 'first_record')::integer as first_record,
       (facts ->> 'last_record')::integer as last_record
from trade_year
