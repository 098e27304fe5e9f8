-- A6 arrears_with_a_rating (AUDITS.md)
--
-- Rule: a local-tax arrears announcement (ggrq) in a year Y for which the state-tax credit
-- rating (pjnd = Y) is A.
--
-- Near misses, not reported: a rating A in another year than the announcement's; a rating
-- other than A in the announcement's year; a deleted or superseded announcement or rating
-- (only live records: a rating corrected from A to B no longer counts).
-- Evidence: the announcements and the A ratings of their years, and the years.
--
-- The ratings come from the run's summary (audit.enterprise_rating: every live rating by
-- enterprise and rating year), looked up by the enterprise and year of each announcement.
with arrears as (
    select enterprise_id, record_id, source, announced_on, arrears_amount,
           extract(year from announced_on)::integer as year
    from audit.local_tax__arrears
    where announced_on is not null
),

rated_a as (
    select enterprise_id, record_id, source, rating_year, rating
    from audit.enterprise_rating
    where upper(btrim(rating)) = 'A'
),

pair as (
    select a.enterprise_id, a.year,
           a.record_id as arrears_record_id, a.source as arrears_source, a.announced_on,
           a.arrears_amount,
           r.record_id as rating_record_id, r.source as rating_source, r.rating
    from arrears as a
    join rated_a as r
      on r.enterprise_id = a.enterprise_id
     and r.rating_year = a.year
),

evidence_record as (
    select enterprise_id, announced_on as sort_date, arrears_record_id as record_id,
           arrears_source || jsonb_build_object('announced_on', announced_on,
                                                'arrears_amount', arrears_amount) as record
    from pair
    union
    select enterprise_id, make_date(year, 1, 1), rating_record_id,
           rating_source || jsonb_build_object('rating_year', year, 'rating', rating)
    from pair
),

records as (
    select enterprise_id,
           jsonb_agg(record order by sort_date, record ->> 'feed', record_id) as records
    from evidence_record
    group by enterprise_id
),

years as (
    select enterprise_id, jsonb_agg(distinct year order by year) as years
    from pair
    group by enterprise_id
)

select y.enterprise_id,
       jsonb_build_object('records', r.records, 'years', y.years) as evidence
from years as y
join records as r on r.enterprise_id = y.enterprise_id
