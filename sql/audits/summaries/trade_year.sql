-- audit.summary_trade_year: per enterprise of the run and calendar year with customs value,
-- that value in CNY, the VAT sales (xse) of the tax periods (sssq) of that year, and the
-- records of both as evidence; what A2 compares and names.
--
-- Customs: TotalValue in the currency of its attribute, USD × 7 and CNY as is; AUDITS.md
-- gives no other rate, so a value in another or no currency is left out, not guessed. The
-- year is DeclareDate's. VAT: the year is the first four digits of the period YYYYMM (not
-- the filing date); a return without sales adds 0. A year without customs value cannot
-- exceed, so only the returns of enterprise-years with customs value are summed.
-- Records: the year's declarations (DeclareDate) and returns (the first day of the tax
-- period) in date order, each with the values summed.
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
    select enterprise_id, year, sum(value_cny) as customs_cny
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
    select enterprise_id, year, sum(coalesce(sales, 0)) as vat_sales
    from vat
    group by enterprise_id, year
),

evidence_record as (
    select enterprise_id, year, declared_on as sort_date, feed, record_id,
           jsonb_build_object('agency', agency, 'feed', feed, 'record_id', record_id,
                              'declared_on', declared_on, 'total_value', total_value,
                              'currency', currency, 'value_cny', value_cny) as record
    from customs
    union all
    select enterprise_id, year, to_date(tax_period, 'YYYYMM'), feed, record_id,
           jsonb_build_object('agency', agency, 'feed', feed, 'record_id', record_id,
                              'tax_period', tax_period, 'sales', sales)
    from vat
),

records as (
    select enterprise_id, year, jsonb_agg(record order by sort_date, feed, record_id) as records
    from evidence_record
    group by enterprise_id, year
)

select c.enterprise_id, c.year, c.customs_cny, coalesce(v.vat_sales, 0) as vat_sales, r.records
from customs_year as c
join records as r on r.enterprise_id = c.enterprise_id and r.year = c.year
left join vat_year as v on v.enterprise_id = c.enterprise_id and v.year = c.year
