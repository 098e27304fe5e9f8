-- What the cross-audits (sql/audits/A*.sql, rules in AUDITS.md) read: the links of the run
-- being audited. Nothing here touches data, so applying it to a populated warehouse is safe.
--
-- The per-feed objects the audits also need (an index on the live records' record_id and a
-- view of every feed's live records with their enterprise, audit.<agency>__<feed>) are in
-- sql/views/audit_support.sql: feed tables are created from the feed specs after the
-- migrations, so a migration cannot refer to them on a fresh warehouse; the view files run
-- after them on every `xinyong db migrate`.

create schema if not exists audit;

-- The run being audited: night.audit sets the transaction-local setting xinyong.run_id; an
-- analyst who runs an audit file by hand without it gets the published run.
create or replace view audit.run_link as
select l.run_id, l.agency, l.feed, l.record_id, l.enterprise_id, l.rule, l.evidence
from resolve.link as l
where l.run_id = coalesce(nullif(current_setting('xinyong.run_id', true), '')::bigint,
                          (select p.run_id from credit.published as p));

comment on view audit.run_link is
    'links of the run being audited: xinyong.run_id (set by night.audit), else the published run';

