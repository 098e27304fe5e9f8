-- Joint-supervision views (联合监管): every fact an agency holds about an enterprise, one query
-- away, each row with the enterprise_id of the published night. Only live records (the latest
-- version of each record key, deletions excluded) that were linked to an enterprise appear.

-- The enterprise profile: the golden record with the register's facts (latest live AIC
-- registration), its branches and its name history. The registration and the branch count
-- are lateral subqueries of the one enterprise: a lookup by code or id (the regulators' most
-- common question) reads that enterprise's links and registrations through their indexes
-- instead of every registration of the run (tests/test_warehouse_plans.py shows the plans).
create or replace view credit.enterprise_profile as
select e.enterprise_id, e.canonical_name, e.former_names, e.uscc, e.org_code, e.reg_no,
       e.tax_no, e.customs_code, e.region, e.is_branch, e.head_enterprise_id,
       b.branches, r.status, r.enterprise_type,
       coalesce(r.legal_rep, e.legal_rep) as legal_rep, r.legal_rep_id_masked, r.address,
       r.registered_capital_10k, r.established_on, r.approved_on, r.industry_code,
       r.registration_authority, r.record_id as registration_record_id, e.mention_count
from credit.enterprise as e
left join lateral (
    select g.record_id, g.enterprise_type, g.legal_rep, g.legal_rep_id_masked, g.address,
           g.registered_capital_10k, g.established_on, g.approved_on, g.status,
           g.industry_code, g.registration_authority
    from credit.record_link as l
    join ingest.aic__registrations as g
      on g.record_id = l.record_id and g.valid_to is null and g.op <> 'D'
    where l.enterprise_id = e.enterprise_id and l.agency = 'aic' and l.feed = 'registrations'
    order by g.approved_on desc nulls last, g.record_id
    limit 1
) as r on true
cross join lateral (
    select count(*) as branches
    from credit.enterprise as h
    where h.head_enterprise_id = e.enterprise_id
) as b;

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

-- Penalties of every agency in one shape. Each branch joins its own links, so a lookup by
-- enterprise_id reaches every branch as an index probe (a UNION ALL joined to the links
-- afterwards is read whole: tests/test_warehouse_plans.py).
create or replace view credit.penalty as
select l.enterprise_id, 'construction' as agency, 'violations' as feed, t.record_id,
       t.name as party_name, t.decided_on, t.violation, t.decision, null::numeric as amount
from ingest.construction__violations as t
join credit.record_link as l
  on l.agency = 'construction' and l.feed = 'violations' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D'
union all
select l.enterprise_id, 'food_drug', 'penalties', t.record_id, t.name, t.decided_on,
       t.violation, t.penalty, t.amount
from ingest.food_drug__penalties as t
join credit.record_link as l
  on l.agency = 'food_drug' and l.feed = 'penalties' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D'
union all
select l.enterprise_id, 'price', 'price_violations', t.record_id, t.party, t.decided_on,
       t.violation, t.legal_basis, t.fine
from ingest.price__price_violations as t
join credit.record_link as l
  on l.agency = 'price' and l.feed = 'price_violations' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D'
union all
select l.enterprise_id, 'quality', 'product_inspections', t.record_id, t.name, t.inspected_on,
       '产品抽查不合格: ' || coalesce(t.product, ''), t.failed_items, null::numeric
from ingest.quality__product_inspections as t
join credit.record_link as l
  on l.agency = 'quality' and l.feed = 'product_inspections' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D' and t.verdict = '不合格';

comment on view credit.penalty is
    'Administrative penalties of every agency in one shape: construction violations (决定日期), '
    'food/drug penalties (处罚日期), price violations (决定日期), failed quality inspections '
    '(抽查日期). amount in yuan where the agency gives one.';

-- Tax and customs credit ratings (each branch joins its own links, as credit.penalty).
create or replace view credit.rating as
select l.enterprise_id, 'state_tax' as agency, 'credit_ratings' as feed, t.record_id,
       t.rating_year, null::date as effective_on, t.rating
from ingest.state_tax__credit_ratings as t
join credit.record_link as l
  on l.agency = 'state_tax' and l.feed = 'credit_ratings' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D'
union all
select l.enterprise_id, 'customs', 'credit_ratings', t.record_id,
       extract(year from t.effective_on)::int, t.effective_on, t.credit_level
from ingest.customs__credit_ratings as t
join credit.record_link as l
  on l.agency = 'customs' and l.feed = 'credit_ratings' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D';

comment on view credit.rating is
    'Credit ratings: state tax (评价年度 rating_year, A/B/M/C/D) and customs (effective date, '
    '高级认证企业 / 一般认证企业 / 一般信用企业 / 失信企业).';

-- Licences and qualifications (each branch joins its own links, as credit.penalty).
create or replace view credit.licence as
select l.enterprise_id, 'construction' as agency, 'qualifications' as feed, t.record_id,
       t.certificate_no as licence_no, t.qualification as scope, t.issued_on, t.valid_until,
       t.issuer
