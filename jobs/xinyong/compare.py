"""Our resolver and Splink on the same mentions, scored against the same truth.

``xinyong evaluate --truth DIR --compare-splink`` exports the warehouse's live mentions
once, resolves them from scratch with the Spark job (in this process, one local session) and
with the Splink baseline (xinyong.splink_baseline; the optional ``bench`` extra; a new Python
process per threshold) at its default threshold and at a tuned one, each tool twice: cold,
then warm in the same process. It scores each with xinyong.evaluate and writes a JSON file and
a Markdown table with the ratios of the times.
"""

from __future__ import annotations

import json
import os
import platform as host
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from xinyong import evaluate

SPLINK_THRESHOLDS = (0.9, 0.5)  # Splink's customary threshold, and the best on generated data


def _cold_warm(seconds: list[float]) -> tuple[float, float | None]:
    return round(seconds[0], 1), round(seconds[1], 1) if len(seconds) > 1 else None


def _row(tool: str, seconds: list[float], report: Mapping[str, Any]) -> dict[str, Any]:
    scores = report["scores"]
    cold, warm = _cold_warm(seconds)
    return {"tool": tool, "seconds": cold, "warm_seconds": warm, **scores,
            "predicted_enterprises": report["predicted_enterprises"],
            "branches_merged_with_head_office": report["branches_merged_with_head_office"],
            "renamed_enterprises_split": report["renamed_enterprises_split"]}


def _read_clusters(path: Path, cluster_column: str) -> dict[evaluate.RecordKey, str]:
    table = pq.read_table(path, columns=["mention_id", cluster_column])
    return evaluate.by_record_key(dict(zip(table.column("mention_id").to_pylist(),
                           table.column(cluster_column).to_pylist(), strict=True)))


def splink_in_fresh_process(mentions: Path, threshold: float, clusters_out: Path,
                            runs: int) -> dict[str, Any]:
    """Splink ``runs`` times in a new Python process (its first run cold, as our job's first run
    in a new JVM is); the process's JSON summary. Its clusters go to ``clusters_out``."""
    done = subprocess.run(
        [sys.executable, "-m", "xinyong.splink_baseline", "--mentions", str(mentions),
         "--threshold", str(threshold), "--runs", str(runs), "--clusters-out", str(clusters_out)],
        check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Splink at threshold {threshold} failed (rc {done.returncode}):\n"
                           + done.stderr[-4000:])
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return summary


def splink_missing() -> str | None:
    """Why the Splink baseline cannot run in this environment, or None when it can."""
    try:
        import xinyong.splink_baseline  # noqa: F401
    except ImportError as missing:
        return f"Splink is not installed ({missing}): pip install -e '.[bench]'"
    return None


def resolve_both(dsn: str, truth_dir: Path, *,
                 thresholds: tuple[float, ...] = SPLINK_THRESHOLDS, runs: int = 2) -> dict[str, Any]:
    """Export the warehouse's live mentions once; resolve them from scratch with our job and
    with Splink at each threshold; score each against the truth.

    Each tool runs ``runs`` times in one fresh process of its own: the first run is cold (a new
    JVM for our job, a new Python process for Splink), a second is warm. Both are timed from the
    mentions' Parquet file to the clusters (for our job: its links written); neither counts its
    process's start. Our job's whole time, with the golden records and id changes Splink does
    not make, is ``whole_job_seconds`` (cold, warm).

    Returns ``mentions``, ``spark_session_seconds`` (not counted in our job's time) and
    ``results`` (one row per tool: seconds cold and warm, and the scores; both tools are
    deterministic, so every run links alike). Needs Splink (``splink_missing``).
    """
    from xinyong.night import PRIOR_LINK_SCHEMA, export_mentions
    from xinyong.platform import ensure_java
    from xinyong.resolve import build_spark, run_job
    from xinyong.warehouse.db import transaction

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
        to_links, whole_job = [], []
        for run in range(runs):
            started = time.perf_counter()
            counts = run_job(spark, str(work / "mentions.parquet"), str(work / "prior.parquet"),
                             str(work / f"out{run}"), 1)
            whole_job.append(time.perf_counter() - started)
            to_links.append(counts["seconds_to_links"])
        spark.stop()
        # Read after the timed runs, which do not need them: 700,000 records held in this
        # process while our job runs are not part of its time.
        truth = evaluate.read_truth(truth_dir)
        enterprises = evaluate.read_enterprises(truth_dir)
        ours = _read_clusters(work / "out0" / "links", "enterprise_id")
        rows.append({**_row("xinyong (Spark)", to_links, evaluate.evaluate(ours, truth, enterprises)),
                     "whole_job_seconds": _cold_warm(whole_job)})
        for threshold in thresholds:
            clusters = work / f"splink-{threshold}.parquet"
            summary = splink_in_fresh_process(work / "mentions.parquet", threshold, clusters, runs)
            report = evaluate.evaluate(_read_clusters(clusters, "cluster"), truth, enterprises)
            tool = f"Splink 5 (DuckDB), threshold {threshold}"
            if summary["em_blocks_skipped"]:
                tool += f" (EM refused on {', '.join(summary['em_blocks_skipped'])})"
            rows.append(_row(tool, summary["seconds_by_run"], report))
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


def _ratios(cold: float, warm: float | None, other: Mapping[str, Any]) -> str:
    pairs = [("cold", cold, other["seconds"]), ("warm", warm, other.get("warm_seconds"))]
    return ", ".join(f"{kind} {mine / theirs:.2f}x" for kind, mine, theirs in pairs if mine and theirs)


def time_ratios(results: list[Mapping[str, Any]]) -> list[str]:
    """Our time over each Splink row's, cold against cold and warm against warm: to the
    clusters, then for our whole job (golden records and id changes too) when it is known."""
    ours, *others = results
    lines = [f"- xinyong's time to its links over {other['tool']}: "
             f"{_ratios(ours['seconds'], ours.get('warm_seconds'), other)}" for other in others]
    if whole := ours.get("whole_job_seconds"):
        cold, warm = whole
        lines.append(f"- xinyong's whole job (links, golden records, id changes and dropped keys "
                     f"written, then counted): cold {cold} s" + (f", warm {warm} s" if warm else ""))
        lines += [f"- its whole job over {other['tool']}: {_ratios(cold, warm, other)}"
                  for other in others]
    return lines


def format_table(result: Mapping[str, Any]) -> str:
    lines = [
        f"Resolution of {result['mentions']:,} live mentions from scratch "
        f"({result['machine']}; Spark session start {result['spark_session_seconds']} s, not counted). "
        "Each tool in a new process of its own, timed from the mentions' Parquet file to its clusters "
        "(xinyong: its links written): its first run (cold) and a second in the same process (warm).",
        "",
        "| tool | seconds cold | seconds warm | pairwise P | pairwise R | pairwise F1 | B-cubed P "
        "| B-cubed R | B-cubed F1 | enterprises | branch merged with head | renamed split |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["results"]:
        warm = r.get("warm_seconds")
        lines.append(
            f"| {r['tool']} | {r['seconds']} | {'' if warm is None else warm} "
            f"| {r['pairwise_precision']:.5f} | {r['pairwise_recall']:.5f} "
            f"| {r['pairwise_f1']:.5f} | {r['bcubed_precision']:.5f} | {r['bcubed_recall']:.5f} "
            f"| {r['bcubed_f1']:.5f} | {r['predicted_enterprises']:,} "
            f"| {r['branches_merged_with_head_office']} | {r['renamed_enterprises_split']} |")
    return "\n".join([*lines, "", *time_ratios(result["results"])]) + "\n"
