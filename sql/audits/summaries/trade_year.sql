-- audit.summary_trade_year: per enterprise of the run and calendar year with customs value,
-- that value in CNY and the VAT sales (xse) of the tax periods (sssq) of that year; what A2
-- compares.
--
-- Customs: TotalValue in the currency of its attribute, USD × 7 and CNY as is; AUDITS.md
-- gives no other rate, so a value in another or no currency is left out, not guessed. The
-- year is DeclareDate's. VAT: the year is the first four digits of the period YYYYMM (not
-- the filing date); a return without sales adds 0. A year without customs value cannot
-- exceed, so only the returns of enterprise-years with customs value are summed.
with customs_year as (
    select enterprise_id, extract(year from declared_on)::integer as year,
           sum(total_value * case upper(btrim(currency)) when 'USD' then 7 when 'CNY' then 1 end)
               as customs_cny
    from audit.customs__declarations
    where declared_on is not null
      and total_value is not null
      and upper(btrim(currency)) in ('USD', 'CNY')
    group by enterprise_id, year
),

vat_year as (
    select r.enterprise_id, c.year, sum(coalesce(r.sales, 0)) as vat_sales
    from audit.state_tax__vat_returns as r
    join customs_year as c
      on c.enterprise_id = r.enterprise_id
     and c.year = case when r.tax_period ~ '^[0-9]{6}$' then left(r.tax_period, 4)::integer end
    group by r.enterprise_id, c.year
)

select c.enterprise_id, c.year, c.customs_cny, coalesce(v.vat_sales, 0) as vat_sales
from customs_year as c
left join vat_year as v on v.enterprise_id = c.enterprise_id and v.year = c.year
