-- The golden record of an enterprise (issue 4): former names, region, legal representative,
-- register status and the head office of a branch, beside the codes and canonical name.
alter table resolve.enterprise
    add column if not exists former_names       jsonb not null default '[]'::jsonb,
    add column if not exists region             text,
    add column if not exists legal_rep          text,
    add column if not exists head_enterprise_id text,
    add column if not exists status             text;

comment on column resolve.enterprise.former_names is
    'names the enterprise had before, from the AIC name-change feed (normalised), JSON array';
comment on column resolve.enterprise.region is
    '6-digit administrative region of its codes (most frequent among its records)';
comment on column resolve.enterprise.legal_rep is
    'legal representative from the best-ranked source that names one';
comment on column resolve.enterprise.head_enterprise_id is
    'for a branch (分公司): the enterprise of its head office, when resolved';
comment on column resolve.enterprise.status is
    'AIC 登记状态 of its live registration record (存续, 在业, 吊销, 注销, 迁出), if any';
