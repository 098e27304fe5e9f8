"""Warehouse objects derived from the feed specs: one history table per feed and the view of
live mentions the resolver reads. Generated, so that a new agency folder needs no SQL."""

from __future__ import annotations

from psycopg2 import sql

from xinyong.feeds import all_feeds
from xinyong.feeds.spec import SQL_TYPES, Agency, Feed

# Columns every feed table has, before the feed's own fields.
HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("delivery_id", "bigint not null"),
    ("line_no", "integer not null"),
    ("record_key", "text not null"),  # the agency's key: the unit I/U/D apply to
    ("record_id", "text not null"),  # the mention's id: record_key, or <key>#<n> for parties
    ("op", "char(1) not null"),
    ("valid_from", "date not null"),
    ("valid_to", "date"),  # null while this version is current
    ("closed_by", "bigint"),  # the delivery that replaced or deleted this version
)
# The enterprise reference of each row, normalised by the loader for the resolver.
MENTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ent_name", "text"),
    ("ent_name_norm", "text"),
    ("ent_uscc", "text"),
    ("ent_org", "text"),
    ("ent_regno", "text"),
    ("ent_taxno", "text"),
    ("ent_customs", "text"),
    ("ent_is_branch", "boolean"),
    ("ent_legal_rep", "text"),
    ("ent_name_core", "text"),  # names.core_name: 字号 + industry, for fuzzy matching
    ("ent_former_name_norm", "text"),  # a previous name (name-change records)
    ("ent_weak_code", "text"),  # a code with a wrong check character or masked: evidence, not a key
    ("ent_named_on", "date"),  # the date as of which the record names the enterprise (Feed.named_on_field)
)
TRAILING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("extra", "jsonb"),  # delivered columns the contract does not name
    ("issues", "jsonb"),  # values that could not be read, kept as delivered
)


def table_name(agency: Agency, feed: Feed) -> str:
    return f"{agency.code}__{feed.feed}"


def field_columns(feed: Feed) -> list[tuple[str, str]]:
    """The feed's own columns: a code keeps its delivered text beside the repaired value;
    an identity number is kept only as a keyed hash and a masked form."""
    columns: list[tuple[str, str]] = []
    for f in feed.fields:
        if f.type == "code":
            columns += [(f.name, "text"), (f"{f.name}_norm", "text"), (f"{f.name}_kind", "text"),
                        (f"{f.name}_valid", "boolean")]
        elif f.type == "person_id":
            columns += [(f"{f.name}_hash", "text"), (f"{f.name}_masked", "text")]
        else:
            columns.append((f.name, SQL_TYPES[f.type]))
    columns += list(feed.mention_columns)
    return columns


def staged_columns(feed: Feed) -> list[str]:
    """Columns the loader writes, in COPY order (the history columns are set in SQL)."""
    names = ["line_no", "record_key", "record_id", "op"]
    names += [name for name, _ in field_columns(feed)]
    names += [name for name, _ in MENTION_COLUMNS + TRAILING_COLUMNS]
    return names


def all_columns(feed: Feed) -> list[tuple[str, str]]:
    return list(HISTORY_COLUMNS) + field_columns(feed) + list(MENTION_COLUMNS + TRAILING_COLUMNS)


