"""`xinyong demo`: a small generated landing folder, its nights run through the real DAG into
a fresh `xinyong_demo` database, and a per-agency summary that reconciles with the manifests.

The database lives on the server of XINYONG_WAREHOUSE_DSN when set, else on the embedded
PostgreSQL that the demo starts itself.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from xinyong import platform

DEMO_DATABASE = "xinyong_demo"


def run_demo(*, enterprises: int, nights: int, seed: int) -> int:
    started = time.monotonic()
    platform.ensure_java()
    server_dsn = platform.warehouse_dsn()
    platform.drop_database(server_dsn, DEMO_DATABASE)
    platform.create_database(server_dsn, DEMO_DATABASE)
    dsn = platform.database_dsn(server_dsn, DEMO_DATABASE)
    os.environ["XINYONG_WAREHOUSE_DSN"] = dsn

    from xinyong.generate import GeneratorConfig, generate

    out = platform.state_dir() / "demo"
    shutil.rmtree(out, ignore_errors=True)
    generate(out, GeneratorConfig(enterprises=enterprises, nights=nights, seed=seed,
                                  fault_night=2 if nights >= 3 else None))
    landing = out / "landing"
    print(f"generated {enterprises} enterprises, {nights} nights in {landing}")

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # keep the summary readable
    dag = load_nightly_dag()
    for night_date in delivery_dates(landing):
        dag_run = dag.test(
            logical_date=datetime(night_date.year, night_date.month, night_date.day, 2, 0, tzinfo=UTC),
            run_conf={"landing": str(landing), "run_date": night_date.isoformat()})
        state = str(dag_run.state)
        print(f"night {night_date}: DAG run {state}")
        if not state.endswith("success"):
            return 1

    from xinyong.report import SUMMARY_COLUMNS, agency_summary, print_table

    rows = agency_summary(dsn)
    manifest_rows = manifest_totals(landing, loaded_folders(dsn))
    for row in rows:
        row["manifest_rows"] = manifest_rows.get(row["agency"], 0)
        reconciles = (row["manifest_rows"] == row["rows_delivered"]
                      == row["rows_loaded"] + row["rows_quarantined"])
        row["reconciles"] = "yes" if reconciles else "NO"
    print()
    print_table(rows, (*SUMMARY_COLUMNS, "manifest_rows", "reconciles"))
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s; warehouse: {dsn}")
    return 0 if all(r["reconciles"] == "yes" for r in rows) else 1


def load_nightly_dag() -> Any:
    """The DAG object from dags/, imported the way the scheduler would, in a scratch home."""
    platform.airflow_home()
    platform.ensure_airflow_db()
    import importlib.util

    path = platform.project_root() / "dags" / "xinyong_nightly.py"
    spec = importlib.util.spec_from_file_location("xinyong_nightly_dag", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.nightly


def delivery_dates(landing: Path) -> list[date]:
    dates = {datetime.strptime(folder.name, "%Y%m%d").date()
             for agency in landing.iterdir() if agency.is_dir()
             for folder in agency.iterdir() if folder.is_dir() and folder.name.isdigit()}
    return sorted(dates)


def loaded_folders(dsn: str) -> set[tuple[str, str]]:
    from xinyong.warehouse.db import transaction

    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select agency, folder from ingest.delivery where status = 'loaded'")
        return {(a, f) for a, f in cursor.fetchall()}


def manifest_totals(landing: Path, folders: set[tuple[str, str]]) -> dict[str, int]:
    """Rows the manifests of the loaded deliveries declare, per agency."""
    totals: dict[str, int] = defaultdict(int)
    for agency, folder in folders:
        manifest = json.loads((landing / agency / folder / "manifest.json").read_text("utf-8-sig"))
        totals[agency] += sum(int(f["rows"]) for f in manifest["files"])
    return dict(totals)
