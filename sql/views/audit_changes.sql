-- What changed in the cross-audits since the previous run: findings of the published run
-- that the run before it did not have (new), and findings of the run before that the
-- published run no longer has (resolved). Publication keeps exactly one earlier run.
create or replace view credit.audit_finding_change as
with published as (
    select run_id, run_date from credit.published
),
previous as (
    select max(r.run_id) as run_id
    from resolve.night_run as r
    join published as p on r.run_id < p.run_id
),
tonight as (
    select f.audit, f.enterprise_id, f.evidence
    from audit.finding as f join published as p on p.run_id = f.run_id
),
before as (
    select f.audit, f.enterprise_id, f.evidence
    from audit.finding as f join previous as p on p.run_id = f.run_id
)
select t.audit, t.enterprise_id, 'new' as change, p.run_date, t.evidence
from tonight as t cross join published as p
where not exists (
    select 1 from before as b where b.audit = t.audit and b.enterprise_id = t.enterprise_id)
union all
select b.audit, b.enterprise_id, 'resolved' as change, p.run_date, b.evidence
from before as b cross join published as p
where not exists (
    select 1 from tonight as t where t.audit = b.audit and t.enterprise_id = b.enterprise_id);

comment on view credit.audit_finding_change is
    'Cross-audit findings new in the published night (change = new) or gone since the run '
    'before it (change = resolved), with the evidence of the run that has them.';

comment on column credit.audit_finding_change.audit is 'audit code: A1 ... A8 (and any added)';
comment on column credit.audit_finding_change.enterprise_id is 'the enterprise reported';
comment on column credit.audit_finding_change.change is
    'new: reported in the published night, not in the run before; resolved: reported in the '
    'run before, no longer in the published night';
comment on column credit.audit_finding_change.run_date is 'date of the published night';
comment on column credit.audit_finding_change.evidence is
    'the finding''s evidence JSON (as credit.audit_finding.evidence), from the published run '
    'for new, from the run before for resolved';
