-- audit.summary_rating: every live state-tax credit rating (纳税信用等级) of the run, with the
-- year it rates (pjnd); a rating without a year rates none. What A6 looks the year of an
-- arrears announcement up in, instead of reading every rating's link and record.
select enterprise_id, rating_year, record_id, rating
from audit.state_tax__credit_ratings
where rating_year is not null
