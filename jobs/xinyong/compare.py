"""Our resolver and Splink on the same mentions, scored against the same truth.

``xinyong evaluate --truth DIR --compare-splink`` exports the warehouse's live mentions
once, resolves them from scratch with the Spark job (in-process, one local session) and
with the Splink baseline (xinyong.splink_baseline; the optional ``bench`` extra) at its
default threshold and at a tuned one, scores each with xinyong.evaluate and writes a JSON
file and a Markdown table.
"""

from __future__ import annotations

import json
import os
import platform as host
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from xinyong import evaluate

SPLINK_THRESHOLDS = (0.9, 0.5)  # Splink's customary threshold, and the best on generated data


def _keyed(clusters: Mapping[str, str]) -> dict[evaluate.RecordKey, str]:
    keyed: dict[evaluate.RecordKey, str] = {}
    for mention_id, cluster in clusters.items():
        agency, feed, record_id = mention_id.split("|", 2)
        keyed[(agency, feed, record_id)] = cluster
    return keyed


def _row(tool: str, seconds: float, report: Mapping[str, Any]) -> dict[str, Any]:
    scores = report["scores"]
    return {"tool": tool, "seconds": round(seconds, 1), **scores,
            "predicted_enterprises": report["predicted_enterprises"],
            "branches_merged_with_head_office": report["branches_merged_with_head_office"],
            "renamed_enterprises_split": report["renamed_enterprises_split"]}


def splink_missing() -> str | None:
    """Why the Splink baseline cannot run in this environment, or None when it can."""
    try:
        import xinyong.splink_baseline  # noqa: F401
    except ImportError as missing:
        return f"Splink is not installed ({missing}): pip install -e '.[bench]'"
    return None


def resolve_both(dsn: str, truth_dir: Path, *,
                 thresholds: tuple[float, ...] = SPLINK_THRESHOLDS) -> dict[str, Any]:
    """Export the warehouse's live mentions once; resolve them from scratch with our job and
    with Splink at each threshold; score each against the truth.

    Returns ``mentions``, ``spark_session_seconds`` (not counted in our job's time) and
    ``results`` (one row per tool: seconds and scores). Needs Splink (``splink_missing``).
    """
    from xinyong.night import PRIOR_LINK_SCHEMA, export_mentions
    from xinyong.platform import ensure_java
    from xinyong.resolve import build_spark, run_job
    from xinyong.splink_baseline import resolve_with_splink
    from xinyong.warehouse.db import transaction

    truth = evaluate.read_truth(truth_dir)
    enterprises = evaluate.read_enterprises(truth_dir)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="xinyong-compare-") as tmp:
        work = Path(tmp)
        with transaction(dsn) as conn, conn.cursor() as cursor:
            mentions = export_mentions(cursor, work / "mentions.parquet")
        pq.write_table(PRIOR_LINK_SCHEMA.empty_table(), work / "prior.parquet")

        ensure_java()
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # UDF workers import xinyong
        started = time.perf_counter()
        spark = build_spark("xinyong-compare")
        session_seconds = time.perf_counter() - started
        started = time.perf_counter()
        run_job(spark, str(work / "mentions.parquet"), str(work / "prior.parquet"),
                str(work / "out"), 1)
        ours_seconds = time.perf_counter() - started
        spark.stop()
        links = pq.read_table(work / "out" / "links", columns=["mention_id", "enterprise_id"])
        ours = _keyed(dict(zip(links.column("mention_id").to_pylist(),
                               links.column("enterprise_id").to_pylist(), strict=True)))
        rows.append(_row("xinyong (Spark)", ours_seconds, evaluate.evaluate(ours, truth, enterprises)))
        for threshold in thresholds:
            run = resolve_with_splink(work / "mentions.parquet", threshold=threshold)
            report = evaluate.evaluate(_keyed(run.clusters), truth, enterprises)
            tool = f"Splink 5 (DuckDB), threshold {threshold}"
            if run.em_blocks_skipped:
                tool += f" (EM refused on {', '.join(run.em_blocks_skipped)})"
            rows.append(_row(tool, run.seconds, report))
    return {"mentions": mentions, "spark_session_seconds": round(session_seconds, 1), "results": rows}


def compare(dsn: str, truth_dir: Path, out: Path, *, name: str) -> dict[str, Any]:
    """Run both tools on the warehouse's live mentions; write ``<out>/<name>.{json,md}``."""
    if reason := splink_missing():
        raise SystemExit(reason)
    both = resolve_both(dsn, truth_dir)
    result = {"mentions": both["mentions"], "spark_session_seconds": both["spark_session_seconds"],
              "machine": f"{host.machine()}, {host.system()} {host.release()}",
              "results": both["results"]}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(format_table(result), encoding="utf-8")
    return result


def format_table(result: Mapping[str, Any]) -> str:
    lines = [
        f"Resolution of {result['mentions']:,} live mentions from scratch "
        f"({result['machine']}; Spark session start {result['spark_session_seconds']} s, not counted).",
        "",
        "| tool | seconds | pairwise P | pairwise R | pairwise F1 | B-cubed P | B-cubed R | B-cubed F1 "
        "| enterprises | branch merged with head | renamed split |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['tool']} | {r['seconds']} | {r['pairwise_precision']:.5f} | {r['pairwise_recall']:.5f} "
            f"| {r['pairwise_f1']:.5f} | {r['bcubed_precision']:.5f} | {r['bcubed_recall']:.5f} "
            f"| {r['bcubed_f1']:.5f} | {r['predicted_enterprises']:,} "
            f"| {r['branches_merged_with_head_office']} | {r['renamed_enterprises_split']} |")
    return "\n".join(lines) + "\n"
