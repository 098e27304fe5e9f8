-- Data gates: one row per (delivery, feed, expectation) of the feed's Great Expectations suite
-- (expectations/<agency>__<feed>.json), run on the rows that delivery loaded. Validating a
-- delivery again replaces its rows. Publication refuses a night with a failed blocking row.
create table ingest.validation (
    delivery_id bigint not null references ingest.delivery (delivery_id),
    agency      text not null,
    feed        text not null,                  -- as in ingest.file_load.feed
    expectation text not null,                  -- e.g. expect_column_values_to_be_in_set(status)
    severity    text not null check (severity in ('blocking', 'warning')),
    success     boolean not null,
    observed    jsonb not null default '{}',    -- GX result: observed value, unexpected counts
    message     text,                           -- for failures: what was found and why it matters
    checked_at  timestamptz not null default now(),
    primary key (delivery_id, feed, expectation)
);
create index validation_blocking_failure on ingest.validation (delivery_id)
    where severity = 'blocking' and not success;