from ingest.construction__qualifications as t
join credit.record_link as l
  on l.agency = 'construction' and l.feed = 'qualifications' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D'
union all
select l.enterprise_id, 'food_drug', 'licenses', t.record_id, t.license_no, t.scope,
       t.issued_on, t.valid_until, null
from ingest.food_drug__licenses as t
join credit.record_link as l
  on l.agency = 'food_drug' and l.feed = 'licenses' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D'
union all
select l.enterprise_id, 'quality', 'org_code_certificates', t.record_id, t.org_code_norm,
       t.org_type, t.issued_on, t.valid_until, null
from ingest.quality__org_code_certificates as t
join credit.record_link as l
  on l.agency = 'quality' and l.feed = 'org_code_certificates' and l.record_id = t.record_id
where t.valid_to is null and t.op <> 'D';

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

-- Column documentation for analysts (README "Schema for analysts" repeats it). Dates are
-- calendar dates as delivered; amounts are yuan unless the column says otherwise.
comment on column credit.enterprise_profile.enterprise_id is
    'the resolved enterprise: E + 10 digits, stable across nights';
comment on column credit.enterprise_profile.canonical_name is
    'name from the most authoritative source that names it (AIC register first)';
comment on column credit.enterprise_profile.former_names is
    'JSON array of earlier names, from the AIC name-change feed (normalised)';
comment on column credit.enterprise_profile.uscc is
    'unified social credit code (统一社会信用代码, 18 characters), most frequent valid one';
comment on column credit.enterprise_profile.org_code is
    'organization code (组织机构代码, 9 characters), delivered or embedded in uscc / tax number';
comment on column credit.enterprise_profile.reg_no is
    'AIC registration number (注册号, 15 digits)';
comment on column credit.enterprise_profile.tax_no is
    'old taxpayer number (税务登记号, region + organization code, 15 characters)';
comment on column credit.enterprise_profile.customs_code is
    'customs registration code (海关编码, 10 characters)';
comment on column credit.enterprise_profile.region is
    '6-digit administrative region code of its codes; left(region, 4) is the city';
comment on column credit.enterprise_profile.is_branch is
    'a branch (分公司/分店/分厂), by 企业类型 or its name';
comment on column credit.enterprise_profile.head_enterprise_id is
    'for a branch: the enterprise_id of its head office, when resolved';
comment on column credit.enterprise_profile.branches is
    'number of enterprises whose head office this is (0 when none)';
comment on column credit.enterprise_profile.status is
    'AIC 登记状态 of its live registration: 存续, 在业, 吊销, 注销, 迁出; null when unregistered';
comment on column credit.enterprise_profile.enterprise_type is
    'AIC 企业类型 as delivered, e.g. 有限责任公司, 分公司';
comment on column credit.enterprise_profile.legal_rep is
    'legal representative (法定代表人): the AIC registration''s, else the golden record''s';
comment on column credit.enterprise_profile.legal_rep_id_masked is
    'legal representative''s identity number, first 4 and last 4 characters only (the number '
    'itself is never stored)';
comment on column credit.enterprise_profile.address is 'AIC 住所 (registered address)';
comment on column credit.enterprise_profile.registered_capital_10k is
    'AIC 注册资本 in 10,000 yuan (万元)';
comment on column credit.enterprise_profile.established_on is 'AIC 成立日期 (date founded)';
comment on column credit.enterprise_profile.approved_on is
    'AIC 核准日期: date the register approved its current entry (for 注销/吊销, audit A1 reads '
    'it as the closing date)';
comment on column credit.enterprise_profile.industry_code is 'AIC 行业代码 (industry classification code) as delivered';
comment on column credit.enterprise_profile.registration_authority is 'AIC 登记机关';
comment on column credit.enterprise_profile.registration_record_id is
    'record_id of the live AIC registration shown (latest 核准日期), in ingest.aic__registrations';
comment on column credit.enterprise_profile.mention_count is
    'number of live source records linked to it (rows of credit.record_link)';

comment on column credit.dishonest_debtor.enterprise_id is 'the resolved enterprise';
comment on column credit.dishonest_debtor.record_id is 'court record key (id)';
comment on column credit.dishonest_debtor.case_no is 'case number (ah 案号)';
comment on column credit.dishonest_debtor.debtor_name is
    'name of the debtor as delivered (bzxrmc 被执行人名称)';
comment on column credit.dishonest_debtor.org_code is
    'organization code or uscc as delivered (zzjgdm); may be partly masked with *';
comment on column credit.dishonest_debtor.legal_rep is 'legal representative (fddbr 法定代表人)';
comment on column credit.dishonest_debtor.executing_court is 'executing court (zxfy 执行法院)';
comment on column credit.dishonest_debtor.filed_on is 'date the case was filed (larq 立案日期)';
comment on column credit.dishonest_debtor.published_on is
    'date the debtor was published as dishonest (fbrq 发布日期)';
comment on column credit.dishonest_debtor.performance is
    'lxqk 履行情况: 全部未履行 (nothing performed), 部分未履行 (partly), ...';
