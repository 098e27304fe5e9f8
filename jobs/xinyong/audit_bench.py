"""`xinyong bench-audits`: each audit's latency on an existing warehouse, first run included.

``xinyong bench`` builds a scratch warehouse (hours at scale 1) and times the audits at its end.
This times them on a warehouse already built, the way an analyst meets them: each audit ``runs``
times as ``xinyong audit --only CODE`` runs it, on the latest run. With ``cold_command`` (a
shell command, e.g. one that restarts the server and empties the operating system's page
cache) each audit's first run starts from nothing cached: the worst an audit meets, timed
apart from the runs after it.

Each audit's findings after its runs are counted and digested (every finding's enterprise and
evidence, in order), so that two measurements, of two commits, can show they found the same.
Results go to ``<out>/audits-<name>.json`` and ``.md``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from xinyong.bench import AUDIT_P95_MS, AUDIT_RUNS, audit_run_times, machine, percentiles
from xinyong.night import audit_files, auditable_run, require_migrated
from xinyong.warehouse.db import transaction


def _run_cold_command(command: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cold command {command!r} exited {done.returncode}:"
                           f" {(done.stderr or done.stdout).strip()[-500:]}")
    return round(time.perf_counter() - started, 2)


def findings_digest(dsn: str, run_id: int, code: str) -> dict[str, Any]:
    """The run's findings of one audit: how many, their evidence records, and an md5 of every
    finding's enterprise and evidence in enterprise order (equal digests, equal findings)."""
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select count(*), coalesce(sum(jsonb_array_length(evidence -> 'records')), 0),"
            "       md5(coalesce(string_agg(enterprise_id || ' ' || evidence::text, E'\\n'"
            "                               order by enterprise_id), ''))"
            " from audit.finding where run_id = %s and audit = %s", (run_id, code))
        findings, records, digest = cursor.fetchone()
    return {"findings": int(findings), "records": int(records), "digest": digest}


def bench_audits(dsn: str, codes: Sequence[str] | None = None, runs: int = AUDIT_RUNS,
                 cold_command: str | None = None) -> dict[str, Any]:
    """Per audit: each run's milliseconds in order, p50/p95/max over all runs and over the
    runs after the first, and its findings (``findings_digest``)."""
    with transaction(dsn) as conn, conn.cursor() as cursor:
        require_migrated(cursor)
        run_id = auditable_run(cursor)
    audits: dict[str, Any] = {}
    for code in audit_files(list(codes) if codes else None):
        cold_seconds = _run_cold_command(cold_command) if cold_command else None
        milliseconds = [round(ms, 2) for ms in audit_run_times(dsn, code, runs)]
        audits[code] = {"runs_ms": milliseconds, **percentiles(milliseconds),
                        "after_first": percentiles(milliseconds[1:]),
                        "cold_command_seconds": cold_seconds,
                        **findings_digest(dsn, run_id, code)}
    return {"run_id": run_id, "runs": runs, "cold_command": cold_command,
            "date": date.today().isoformat(), "machine": machine(), "audits": audits}


def markdown(result: dict[str, Any]) -> str:
    first = ("first run after the cold command" if result["cold_command"]
             else "first run")
    lines = [f"## Audit latency, run {result['run_id']}, {result['runs']} runs each", "",
             f"{result['date']}; {result['machine']}."
             + (f" Before each audit's first run: `{result['cold_command']}`."
                if result["cold_command"] else ""), "",
             f"| audit | {first} ms | p50 ms | p95 ms | max ms | p95 after the first ms"
             f" | p95 ≤ {AUDIT_P95_MS} ms | findings | evidence records |",
             "|---|---|---|---|---|---|---|---|---|"]
    for code, a in result["audits"].items():
        met = "met" if a["p95_ms"] is not None and a["p95_ms"] <= AUDIT_P95_MS else "not met"
        lines.append(f"| {code} | {a['runs_ms'][0] if a['runs_ms'] else '—'} | {a['p50_ms']}"
                     f" | {a['p95_ms']} | {a['max_ms']} | {a['after_first']['p95_ms']} | {met}"
                     f" | {a['findings']:,} | {a['records']:,} |")
    return "\n".join(lines) + "\n"


def write_results(result: dict[str, Any], out_dir: Path, name: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"audits-{name}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    return path
