"""Entity-resolution job: mentions (+ last night's links) → links, enterprises, id changes.

In-process (Airflow task, tests)::

    from xinyong.resolve import build_spark, run_job
    counts = run_job(build_spark("xinyong-resolve"), mentions, prior, out_dir, next_id)

Locally with spark-submit from the source tree. The pip-installed spark-submit locates
Spark and runs the driver with ``PYSPARK_PYTHON`` (else ``python3`` on PATH), so activate
the venv or set it. ``PYTHONPATH=jobs`` is optional: run as a script, this file falls back
to the source tree it sits in::

    PYSPARK_PYTHON=.venv/bin/python PYTHONPATH=jobs .venv/bin/spark-submit \\
        --master 'local[2]' --driver-memory 4g \\
        jobs/xinyong/resolve/job.py --mentions M --prior P --out O --next-id N

On a cluster only the driver imports xinyong (no Python UDFs run on executors), so ship
the package as a zip::

    (cd jobs && zip -qr /tmp/xinyong.zip xinyong)
    spark-submit --master yarn --deploy-mode cluster --driver-memory 4g \\
        --py-files /tmp/xinyong.zip jobs/xinyong/resolve/job.py \\
        --mentions hdfs:///xinyong/mentions --prior hdfs:///xinyong/prior_links \\
        --out hdfs:///xinyong/resolve/2026-11-25 --next-id N

Writes Parquet directories ``links/``, ``enterprises/``, ``id_changes/`` and
``dropped_keys/`` under the output directory (overwriting them) and prints the counts as
one JSON line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __name__ == "__main__" and importlib.util.find_spec("xinyong") is None:
    # Run as a script without --py-files or PYTHONPATH: use the source tree around this file.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from xinyong.resolve.session import build_spark, warm_python_workers
from xinyong.resolve.transforms import (
    DEFAULT_MAX_KEY_DEGREE,
    WORKER_MODULES,
    Settings,
    format_enterprise_id,
    resolve,
)

OUTPUTS = ("links", "enterprises", "id_changes", "dropped_keys")
# Sorted within each file: same input and settings, same files (a global sort costs a job).
OUTPUT_ORDER = {
    "links": ("mention_id",),
    "enterprises": ("enterprise_id",),
    "id_changes": ("enterprise_id", "change", "other_enterprise_id"),
    "dropped_keys": ("kind", "value"),
}


def run_job(
    spark: SparkSession,
    mentions_path: str,
    prior_links_path: str,
    out_dir: str,
    next_id: int,
    *,
    incremental: bool = False,
    max_key_degree: int = DEFAULT_MAX_KEY_DEGREE,
) -> dict[str, float]:
    """Resolve, write the outputs under ``out_dir`` and return counts about the night.

    ``seconds_to_links``: from reading the mentions until their links (each mention's
    enterprise, rule and evidence) are written, the point a clustering tool stops at; the
    golden records, id changes and dropped keys are written after it."""
    job_started = time.perf_counter()
    # Spark's Python workers start while the driver plans the first steps.
    warming = warm_python_workers(spark, WORKER_MODULES)
    try:
        result = resolve(
            spark.read.parquet(mentions_path),
            spark.read.parquet(prior_links_path),
            next_id,
            incremental=incremental,
            settings=Settings(max_key_degree=max_key_degree),
        )
        frames = {
            "links": result.links,
            "enterprises": result.enterprises,
            "id_changes": result.id_changes,
            "dropped_keys": result.dropped_keys,
        }
        started = time.perf_counter()
        seconds_to_links = 0.0
        for name in OUTPUTS:  # links first
            frames[name].sortWithinPartitions(*OUTPUT_ORDER[name]).write.mode("overwrite").parquet(
                output_path(out_dir, name)
            )
            if name == "links":
                seconds_to_links = round(time.perf_counter() - job_started, 2)
        written = {name: spark.read.parquet(output_path(out_dir, name)) for name in OUTPUTS}
        steps = {**result.seconds, "golden_record_and_write": round(time.perf_counter() - started, 2)}
        return {**count_outputs(written, next_id), "iterations": result.iterations,
                "signatures": result.signatures, "signatures_linked": result.signatures_linked,
                "incremental": int(incremental), "seconds_to_links": seconds_to_links,
                **{f"seconds_{k}": v for k, v in steps.items()}}
    finally:
        warming.join()


def output_path(out_dir: str, name: str) -> str:
    return f"{out_dir.rstrip('/')}/{name}"  # also for hdfs:// and s3a:// URIs


def count_outputs(written: dict[str, DataFrame], next_id: int) -> dict[str, int]:
    first_new_id = format_enterprise_id(F.lit(next_id))
    enterprises = written["enterprises"].agg(
        F.count("*").alias("enterprises"),
        F.sum("mention_count").alias("mentions"),
        F.sum((F.col("enterprise_id") >= first_new_id).cast("long")).alias("new_ids"),
        F.max("mention_count").alias("largest_cluster"),
    ).first()
    changes = written["id_changes"].agg(
        F.sum((F.col("change") == "merged_into").cast("long")).alias("merges"),
        F.sum((F.col("change") == "split_from").cast("long")).alias("splits"),
    ).first()
    assert enterprises is not None and changes is not None  # a global aggregate has one row
    new_ids = enterprises["new_ids"] or 0
    return {
        "mentions": enterprises["mentions"] or 0,
        "enterprises": enterprises["enterprises"],
        "new_ids": new_ids,
        "next_id": next_id + new_ids,
        "merges": changes["merges"] or 0,
        "splits": changes["splits"] or 0,
        "largest_cluster": enterprises["largest_cluster"] or 0,
        "dropped_keys": written["dropped_keys"].count(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mentions", required=True, help="mentions Parquet")
    parser.add_argument("--prior", required=True, help="previous night's links Parquet")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--next-id", type=int, required=True, help="first unused enterprise id")
    parser.add_argument("--max-key-degree", type=int, default=DEFAULT_MAX_KEY_DEGREE)
    parser.add_argument("--incremental", action="store_true",
                        help="link again only new signatures (prior links need rule, evidence)")
    args = parser.parse_args(argv)
    spark = build_spark("xinyong-resolve")
    try:
        counts = run_job(
            spark, args.mentions, args.prior, args.out, args.next_id,
            incremental=args.incremental, max_key_degree=args.max_key_degree,
        )
    finally:
        spark.stop()
    print(json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