comment on column credit.dishonest_debtor.dishonest_conduct is
    'sxxw 失信行为: the conduct that made it dishonest';

comment on column credit.abnormal_operation.enterprise_id is 'the resolved enterprise';
comment on column credit.abnormal_operation.record_id is 'AIC record key (记录ID)';
comment on column credit.abnormal_operation.name is 'enterprise name as delivered (企业名称)';
comment on column credit.abnormal_operation.listed_on is 'date listed (列入日期)';
comment on column credit.abnormal_operation.listing_reason is 'reason for listing (列入原因)';
comment on column credit.abnormal_operation.removed_on is
    'date removed from the list (移出日期); null while listed';
comment on column credit.abnormal_operation.removal_reason is 'reason for removal (移出原因)';
comment on column credit.abnormal_operation.still_listed is 'true when removed_on is null';

comment on column credit.penalty.enterprise_id is 'the resolved enterprise';
comment on column credit.penalty.agency is 'construction, food_drug, price or quality';
comment on column credit.penalty.feed is
    'violations (construction), penalties (food_drug), price_violations (price), '
    'product_inspections (quality; only 检验结论 = 不合格)';
comment on column credit.penalty.record_id is 'the agency''s record key';
comment on column credit.penalty.party_name is
    'penalised party as delivered (企业名称 / 当事人名称 / 当事人)';
comment on column credit.penalty.decided_on is
    'decision date (决定日期 / 处罚日期); for quality, the inspection date (抽查日期)';
comment on column credit.penalty.violation is
    'what was wrong (违规行为 / 违法行为 / 违法事实); quality: 产品抽查不合格: <product>';
comment on column credit.penalty.decision is
    'the decision (处理决定 / 处罚内容); price: the legal basis (处罚依据); quality: the failed '
    'items (不合格项目)';
comment on column credit.penalty.amount is
    'fine or confiscation in yuan (food_drug 罚没金额, price 罚款金额); null for construction '
    'and quality';

comment on column credit.rating.enterprise_id is 'the resolved enterprise';
comment on column credit.rating.agency is 'state_tax or customs';
comment on column credit.rating.feed is 'credit_ratings';
comment on column credit.rating.record_id is 'the agency''s record key';
comment on column credit.rating.rating_year is
    'state tax: the year rated (评价年度 pjnd); customs: the year of effective_on';
comment on column credit.rating.effective_on is
    'customs: date the level took effect; null for state tax';
comment on column credit.rating.rating is
    'state tax 纳税信用等级 A/B/M/C/D; customs 信用等级 高级认证企业 / 一般认证企业 / '
    '一般信用企业 / 失信企业';

comment on column credit.licence.enterprise_id is 'the resolved enterprise';
comment on column credit.licence.agency is 'construction, food_drug or quality';
comment on column credit.licence.feed is
    'qualifications (construction), licenses (food_drug), org_code_certificates (quality)';
comment on column credit.licence.record_id is 'the agency''s record key';
comment on column credit.licence.licence_no is
    'certificate or licence number (资质证书编号 / 许可证编号); organization-code certificate: '
    'the repaired organization code';
comment on column credit.licence.scope is
    'what it permits: 资质类别及等级 / 许可范围; organization-code certificate: 机构类型';
comment on column credit.licence.issued_on is 'date issued (发证日期 / 颁证日期)';
comment on column credit.licence.valid_until is 'last day valid (有效期至)';
comment on column credit.licence.issuer is
    'issuing authority (发证机关), construction only; null otherwise';

comment on column credit.judgment.enterprise_id is 'the resolved enterprise (the party)';
comment on column credit.judgment.record_id is
    '<judgment id>#<n>: the n-th party (from 0) of the judgment';
comment on column credit.judgment.case_no is 'case number (ah 案号)';
comment on column credit.judgment.court is 'court (fymc 法院名称)';
comment on column credit.judgment.cause is 'cause of action (ay 案由)';
comment on column credit.judgment.judged_on is 'date of judgment (cprq 裁判日期)';
comment on column credit.judgment.amount_at_stake is 'amount at stake in yuan (bdje 标的金额)';
comment on column credit.judgment.party_role is 'the party''s role: 原告, 被告, 第三人, ...';
comment on column credit.judgment.party_name is 'the party''s name as delivered';

comment on column credit.arrears.enterprise_id is 'the resolved enterprise';
comment on column credit.arrears.record_id is 'local-tax record key (id)';
comment on column credit.arrears.taxpayer_name is 'taxpayer name as delivered (nsrmc 纳税人名称)';
comment on column credit.arrears.legal_rep is 'legal representative (fddbr 法定代表人)';
comment on column credit.arrears.arrears_amount is 'tax in arrears, yuan (qsse 欠税税额)';
comment on column credit.arrears.levy_item is 'the tax owed (qssz 欠税税种)';
comment on column credit.arrears.announced_on is 'date of the announcement (ggrq 公告日期)';
