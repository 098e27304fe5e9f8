-- audit.summary_trade: per enterprise of the run with customs value, its trade by calendar
-- year (`years`: customs value in CNY, the VAT sales (xse) of the tax periods (sssq) of that
-- year, and where the year's records are in the evidence) and its `evidence`: the years and
-- the records behind them, the shape of an A2 finding. A2 compares the years; when every
-- year of an enterprise exceeds, the stored evidence is the finding's, copied as it is (1.4M
-- records at scale 1: building them again into each finding was 2 of A2's 3.3 s).
--
-- Customs: TotalValue in the currency of its attribute, USD × 7 and CNY as is; AUDITS.md
-- gives no other rate, so a value in another or no currency is left out, not guessed. The
-- year is DeclareDate's. VAT: the year is the first four digits of the period YYYYMM (not
-- the filing date); a return without sales adds 0. A year without customs value cannot
-- exceed, so only the returns of enterprise-years with customs value are summed.
-- Records: the declarations (by DeclareDate) and returns (by the first day of the tax
-- period) of those years in date order, each with the values summed; a record's year is
-- that of its declared_on or tax_period.
with customs as materialized (
    select enterprise_id, agency, feed, record_id, declared_on, total_value, currency,
           extract(year from declared_on)::integer as year,
           total_value * case upper(btrim(currency)) when 'USD' then 7 when 'CNY' then 1 end
               as value_cny
    from audit.customs__declarations
    where declared_on is not null
      and total_value is not null
      and upper(btrim(currency)) in ('USD', 'CNY')
),

customs_year as (
    select enterprise_id, year, sum(value_cny) as customs_cny, count(*) as declarations
    from customs
    group by enterprise_id, year
),

vat as materialized (
    select r.enterprise_id, c.year, r.agency, r.feed, r.record_id, r.tax_period, r.sales
    from audit.state_tax__vat_returns as r
    join customs_year as c
      on c.enterprise_id = r.enterprise_id
     and c.year = case when r.tax_period ~ '^[0-9]{6}$' then left(r.tax_period, 4)::integer end
),

vat_year as (
    select enterprise_id, year, sum(coalesce(sales, 0)) as vat_sales, count(*) as returns
    from vat
    group by enterprise_id, year
),

evidence_record as (
    select enterprise_id, declared_on as sort_date, feed, record_id,
           jsonb_build_object('agency', agency, 'feed', feed, 'record_id', record_id,
                              'declared_on', declared_on, 'total_value', total_value,
                              'currency', currency, 'value_cny', value_cny) as record
    from customs
    union all
    select enterprise_id, to_date(tax_period, 'YYYYMM'), feed, record_id,
           jsonb_build_object('agency', agency, 'feed', feed, 'record_id', record_id,
                              'tax_period', tax_period, 'sales', sales)
    from vat
),

-- Each year's records follow each other in the date order of the evidence: the year's first
-- and last record are positions in it (from 0), counted from the years before.
trade_year as (
    select c.enterprise_id, c.year, c.customs_cny, coalesce(v.vat_sales, 0) as vat_sales,
           c.declarations + coalesce(v.returns, 0) as records
    from customs_year as c
    left join vat_year as v on v.enterprise_id = c.enterprise_id and v.year = c.year
),

record_span as (
    select enterprise_id, year,
           jsonb_build_object('year', year, 'customs_cny', customs_cny,
                              'vat_sales', vat_sales) as facts,
           sum(records) over (partition by enterprise_id order by year) - records as first_record,
           sum(records) over (partition by enterprise_id order by year) - 1 as last_record
    from trade_year
),

years as (
    select enterprise_id,
           jsonb_agg(facts order by year) as evidence_years,
           jsonb_agg(facts || jsonb_build_object('first_record', first_record,
                                                 'last_record', last_record)
                     order by year) as years
    from record_span
    group by enterprise_id
),

records as (
    select enterprise_id, jsonb_agg(record order by sort_date, feed, record_id) as records
    from evidence_record
    group by enterprise_id
)

select y.enterprise_id, y.years,
       jsonb_build_object('records', r.records, 'years', y.evidence_years) as evidence
from years as y
join records as r on r.enterprise_id = y.enterprise_id
