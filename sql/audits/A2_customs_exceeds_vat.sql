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
-- Evidence: every year that exceeds ({year, customs_cny, vat_sales}), with its customs
-- declarations and VAT returns as records.
--
-- The years come from the run's summaries: audit.enterprise_trade_year, a row per enterprise
-- and year with customs value, summed as above (sql/audits/summaries/trade.sql), and
-- audit.enterprise_trade, the evidence of all of an enterprise's years in the shape of a
-- finding, stored once by the night. When every year of an enterprise exceeds (most of those
-- found: no VAT sales at all), that is the finding's evidence as it is; otherwise the
-- exceeding years' records are cut from it (each year's are consecutive, between its
-- first_record and last_record). Built again for every finding, the 1.4M records of
-- scale 1 took 2 s.
with exceeding_year as (
    select enterprise_id, year, customs_cny, vat_sales, first_record, last_record
    from audit.enterprise_trade_year
    where customs_cny > 5 * vat_sales
),

exceeding as (
    select enterprise_id, count(*) as years
    from exceeding_year
    group by enterprise_id
),

every_year as (
    select t.enterprise_id, t.evidence
    from exceeding as e
    join audit.enterprise_trade as t on t.enterprise_id = e.enterprise_id
    where e.years = jsonb_array_length(t.years)
),

some_years as (
    select t.enterprise_id,
           jsonb_build_object(
               'records', audit.jsonb_array_concat(
                              jsonb_path_query_array(
                                  t.evidence -> 'records',
                                  format('$[%s to %s]', y.first_record, y.last_record)::jsonpath)
                              order by y.year),
               'years', jsonb_agg(jsonb_build_object('year', y.year,
                                                     'customs_cny', y.customs_cny,
                                                     'vat_sales', y.vat_sales)
                                  order by y.year)
           ) as evidence
    from exceeding as e
    join audit.enterprise_trade as t on t.enterprise_id = e.enterprise_id
    join exceeding_year as y on y.enterprise_id = e.enterprise_id
    where e.years < jsonb_array_length(t.years)
    group by t.enterprise_id
)

select enterprise_id, evidence from every_year
union all
select enterprise_id, evidence from some_years
