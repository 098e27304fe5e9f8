-- audit.summary_legal_rep: every live record of the run that names a person as an
-- enterprise's legal representative, the person being the keyed hash of the resident
-- identity number (AIC 法定代表人证件号码, public-security fddbr_sfzh); names are never
-- compared. What A7 joins persons on.
select legal_rep_id_hash as person, enterprise_id, agency, feed, record_id,
       legal_rep_id_masked as person_masked
from audit.aic__registrations
where legal_rep_id_hash is not null
union all
select legal_rep_id_hash, enterprise_id, agency, feed, record_id, legal_rep_id_masked
from audit.public_security__seal_filings
where legal_rep_id_hash is not null
