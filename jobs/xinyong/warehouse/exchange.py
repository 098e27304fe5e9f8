"""Moving frames between PostgreSQL and Parquet with COPY, for the Spark job.

Spark never talks to the warehouse directly: no JDBC driver to ship, and COPY is the
fastest way in and out of PostgreSQL. On a cluster, point XINYONG_EXCHANGE_DIR at storage
the executors can read (HDFS, S3, NFS).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg2 import sql


def query_to_parquet(cursor, query: sql.Composable, schema: pa.Schema, target: Path) -> int:
    """COPY a query's result to a Parquet file with the given schema; returns the row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as spool:
        cursor.copy_expert(
            sql.SQL("copy ({}) to stdout with (format csv, header true)").format(query)
            .as_string(cursor), spool)
        spool.seek(0)
        reader = pacsv.open_csv(
            spool,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={f.name: f.type for f in schema},
                strings_can_be_null=True, quoted_strings_can_be_null=False,
                true_values=["t"], false_values=["f"]),
        )
        rows = 0
        with pq.ParquetWriter(target, schema) as writer:
            for batch in reader:
                table = pa.Table.from_batches([batch]).select(schema.names).cast(schema)
                writer.write_table(table)
                rows += table.num_rows
        if rows == 0:
            pq.write_table(schema.empty_table(), target)
    return rows


def parquet_to_table(cursor, source: Path, table: sql.Composable, columns: Sequence[str],
                     constants: dict[str, object] | None = None,
                     reshape: Callable[[pa.Table], pa.Table] | None = None) -> int:
    """COPY the Parquet files under ``source`` (a file or a Spark output directory) into a
    table, adding constant columns (such as the run id). ``reshape`` turns each batch of
    ``columns`` into the table's columns (in Arrow, before COPY) when they differ."""
    files = sorted(source.glob("*.parquet")) if source.is_dir() else [source]
    constants = constants or {}
    rows = 0
    for file in files:
        parquet = pq.ParquetFile(file)
        for batch in parquet.iter_batches(batch_size=200_000, columns=list(columns)):
            table_batch = pa.Table.from_batches([batch])
            if reshape is not None:
                table_batch = reshape(table_batch)
            for name, value in constants.items():
                table_batch = table_batch.append_column(
                    name, pa.array([value] * table_batch.num_rows))
            buffer = io.BytesIO()
            pacsv.write_csv(table_batch, buffer,
                            pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            buffer.seek(0)
            cursor.copy_expert(
                sql.SQL("copy {} ({}) from stdin with (format csv)").format(
                    table, sql.SQL(", ").join(map(sql.Identifier, table_batch.column_names)))
                .as_string(cursor), buffer)
            rows += table_batch.num_rows
    return rows
