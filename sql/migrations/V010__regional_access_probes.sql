-- The link and finding policies of V009 as a probe of the enterprise's primary key per row,
-- on every server version.
--
-- The planner plans an EXISTS in a filter two ways, a probe per row or a hash of the whole
-- subquery, and picks one by cost when it finishes the plan. PostgreSQL 18 picks the hash more
-- readily: a limited login's lookup of one enterprise then hashed every enterprise of the run
-- (a scan of resolve.enterprise per lookup; tests/test_regional_access.py). OFFSET 0 keeps the
-- subquery from being turned into the hashable form, so the probe is the only plan. A limited
-- login that reads a whole view pays one primary-key probe per row it reads instead.

drop policy if exists regional_access on resolve.link;
create policy regional_access on resolve.link
    using (not exists (select from credit.login_city as c
                       where c.login in (session_user, current_user))
           or exists (select from resolve.enterprise as e
                      where e.run_id = link.run_id and e.enterprise_id = link.enterprise_id
                      offset 0));

drop policy if exists regional_access on audit.finding;
create policy regional_access on audit.finding
    using (not exists (select from credit.login_city as c
                       where c.login in (session_user, current_user))
           or exists (select from resolve.enterprise as e
                      where e.run_id = finding.run_id
                        and e.enterprise_id = finding.enterprise_id
                      offset 0));
