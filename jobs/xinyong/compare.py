"""Our resolver and Splink on the same mentions, scored against the same truth.

``xinyong evaluate --truth DIR --compare-splink NAME`` exports the warehouse's live mentions
once and resolves them from scratch with the Spark job and with the Splink baseline
(xinyong.splink_baseline; the optional ``bench`` extra) at its default threshold and at a tuned
one. Each tool runs in a new Python process of its own, twice there: cold (a new JVM for our
job, a new DuckDB for Splink), then warm. The machine's speed drifts by more than the
difference being measured (the same cold job: 39 to 53 s within an hour), so the processes are
started ``repeats`` times, the tools taking turns, and the table gives each tool's median with
the range. It scores each tool once with xinyong.evaluate (both are deterministic) and writes
a JSON file and a Markdown table with the ratios of the medians.

``python -m xinyong.compare --mentions M --prior P --out DIR --runs N`` is our tool's process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from xinyong import evaluate

SPLINK_THRESHOLDS = (0.9, 0.5)  # Splink's customary threshold, and the best on generated data
DEFAULT_REPEATS = 3


def _median(samples: Sequence[float]) -> float:
    return round(statistics.median(samples), 1)


def _cold_warm(runs_by_process: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Median cold (each process's first run) and warm (its second) seconds, and the samples."""
    cold = [runs[0] for runs in runs_by_process]
    warm = [runs[1] for runs in runs_by_process if len(runs) > 1]
    return {"seconds": _median(cold), "warm_seconds": _median(warm) if warm else None,
            "samples": {"cold": [round(s, 1) for s in cold], "warm": [round(s, 1) for s in warm]}}


def result_row(tool: str, runs_by_process: Sequence[Sequence[float]],
               report: Mapping[str, Any]) -> dict[str, Any]:
    """A row of the table: the tool, its median seconds and samples (``_cold_warm``), its scores."""
    return {"tool": tool, **_cold_warm(runs_by_process), **report["scores"],
            "predicted_enterprises": report["predicted_enterprises"],
            "branches_merged_with_head_office": report["branches_merged_with_head_office"],
            "renamed_enterprises_split": report["renamed_enterprises_split"]}


def _read_clusters(path: Path, cluster_column: str) -> dict[evaluate.RecordKey, str]:
    table = pq.read_table(path, columns=["mention_id", cluster_column])
    return evaluate.by_record_key(dict(zip(table.column("mention_id").to_pylist(),
                           table.column(cluster_column).to_pylist(), strict=True)))


def _in_fresh_process(what: str, module: str, arguments: Sequence[str]) -> dict[str, Any]:
    """Run ``python -m module arguments``; its last line of output is a JSON summary."""
    done = subprocess.run([sys.executable, "-m", module, *arguments],
                          check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (rc {done.returncode}):\n"
                           + (done.stderr or done.stdout)[-4000:])
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return summary


def splink_in_fresh_process(mentions: Path, threshold: float, clusters_out: Path,
                            runs: int) -> dict[str, Any]:
    """Splink ``runs`` times in a new Python process; its clusters go to ``clusters_out``."""
    return _in_fresh_process(
        f"Splink at threshold {threshold}", "xinyong.splink_baseline",
        ["--mentions", str(mentions), "--threshold", str(threshold), "--runs", str(runs),
         "--clusters-out", str(clusters_out)])


def ours_in_fresh_process(mentions: Path, prior: Path, out: Path, runs: int) -> dict[str, Any]:
    """Our job ``runs`` times in a new Python process (``time_our_job``); the first run's
    outputs are under ``out/run0``."""
    return _in_fresh_process(
        "our resolution job", "xinyong.compare",
        ["--mentions", str(mentions), "--prior", str(prior), "--out", str(out), "--runs", str(runs)])


def time_our_job(mentions: Path, prior: Path, out: Path, runs: int) -> dict[str, Any]:
    """Start a Spark session (timed apart) and run the job ``runs`` times from scratch in it:
    seconds to its links written, and its whole time, run by run."""
    from xinyong.platform import ensure_java
    from xinyong.resolve import build_spark, run_job

    ensure_java()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # UDF workers import xinyong
    started = time.perf_counter()
    spark = build_spark("xinyong-compare")
    session_seconds = time.perf_counter() - started
    to_links, whole_job = [], []
    try:
        for run in range(runs):
            started = time.perf_counter()
            counts = run_job(spark, str(mentions), str(prior), str(out / f"run{run}"), 1)
            whole_job.append(round(time.perf_counter() - started, 2))
            to_links.append(counts["seconds_to_links"])
    finally:
        spark.stop()
    return {"session_seconds": round(session_seconds, 2), "seconds_by_run": to_links,
            "whole_job_seconds_by_run": whole_job}


def splink_missing() -> str | None:
    """Why the Splink baseline cannot run in this environment, or None when it can."""
    try:
        import xinyong.splink_baseline  # noqa: F401
    except ImportError as missing:
        return f"Splink is not installed ({missing}): pip install -e '.[bench]'"
    return None


