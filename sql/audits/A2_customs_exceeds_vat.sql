-- A2 customs_exceeds_vat (AUDITS.md)
--
-- Rule: in some calendar year, the enterprise's customs declaration value (by year of
-- DeclareDate, in CNY) exceeds 5 × its VAT sales (xse) for tax periods (sssq) of that year;
-- with no VAT sales that year, any customs value counts.
--
-- Customs values: TotalValue in the currency of its attribute (column currency, ISO 4217):
-- USD × 7, CNY as is. AUDITS.md gives no other rate, so a value in another or no currency
-- is left out rather than guessed. Years compare DeclareDate's calendar year with the
-- first four digits of the tax period YYYYMM (not the filing date).
--
-- Near misses, not reported: customs value equal to 5 × sales or less ("exceeds" is
-- strict); customs and VAT sales in different years (each year stands alone); deleted or
-- superseded declarations and returns (only live records count).
-- Evidence: every year that exceeds, with its customs declarations and VAT returns.
--
-- The feeds hold millions of live records: the years come from the run's summary
-- (audit.enterprise_trade_year, sql/audits/summaries/trade_year.sql: customs value in CNY and
-- VAT sales per enterprise and year with customs value, summed exactly as above), and only
-- the records of the years that exceed are read, by enterprise, for the evidence.
with exceeding as (
    select enterprise_id, year, customs_cny, vat_sales
    from audit.enterprise_trade_year
    where customs_cny > 5 * vat_sales
),

customs as materialized (
    select enterprise_id, agency, feed, record_id, declared_on, total_value, currency,
           extract(year from declared_on)::integer as year,
           total_value * case upper(btrim(currency)) when 'USD' then 7 when 'CNY' then 1 end
               as value_cny
    from audit.customs__declarations__by_enterprise
    where enterprise_id in (select enterprise_id from exceeding)
      and declared_on is not null
      and total_value is not null
      and upper(btrim(currency)) in ('USD', 'CNY')
),

vat as materialized (
    select enterprise_id, agency, feed, record_id, tax_period, sales,
           case when tax_period ~ '^[0-9]{6}$' then left(tax_period, 4)::integer end as year
    from audit.state_tax__vat_returns__by_enterprise
    where enterprise_id in (select enterprise_id from exceeding)
),

evidence_record as (
    select e.enterprise_id, c.declared_on as sort_date, c.feed, c.record_id,
           audit.record_source(c.agency, c.feed, c.record_id)
               || jsonb_build_object('declared_on', c.declared_on,
                                     'total_value', c.total_value,
                                     'currency', c.currency,
                                     'value_cny', c.value_cny) as record
    from exceeding as e
    join customs as c on c.enterprise_id = e.enterprise_id and c.year = e.year
    union all
    select e.enterprise_id, to_date(v.tax_period, 'YYYYMM'), v.feed, v.record_id,
           audit.record_source(v.agency, v.feed, v.record_id)
               || jsonb_build_object('tax_period', v.tax_period, 'sales', v.sales)
    from exceeding as e
    join vat as v on v.enterprise_id = e.enterprise_id and v.year = e.year
),

records as (
    select enterprise_id,
           jsonb_agg(record order by sort_date, feed, record_id) as records
    from evidence_record
    group by enterprise_id
),

years as (
    select enterprise_id,
           jsonb_agg(jsonb_build_object('year', year,
                                        'customs_cny', customs_cny,
                                        'vat_sales', vat_sales,
                                        'vat_sales_x5', 5 * vat_sales)
                     order by year) as years
    from exceeding
    group by enterprise_id
)

select y.enterprise_id,
       jsonb_build_object('records', r.records, 'years', y.years) as evidence
from years as y
join records as r on r.enterprise_id = y.enterprise_id
