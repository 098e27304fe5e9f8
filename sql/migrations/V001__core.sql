-- Core tables of the warehouse. Feed tables (ingest.<agency>__<feed>) are derived from the
-- agency specs in jobs/xinyong/feeds/ by `xinyong db migrate`, after these migrations.

create schema if not exists ingest;
create schema if not exists resolve;
create schema if not exists audit;
create schema if not exists credit;

-- One row per delivery folder attempt. A folder whose content changes (a fixed re-send in
-- place) is a new attempt with a new fingerprint.
create table ingest.delivery (
    delivery_id         bigserial primary key,
    agency              text not null,
    folder              text not null,          -- YYYYMMDD folder name
    batch_date          date not null,          -- the folder's date: when it arrived
    manifest_batch_date date,
    mode                text,
    fingerprint         text not null,          -- sha256 over the data files' names and sha256s
    status              text not null check (status in ('loaded', 'rejected', 'duplicate')),
    reason              text,
    duplicate_of        bigint references ingest.delivery (delivery_id),
    seen_at             timestamptz not null default now(),
    unique (agency, folder, fingerprint)
);
create index delivery_loaded_fingerprint on ingest.delivery (agency, fingerprint)
    where status = 'loaded';

create table ingest.file_load (
    delivery_id      bigint not null references ingest.delivery (delivery_id),
    file             text not null,
    feed             text not null,
    encoding         text not null,
    sha256           text not null,
    rows_delivered   bigint not null,   -- as the manifest declares
    rows_loaded      bigint not null,
    rows_quarantined bigint not null,
    notes            jsonb not null default '[]',
    primary key (delivery_id, file)
);

create table ingest.quarantine (
    delivery_id bigint not null references ingest.delivery (delivery_id),
    file        text not null,
    line_no     integer not null,
    record_key  text,
    reason      text not null,
    raw_text    text not null
);
create index quarantine_delivery on ingest.quarantine (delivery_id, file);

-- One row per night's resolution; the published one is what analysts see.
create table resolve.night_run (
    run_id      bigserial primary key,
    run_date    date not null,
    status      text not null check (status in ('resolved', 'audited', 'published', 'superseded')),
    started_at  timestamptz not null default now(),
    finished_at timestamptz,
    stats       jsonb not null default '{}'
);

create table resolve.link (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    agency        text not null,
    feed          text not null,
    record_id     text not null,
    enterprise_id text not null,
    rule          text not null,
    evidence      jsonb not null default '{}',
    primary key (run_id, agency, feed, record_id)
);
create index link_enterprise on resolve.link (run_id, enterprise_id);

create table resolve.enterprise (
    run_id         bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id  text not null,
    canonical_name text,
    uscc           text,
    org_code       text,
    reg_no         text,
    tax_no         text,
    customs_code   text,
    is_branch      boolean not null default false,
    mention_count  integer not null,
    primary key (run_id, enterprise_id)
);

-- Every enterprise id ever issued: ids are never reused.
create table resolve.enterprise_registry (
    enterprise_id text primary key,
    first_run_id  bigint not null,
    issued_on     date not null
);

create table resolve.enterprise_id_change (
    run_id              bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id       text not null,
    change              text not null check (change in ('merged_into', 'split_from')),
    other_enterprise_id text not null
);

create table audit.finding (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    audit         text not null,
    enterprise_id text not null,
    run_date      date not null,
    evidence      jsonb not null,
    primary key (run_id, audit, enterprise_id)
);

-- Exactly one row: the run readers see. Swapped in one transaction at publication.
create table credit.published (
    singleton    boolean primary key default true check (singleton),
    run_id       bigint not null references resolve.night_run (run_id),
    run_date     date not null,
    published_at timestamptz not null default now()
);