def ensure_feed_tables(cursor) -> None:
    """Create every feed table, add columns a spec gained, and rebuild the mention view."""
    for agency, feed in all_feeds():
        table = sql.Identifier("ingest", table_name(agency, feed))
        columns = all_columns(feed)
        cursor.execute(sql.SQL("create table if not exists {} ({})").format(
            table,
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
                               for n, t in columns),
        ))
        for name, sql_type in columns:
            cursor.execute(sql.SQL("alter table {} add column if not exists {} {}").format(
                table, sql.Identifier(name), sql.SQL(sql_type.replace(" not null", ""))))
        base = table_name(agency, feed)
        # The current versions by record_id: the side a run's links are joined on.
        cursor.execute(sql.SQL(
            "create index if not exists {} on {} (record_id) where valid_to is null"
        ).format(sql.Identifier(f"{base}__live_record_id"), table))
        # ... and by record key, for applying I/U/D. Where record_id is the key the index above
        # serves, and a second one, equal to it, would cost a build after each first load (a
        # third of the indexes' time) and an insertion per row every night.
        current = f"{base}__current"
        if feed.record_id_is_key:
            cursor.execute(sql.SQL("drop index if exists {}").format(sql.Identifier("ingest", current)))
        else:
            cursor.execute(sql.SQL(
                "create index if not exists {} on {} (record_key) where valid_to is null"
            ).format(sql.Identifier(current), table))
        cursor.execute(sql.SQL("create index if not exists {} on {} (delivery_id)").format(
            sql.Identifier(f"{base}__delivery"), table))
        cursor.execute(sql.SQL("comment on table {} is {}").format(
            table, sql.Literal(f"{agency.title}: {feed.file}. {feed.description}")))
        for f in feed.fields:
            column = f.name if f.type not in ("person_id",) else f"{f.name}_masked"
            cursor.execute(sql.SQL("comment on column {}.{} is {}").format(
                table, sql.Identifier(column),
                sql.Literal(f"{f.source}{': ' + f.comment if f.comment else ''}")))
    _create_live_mention_view(cursor)


def _closed_on(feed: Feed) -> sql.Composable:
    """The date a register record says its enterprise ended (Feed.closed_on_field), or null."""
    if not (feed.status_field and feed.closed_on_field and feed.closed_statuses):
        return sql.SQL("null::date")
    return sql.SQL("case when {} in ({}) then {} end").format(
        sql.Identifier(feed.status_field),
        sql.SQL(", ").join(map(sql.Literal, feed.closed_statuses)),
        sql.Identifier(feed.closed_on_field))


def _founded_on(feed: Feed) -> sql.Composable:
    """The founding date a register record gives its enterprise (Feed.founded_on_field), or null."""
    return sql.Identifier(feed.founded_on_field) if feed.founded_on_field else sql.SQL("null::date")


def _penalized_on(feed: Feed) -> sql.Composable:
    """The date of the penalty a record is (Feed.penalty_on_field, on Feed.penalty_if), or null."""
    if not feed.penalty_on_field:
        return sql.SQL("null::date")
    if not feed.penalty_if:
        return sql.Identifier(feed.penalty_on_field)
    field, value = feed.penalty_if
    return sql.SQL("case when btrim({}) = {} then {} end").format(
        sql.Identifier(field), sql.Literal(value), sql.Identifier(feed.penalty_on_field))


def _create_live_mention_view(cursor) -> None:
    """ingest.live_mention: every current, non-deleted row that names an enterprise."""
    selects = []
    for agency, feed in all_feeds():
        selects.append(sql.SQL(
            "select {agency} as agency, {feed} as feed, record_id, ent_name as name, "
            "ent_name_norm as name_norm, ent_uscc as uscc, ent_org as org, ent_regno as regno, "
            "ent_taxno as taxno, ent_customs as customs, coalesce(ent_is_branch, false) as is_branch, "
            "ent_legal_rep as legal_rep, {rank} as source_rank, ent_name_core as name_core, "
            "ent_former_name_norm as former_name_norm, ent_weak_code as weak_code, "
            "ent_named_on as named_on, {closed_on} as closed_on, {founded_on} as founded_on, "
            "{penalized_on} as penalized_on from {table} where valid_to is null and op <> 'D' "
            "and (ent_name is not null or ent_uscc is not null or ent_org is not null "
            "or ent_regno is not null or ent_taxno is not null or ent_customs is not null)"
        ).format(agency=sql.Literal(agency.code), feed=sql.Literal(feed.feed),
                 rank=sql.Literal(agency.source_rank), closed_on=_closed_on(feed),
                 founded_on=_founded_on(feed), penalized_on=_penalized_on(feed),
                 table=sql.Identifier("ingest", table_name(agency, feed))))
    cursor.execute(sql.SQL("create or replace view ingest.live_mention as {}").format(
        sql.SQL(" union all ").join(selects)))
