-- Regional access (issue 7): a login can be limited to cities. A city is the first 4 digits of
-- the 6-digit administrative region an enterprise is registered in (resolve.enterprise.region,
-- the region its codes were issued in: uscc characters 3-8, registration or tax number 1-6).
-- A login limited to cities sees, in every published view, only the rows of enterprises
-- registered there; a login limited to none sees every row. `xinyong db create-login` sets it.
--
-- Row-level security on the three tables every enterprise-bearing view of schema credit takes
-- its enterprise from: resolve.enterprise decides by the city, resolve.link and audit.finding
-- show a row when its enterprise (in the row's run) is shown.
--
-- How it reaches readers through the views: a view reads its tables with its owner's rights and
-- under its owner's policies, and superusers and table owners skip policies. So the views of
-- schema credit are owned by xinyong_view_owner (sql/views/zz_grants.sql): it is neither, and
-- can only read. The policies ask who reads with session_user and current_user, which a view
-- does not change: both, so that a limited login keeps its cities after SET ROLE
-- xinyong_regulator, and anyone taking on a limited login (SET ROLE li_ming) takes them too.
-- Not for materialized views: their rows are computed by whoever refreshes them.

create table credit.login_city (
    login name not null,
    city  text not null check (city ~ '^[0-9]{4}$'),
    primary key (login, city)
);

comment on table credit.login_city is
    'the cities (first 4 digits of the registration region) a login is limited to; a login '
    'without rows sees every city. Written by xinyong db create-login, read by the policies '
    'of V009__regional_access.sql, not readable by analysts or regulators';

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'xinyong_view_owner') then
        create role xinyong_view_owner nologin;
    end if;
exception when duplicate_object or unique_violation then
    null;  -- created meanwhile by a migration of another database of the cluster
end
$$;

-- A migrator that is not a superuser must stay able to replace the views it hands over.
do $$
begin
    if not (select rolsuper from pg_roles where rolname = current_user)
       and not pg_has_role(current_user, 'xinyong_view_owner', 'member') then
        execute format('grant xinyong_view_owner to %I', current_user);
    end if;
end
$$;

-- In each policy the first test (no row for the reader: every city) is evaluated once per
-- query, so readers without a limit pay nothing per row (the planner's estimates still count
-- the second test).
alter table resolve.enterprise enable row level security;
create policy regional_access on resolve.enterprise
    using (not exists (select from credit.login_city as c
                       where c.login in (session_user, current_user))
           or left(region, 4) in (select c.city from credit.login_city as c
                                  where c.login in (session_user, current_user)));

-- A link or finding is shown when its enterprise is: the policy of resolve.enterprise applies
-- inside the EXISTS. A limited login's lookup probes the enterprise's primary key per link or
-- finding it reads; for many rows the planner may hash the run's enterprises instead.
alter table resolve.link enable row level security;
create policy regional_access on resolve.link
    using (not exists (select from credit.login_city as c
                       where c.login in (session_user, current_user))
           or exists (select from resolve.enterprise as e
                      where e.run_id = link.run_id and e.enterprise_id = link.enterprise_id));

alter table audit.finding enable row level security;
create policy regional_access on audit.finding
    using (not exists (select from credit.login_city as c
                       where c.login in (session_user, current_user))
           or exists (select from resolve.enterprise as e
                      where e.run_id = finding.run_id
                        and e.enterprise_id = finding.enterprise_id));
