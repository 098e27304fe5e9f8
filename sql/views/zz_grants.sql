-- Grants, applied after every view is (re)created (files in sql/views/ run in name order).
-- Readers see only the published views of schema credit: the views run with their owner's
-- rights, so no reader needs (or has) access to ingest, resolve or audit.
revoke all on schema ingest, resolve, audit from public;
revoke all on all tables in schema credit from public;

grant usage on schema credit to xinyong_analyst, xinyong_regulator;
grant select on all tables in schema credit to xinyong_analyst, xinyong_regulator;
revoke select on credit.published from xinyong_analyst, xinyong_regulator;  -- bookkeeping

grant usage on schema ingest, resolve, audit, credit to xinyong_loader;
grant select, insert, update, delete on all tables in schema ingest, resolve, audit, credit
    to xinyong_loader;
grant usage on all sequences in schema ingest, resolve, audit to xinyong_loader;

grant all on schema ingest, resolve, audit, credit to xinyong_admin;
grant all on all tables in schema ingest, resolve, audit, credit to xinyong_admin;
