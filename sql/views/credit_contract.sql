-- The views of the feed contract ("What the pipeline must expose").

create or replace view credit.record_link as
select l.agency, l.feed, l.record_id, l.enterprise_id
from resolve.link as l
join credit.published as p on p.run_id = l.run_id;

-- Latest attempt per delivery folder.
create or replace view credit.delivery_status as
with latest as (
    select distinct on (agency, folder) agency, batch_date, status, reason
    from ingest.delivery
    order by agency, folder, delivery_id desc
)
select agency, batch_date, status, reason from latest;

create or replace view credit.file_reconciliation as
select d.agency, d.batch_date, f.file, f.rows_delivered, f.rows_loaded, f.rows_quarantined
from ingest.file_load as f
join ingest.delivery as d on d.delivery_id = f.delivery_id
where d.status = 'loaded';

create or replace view credit.audit_finding as
select f.audit, f.enterprise_id, f.run_date, f.evidence
from audit.finding as f
join credit.published as p on p.run_id = f.run_id;

create or replace view credit.enterprise as
select e.enterprise_id, e.canonical_name, e.uscc, e.org_code, e.reg_no, e.tax_no,
       e.customs_code, e.is_branch, e.mention_count, e.former_names, e.region, e.legal_rep,
       e.head_enterprise_id, e.status
from resolve.enterprise as e
join credit.published as p on p.run_id = e.run_id;
