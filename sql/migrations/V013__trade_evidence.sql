-- A2's evidence, stored once per enterprise by the night. audit.summary_trade keeps an
-- enterprise's trade years and the records behind them in the shape of an A2 finding, so
-- that A2 copies it when every year exceeds instead of building 1.4M records again at
-- scale 1. audit.summary_trade_year keeps the years a row each, now read from it: no longer
-- their records, but where they are in the enterprise's evidence.
create table audit.summary_trade (
    run_id        bigint not null references resolve.night_run (run_id) on delete cascade,
    enterprise_id text not null,
    years         jsonb not null,
    evidence      jsonb not null,
    primary key (run_id, enterprise_id)
);
comment on table audit.summary_trade is
    'per run and enterprise with customs value: its years ([{year, customs_cny, vat_sales, '
    'first_record, last_record}]) and evidence ({records, years}: the customs declarations '
    'and VAT returns of those years as evidence records in date order, and the years)';

-- The view over the column goes with it; `xinyong db migrate` makes the views again after
-- the migrations (sql/views/audit_support.sql).
drop view if exists audit.enterprise_trade_year;
delete from audit.summary_trade_year;  -- built again, below
alter table audit.summary_trade_year drop column records;
alter table audit.summary_trade_year add column first_record integer not null;
alter table audit.summary_trade_year add column last_record integer not null;
comment on column audit.summary_trade_year.first_record is
    'position (from 0) of the year''s first record in the enterprise''s evidence records '
    '(audit.summary_trade.evidence -> ''records'', in date order)';
comment on column audit.summary_trade_year.last_record is
    'position of the year''s last record there';

-- A large evidence column is compressed with lz4 where the server was built with it (several
-- times faster than pglz, V012), else with pglz: here, and in later migrations.
create function audit.prefer_lz4(table_name regclass, column_name name)
returns void
language plpgsql
as $$
begin
    execute format('alter table %s alter column %I set compression lz4', table_name, column_name);
exception when feature_not_supported then
    raise notice '%: this server has no lz4, % is compressed with pglz', table_name, column_name;
end
$$;

select audit.prefer_lz4('audit.summary_trade', 'evidence');

-- A2 no longer joins its years' record arrays (sql/views/audit_support.sql defined this).
drop aggregate if exists audit.jsonb_array_concat(jsonb);

-- Every run's summaries are built again (the published run's by the next `xinyong audit` or
-- night): the trade summary is new.
delete from audit.summary_run;
