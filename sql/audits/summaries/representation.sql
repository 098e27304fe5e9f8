-- audit.summary_representation: per person and enterprise of the run, the live records that
-- name the person as the enterprise's legal representative, as evidence records ordered by
-- agency, feed and record_id, the masked identity numbers they show, and the enterprise's
-- register entry (登记状态 and its registration; null when it has none). The person is the
-- keyed hash of the resident identity number (AIC 法定代表人证件号码, public-security
-- fddbr_sfzh); names are never compared. What A7 pairs enterprises on.
-- after: registration
with naming as (
    select legal_rep_id_hash as person, enterprise_id, agency, feed, record_id,
           legal_rep_id_masked as person_masked
    from audit.aic__registrations
    where legal_rep_id_hash is not null
    union all
    select legal_rep_id_hash, enterprise_id, agency, feed, record_id, legal_rep_id_masked
    from audit.public_security__seal_filings
    where legal_rep_id_hash is not null
),

represented as (
    select person, enterprise_id,
           array_agg(distinct person_masked) as person_masked,
           jsonb_agg(audit.record_source(agency, feed, record_id)
                         || jsonb_build_object('enterprise_id', enterprise_id)
                     order by agency, feed, record_id) as records
    from naming
    group by person, enterprise_id
)

select r.person, r.enterprise_id, r.person_masked, e.status,
       e.record_id as registration_record_id, r.records
from represented as r
left join audit.enterprise_registration as e on e.enterprise_id = r.enterprise_id