def resolve_both(dsn: str, truth_dir: Path, *, thresholds: tuple[float, ...] = SPLINK_THRESHOLDS,
                 runs: int = 2, repeats: int = 1) -> dict[str, Any]:
    """Export the warehouse's live mentions once; resolve them from scratch with our job and
    with Splink at each threshold; score each against the truth.

    Each tool runs ``runs`` times in a new process of its own (the first run cold, a second
    warm), and such processes are started ``repeats`` times, each tool in turn. Both are timed
    from the mentions' Parquet file to the clusters (for our job: its links written); neither
    counts its process's start. Our job's whole time, with the golden records and id changes
    Splink does not make, is ``whole_job_seconds`` (median cold, median warm).

    Returns ``mentions``, ``spark_session_seconds`` (median; not counted in our job's time),
    ``repeats`` and ``results`` (one row per tool: median seconds cold and warm, the samples
    and the scores of its first process). Needs Splink (``splink_missing``).
    """
    from xinyong.night import PRIOR_LINK_SCHEMA, export_mentions
    from xinyong.warehouse.db import transaction

    with tempfile.TemporaryDirectory(prefix="xinyong-compare-") as tmp:
        work = Path(tmp)
        mentions_path, prior = work / "mentions.parquet", work / "prior.parquet"
        with transaction(dsn) as conn, conn.cursor() as cursor:
            mentions = export_mentions(cursor, mentions_path)
        pq.write_table(PRIOR_LINK_SCHEMA.empty_table(), prior)

        ours: list[dict[str, Any]] = []
        splink: dict[float, list[dict[str, Any]]] = {t: [] for t in thresholds}
        for repeat in range(repeats):
            ours.append(ours_in_fresh_process(mentions_path, prior, work / f"ours{repeat}", runs))
            for threshold in thresholds:
                splink[threshold].append(splink_in_fresh_process(
                    mentions_path, threshold, work / f"splink-{threshold}-{repeat}.parquet", runs))
        # Read after the timed runs: 700,000 records held in this process are not part of them.
        truth = evaluate.read_truth(truth_dir)
        enterprises = evaluate.read_enterprises(truth_dir)
        report = evaluate.evaluate(_read_clusters(work / "ours0" / "run0" / "links", "enterprise_id"),
                                   truth, enterprises)
        whole = _cold_warm([p["whole_job_seconds_by_run"] for p in ours])
        rows = [{**result_row("xinyong (Spark)", [p["seconds_by_run"] for p in ours], report),
                 "whole_job_seconds": [whole["seconds"], whole["warm_seconds"]]}]
        for threshold, processes in splink.items():
            report = evaluate.evaluate(_read_clusters(work / f"splink-{threshold}-0.parquet", "cluster"),
                                       truth, enterprises)
            tool = f"Splink 5 (DuckDB), threshold {threshold}"
            if skipped := processes[0]["em_blocks_skipped"]:
                tool += f" (EM refused on {', '.join(skipped)})"
            rows.append(result_row(tool, [p["seconds_by_run"] for p in processes], report))
    return {"mentions": mentions, "repeats": repeats,
            "spark_session_seconds": _median([p["session_seconds"] for p in ours]), "results": rows}


def compare(dsn: str, truth_dir: Path, out: Path, *, name: str,
            repeats: int = DEFAULT_REPEATS) -> dict[str, Any]:
    """Run both tools on the warehouse's live mentions; write ``<out>/<name>.{json,md}``."""
    if reason := splink_missing():
        raise SystemExit(reason)
    both = resolve_both(dsn, truth_dir, repeats=repeats)
    result = {"mentions": both["mentions"], "repeats": both["repeats"],
              "spark_session_seconds": both["spark_session_seconds"],
              "machine": f"{host.machine()}, {host.system()} {host.release()}",
              "results": both["results"]}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(format_table(result), encoding="utf-8")
    return result


def _ratios(cold: float, warm: float | None, other: Mapping[str, Any]) -> str:
    pairs = [("cold", cold, other["seconds"]), ("warm", warm, other.get("warm_seconds"))]
    return ", ".join(f"{kind} {mine / theirs:.2f}x" for kind, mine, theirs in pairs if mine and theirs)


def time_ratios(results: Sequence[Mapping[str, Any]]) -> list[str]:
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


def _seconds_cell(median: float | None, samples: Sequence[float]) -> str:
    """The median, with the range when there are several samples: ``38.4 (35.2-41.0)``."""
    if median is None:
        return ""
    return f"{median} ({min(samples)}-{max(samples)})" if len(samples) > 1 else str(median)


def format_table(result: Mapping[str, Any]) -> str:
    repeats = result.get("repeats", 1)
    lines = [
        f"Resolution of {result['mentions']:,} live mentions from scratch "
        f"({result['machine']}; Spark session start {result['spark_session_seconds']} s, not counted). "
        "Each tool in a new process of its own, timed from the mentions' Parquet file to its clusters "
        "(xinyong: its links written): its first run (cold) and a second in the same process (warm)"
        + (f"; median (and range) of {repeats} such processes per tool, the tools taking turns."
           if repeats > 1 else "."),
        "",
        "| tool | seconds cold | seconds warm | pairwise P | pairwise R | pairwise F1 | B-cubed P "
        "| B-cubed R | B-cubed F1 | enterprises | branch merged with head | renamed split |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["results"]:
        samples = r.get("samples", {})
        lines.append(
            f"| {r['tool']} | {_seconds_cell(r['seconds'], samples.get('cold', []))} "
            f"| {_seconds_cell(r.get('warm_seconds'), samples.get('warm', []))} "
            f"| {r['pairwise_precision']:.5f} | {r['pairwise_recall']:.5f} "
            f"| {r['pairwise_f1']:.5f} | {r['bcubed_precision']:.5f} | {r['bcubed_recall']:.5f} "
            f"| {r['bcubed_f1']:.5f} | {r['predicted_enterprises']:,} "
            f"| {r['branches_merged_with_head_office']} | {r['renamed_enterprises_split']} |")
    return "\n".join([*lines, "", *time_ratios(result["results"])]) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="time our resolution job in this new process")
    parser.add_argument("--mentions", type=Path, required=True)
    parser.add_argument("--prior", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(time_our_job(args.mentions, args.prior, args.out, args.runs)))


if __name__ == "__main__":
    main()
