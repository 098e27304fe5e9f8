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

-- Regional access (V009__regional_access.sql; skipped on a schema before it). Readers never see
-- who is limited to which cities, and the loader only reads it, as the policies do. The views
-- of schema credit belong to xinyong_view_owner, so that the policies apply to what they read:
-- it reads what they read, the cities included. CREATE on credit: a migrator that is not a
-- superuser may hand a view only to a role that could have created it.
do $$
declare
    view_name regclass;
begin
    if to_regclass('credit.login_city') is null then
        return;
    end if;
    revoke select on credit.login_city from xinyong_analyst, xinyong_regulator;
    revoke insert, update, delete on credit.login_city from xinyong_loader;
    grant usage on schema ingest, resolve, audit, credit to xinyong_view_owner;
    grant select on all tables in schema ingest, resolve, audit, credit to xinyong_view_owner;
    grant create on schema credit to xinyong_view_owner;
    for view_name in
        select c.oid::regclass
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'credit' and c.relkind = 'v'
          and c.relowner <> 'xinyong_view_owner'::regrole
    loop
        execute format('alter view %s owner to xinyong_view_owner', view_name);
    end loop;
end
$$;
