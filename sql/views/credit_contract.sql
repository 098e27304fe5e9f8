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

-- Column documentation for analysts (README "Schema for analysts" repeats it).
comment on view credit.record_link is
    'One row per live source record that refers to an enterprise, with the enterprise the '
    'published night links it to.';
comment on column credit.record_link.agency is
    'delivering agency: aic, state_tax, local_tax, quality, customs, construction, food_drug, '
    'price, public_security, court';
comment on column credit.record_link.feed is
    'the agency''s file without extension, e.g. registrations, vat_returns, judgments';
comment on column credit.record_link.record_id is
    'the agency''s record key (记录ID / id / record_id); <id>#<n> for the n-th party of a '
    'judgment (n from 0)';
comment on column credit.record_link.enterprise_id is
    'the resolved enterprise: E + 10 digits, stable across nights (credit.enterprise)';

comment on view credit.delivery_status is
    'One row per delivery folder seen: the latest attempt''s status.';
comment on column credit.delivery_status.agency is 'delivering agency (code as in record_link)';
comment on column credit.delivery_status.batch_date is
    'the delivery folder''s date (YYYYMMDD folder name): when it arrived';
comment on column credit.delivery_status.status is
    'loaded (all files loaded), rejected (nothing loaded, see reason) or duplicate (same '
    'content as a delivery already loaded)';
comment on column credit.delivery_status.reason is
    'why a delivery was rejected or is a duplicate; null when loaded';

comment on view credit.file_reconciliation is
    'One row per file of every loaded delivery: rows_delivered = rows_loaded + rows_quarantined.';
comment on column credit.file_reconciliation.agency is 'delivering agency';
comment on column credit.file_reconciliation.batch_date is 'the delivery folder''s date';
comment on column credit.file_reconciliation.file is
    'data file name as delivered, e.g. registrations.csv';
comment on column credit.file_reconciliation.rows_delivered is
    'data rows the delivery''s manifest declares for the file';
comment on column credit.file_reconciliation.rows_loaded is
    'rows of the file loaded into ingest.<agency>__<feed>';
comment on column credit.file_reconciliation.rows_quarantined is
    'rows that could not be used, kept with their reason in ingest.quarantine';

comment on view credit.audit_finding is
    'One row per enterprise a cross-audit (A1-A8 of AUDITS.md, sql/audits/) reports in the '
    'published night.';
comment on column credit.audit_finding.audit is 'audit code: A1 ... A8 (and any added A9 ...)';
comment on column credit.audit_finding.enterprise_id is 'the reported enterprise';
comment on column credit.audit_finding.run_date is 'date of the night whose run was audited';
comment on column credit.audit_finding.evidence is
    'JSON: "records" lists the source records behind the finding ({agency, feed, record_id} '
    'and the facts the rule compares), plus the rule''s summary facts (dates, amounts in yuan, '
    'years)';

comment on view credit.enterprise is
    'One row per resolved enterprise of the published night: its golden record.';
comment on column credit.enterprise.enterprise_id is
    'E + 10 digits; kept across nights, never reused (merges and splits: '
    'resolve.enterprise_id_change)';
comment on column credit.enterprise.canonical_name is
    'name from the most authoritative source that names it (AIC register first), as delivered';
comment on column credit.enterprise.uscc is
    'unified social credit code (统一社会信用代码, GB 32100, 18 characters): the most frequent '
    'valid one among its records';
comment on column credit.enterprise.org_code is
    'organization code (组织机构代码, GB 11714, 9 characters, no hyphen), delivered or embedded '
    'in its uscc or tax number; most frequent valid one';
comment on column credit.enterprise.reg_no is
    'AIC registration number (注册号, GB/T 17710, 15 digits); most frequent valid one';
comment on column credit.enterprise.tax_no is
    'old taxpayer number (税务登记号, 6-digit region + organization code, 15 characters); most '
    'frequent valid one';
comment on column credit.enterprise.customs_code is
    'customs registration code (海关编码, 10 characters); most frequent valid one';
comment on column credit.enterprise.is_branch is
    'a branch (分公司/分店/分厂, by 企业类型 or its name); never merged with its head office';
comment on column credit.enterprise.mention_count is
    'number of live source records linked to it (rows of credit.record_link)';
comment on column credit.enterprise.former_names is
    'JSON array of names it had before, from the AIC name-change feed (normalised)';
comment on column credit.enterprise.region is
    '6-digit administrative region code of its codes (most frequent among its records)';
comment on column credit.enterprise.legal_rep is
    'legal representative (法定代表人) from the best-ranked source that names one';
comment on column credit.enterprise.head_enterprise_id is
    'for a branch: the enterprise_id of its head office, when resolved; else null';
comment on column credit.enterprise.status is
    'AIC 登记状态 of its live registration (存续, 在业, 吊销, 注销, 迁出); null without one';
