-- Joint-supervision views (联合监管): every fact an agency holds about an enterprise, one query
-- away, each row with the enterprise_id of the published night. Only live records (the latest
-- version of each record key, deletions excluded) that were linked to an enterprise appear.

-- The enterprise profile: the golden record with the register's facts (latest live AIC
-- registration), its branches and its name history.
create or replace view credit.enterprise_profile as
with registration as (
    select distinct on (l.enterprise_id)
           l.enterprise_id, g.record_id, g.enterprise_type, g.legal_rep, g.legal_rep_id_masked,
           g.address, g.registered_capital_10k, g.established_on, g.approved_on, g.status,
           g.industry_code, g.registration_authority
    from credit.record_link as l
    join ingest.aic__registrations as g
      on g.record_id = l.record_id and g.valid_to is null and g.op <> 'D'
    where l.agency = 'aic' and l.feed = 'registrations'
    order by l.enterprise_id, g.approved_on desc nulls last, g.record_id
),
branches as (
    select head_enterprise_id as enterprise_id, count(*) as branches
    from credit.enterprise
    where head_enterprise_id is not null
    group by head_enterprise_id
)
select e.enterprise_id, e.canonical_name, e.former_names, e.uscc, e.org_code, e.reg_no,
       e.tax_no, e.customs_code, e.region, e.is_branch, e.head_enterprise_id,
       coalesce(b.branches, 0) as branches, r.status, r.enterprise_type,
       coalesce(r.legal_rep, e.legal_rep) as legal_rep, r.legal_rep_id_masked, r.address,
       r.registered_capital_10k, r.established_on, r.approved_on, r.industry_code,
       r.registration_authority, r.record_id as registration_record_id, e.mention_count
from credit.enterprise as e
left join registration as r using (enterprise_id)
left join branches as b using (enterprise_id);

comment on view credit.enterprise_profile is
    'One row per resolved enterprise: golden record plus its live AIC registration (status, type, '
    'legal representative, address, capital, dates), number of branches, former names.';

-- 失信被执行人 (court).
create or replace view credit.dishonest_debtor as
select l.enterprise_id, t.record_id, t.case_no, t.debtor_name, t.org_code, t.legal_rep,
       t.executing_court, t.filed_on, t.published_on, t.performance, t.dishonest_conduct
from ingest.court__dishonest_debtors as t
join credit.record_link as l
  on l.agency = 'court' and l.feed = 'dishonest_debtors' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D';

comment on view credit.dishonest_debtor is
    '失信被执行人: one row per live dishonest-debtor record; performance is lxqk '
    '(全部未履行, 部分未履行, ...), org_code as delivered (may be masked).';

-- 经营异常名录 (AIC): listed while removed_on is null.
create or replace view credit.abnormal_operation as
select l.enterprise_id, t.record_id, t.name, t.listed_on, t.listing_reason, t.removed_on,
       t.removal_reason, t.removed_on is null as still_listed
from ingest.aic__abnormal_operations as t
join credit.record_link as l
  on l.agency = 'aic' and l.feed = 'abnormal_operations' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D';

comment on view credit.abnormal_operation is
    '经营异常名录: one row per live listing; still_listed when no 移出日期.';

-- Penalties of every agency in one shape.
create or replace view credit.penalty as
with penalties as (
    select 'construction' as agency, 'violations' as feed, record_id, name as party_name,
           decided_on, violation, decision, null::numeric as amount
    from ingest.construction__violations where valid_to is null and op <> 'D'
    union all
    select 'food_drug', 'penalties', record_id, name, decided_on, violation, penalty, amount
    from ingest.food_drug__penalties where valid_to is null and op <> 'D'
    union all
    select 'price', 'price_violations', record_id, party, decided_on, violation, legal_basis, fine
    from ingest.price__price_violations where valid_to is null and op <> 'D'
    union all
    select 'quality', 'product_inspections', record_id, name, inspected_on,
           '产品抽查不合格: ' || coalesce(product, ''), failed_items, null::numeric
    from ingest.quality__product_inspections
    where valid_to is null and op <> 'D' and verdict = '不合格'
)
select l.enterprise_id, p.agency, p.feed, p.record_id, p.party_name, p.decided_on, p.violation,
       p.decision, p.amount
from penalties as p
join credit.record_link as l
  on l.agency = p.agency and l.feed = p.feed and l.record_id = p.record_id;

comment on view credit.penalty is
    'Administrative penalties of every agency in one shape: construction violations (决定日期), '
    'food/drug penalties (处罚日期), price violations (决定日期), failed quality inspections '
    '(抽查日期). amount in yuan where the agency gives one.';

-- Tax and customs credit ratings.
create or replace view credit.rating as
with ratings as (
    select 'state_tax' as agency, 'credit_ratings' as feed, record_id, rating_year,
           null::date as effective_on, rating
    from ingest.state_tax__credit_ratings where valid_to is null and op <> 'D'
    union all
    select 'customs', 'credit_ratings', record_id, extract(year from effective_on)::int,
           effective_on, credit_level
    from ingest.customs__credit_ratings where valid_to is null and op <> 'D'
)
select l.enterprise_id, r.agency, r.feed, r.record_id, r.rating_year, r.effective_on, r.rating
from ratings as r
join credit.record_link as l
  on l.agency = r.agency and l.feed = r.feed and l.record_id = r.record_id;

comment on view credit.rating is
    'Credit ratings: state tax (评价年度 rating_year, A/B/M/C/D) and customs (effective date, '
    '高级认证企业 / 一般认证企业 / 一般信用企业 / 失信企业).';

-- Licences and qualifications.
create or replace view credit.licence as
with licences as (
    select 'construction' as agency, 'qualifications' as feed, record_id,
           certificate_no as licence_no, qualification as scope, issued_on, valid_until, issuer
    from ingest.construction__qualifications where valid_to is null and op <> 'D'
    union all
    select 'food_drug', 'licenses', record_id, license_no, scope, issued_on, valid_until, null
    from ingest.food_drug__licenses where valid_to is null and op <> 'D'
    union all
    select 'quality', 'org_code_certificates', record_id, org_code_norm, org_type, issued_on,
           valid_until, null
    from ingest.quality__org_code_certificates where valid_to is null and op <> 'D'
)
select l.enterprise_id, c.agency, c.feed, c.record_id, c.licence_no, c.scope, c.issued_on,
       c.valid_until, c.issuer
from licences as c
join credit.record_link as l
  on l.agency = c.agency and l.feed = c.feed and l.record_id = c.record_id;

comment on view credit.licence is
    'Licences and qualifications: construction qualifications (资质), food/drug licences (许可证), '
    'organization-code certificates.';

-- Court judgments, one row per enterprise party.
create or replace view credit.judgment as
select l.enterprise_id, t.record_id, t.case_no, t.court, t.cause, t.judged_on,
       t.amount_at_stake, t.party_role, t.party_name
from ingest.court__judgments as t
join credit.record_link as l
  on l.agency = 'court' and l.feed = 'judgments' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D';

comment on view credit.judgment is
    'Court judgments (裁判文书): one row per enterprise party (record_id <case id>#<n>); '
    'party_role 原告 / 被告 / 第三人.';

-- 欠税公告 (local tax).
create or replace view credit.arrears as
select l.enterprise_id, t.record_id, t.taxpayer_name, t.legal_rep, t.arrears_amount,
       t.levy_item, t.announced_on
from ingest.local_tax__arrears as t
join credit.record_link as l
  on l.agency = 'local_tax' and l.feed = 'arrears' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D';

comment on view credit.arrears is
    '欠税公告: local-tax arrears announcements; arrears_amount in yuan.';
