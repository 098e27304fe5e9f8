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
-- The feeds hold millions of live records: customs and vat carry agency, feed and record_id,
-- and the evidence is built only for the years that exceed. A year without customs value
-- cannot exceed, so vat keeps only the returns of enterprise-years with declarations.
with customs as (
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

vat as (
    select r.enterprise_id, r.agency, r.feed, r.record_id, r.tax_period, r.sales, c.year
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

exceeding as (
    select c.enterprise_id, c.year, c.customs_cny, coalesce(v.vat_sales, 0) as vat_sales
    from customs_year as c
    left join vat_year as v on v.enterprise_id = c.enterprise_id and v.year = c.year
    where c.customs_cny > 5 * coalesce(v.vat_sales, 0)
),

evidence_record as (
    select e.enterprise_id, c.declared_on as sort_date, c.record_id,
           audit.record_source(c.agency, c.feed, c.record_id)
               || jsonb_build_object('declared_on', c.declared_on,
                                     'total_value', c.total_value,
                                     'currency', c.currency,
                                     'value_cny', c.value_cny) as record
    from exceeding as e
    join customs as c on c.enterprise_id = e.enterprise_id and c.year = e.year
    union all
    select e.enterprise_id, to_date(v.tax_period, 'YYYYMM'), v.record_id,
           audit.record_source(v.agency, v.feed, v.record_id)
               || jsonb_build_object('tax_period', v.tax_period, 'sales', v.sales)
    from exceeding as e
    join vat as v on v.enterprise_id = e.enterprise_id and v.year = e.year
),

records as (
    select enterprise_id,
           jsonb_agg(record order by sort_date, record ->> 'feed', record_id) as records
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
