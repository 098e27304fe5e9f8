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
-- The years, their sums and their records come from the run's summary
-- (audit.enterprise_trade_year, sql/audits/summaries/trade_year.sql: customs value in CNY and
-- VAT sales per enterprise and year with customs value, summed exactly as above, and the
-- year's declarations and returns as evidence records, in date order).
with exceeding as (
    select enterprise_id, year, customs_cny, vat_sales, records
    from audit.enterprise_trade_year
    where customs_cny > 5 * vat_sales
)

select enterprise_id,
       jsonb_build_object(
           'records', audit.jsonb_array_concat(records order by year),
           'years', jsonb_agg(jsonb_build_object('year', year,
                                                 'customs_cny', customs_cny,
                                                 'vat_sales', vat_sales,
                                                 'vat_sales_x5', 5 * vat_sales)
                              order by year)
       ) as evidence
from exceeding
group by enterprise_id
