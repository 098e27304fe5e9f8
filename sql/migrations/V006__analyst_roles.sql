-- Roles of the warehouse (cluster-wide, so created only when missing). Grants are per
-- database and kept here and in sql/views/zz_grants.sql (views are recreated by every
-- migrate, which resets nothing: grants on a replaced view survive `create or replace`).
--
--   xinyong_loader     the nightly pipeline: writes ingest, resolve, audit, credit.published
--   xinyong_regulator  reads the published views (credit)
--   xinyong_analyst    reads the published views (credit) only; cannot write anything
--   xinyong_admin      owns and administers the schemas
-- None of them can log in: a login is a role granted one of these (see README).
do $$
declare
    role_name text;
begin
    foreach role_name in array
        array['xinyong_loader', 'xinyong_regulator', 'xinyong_analyst', 'xinyong_admin']
    loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
    end loop;
end
$$;
