"""xinyong_nightly: one night of the credit platform. Wiring only; the logic is xinyong.night.

    prepare -> ingest[agency] (mapped) -> validate (GX) -> resolve (Spark) -> audit -> publish

`xinyong run` calls the same functions in the same order. The warehouse DSN comes from
XINYONG_WAREHOUSE_DSN; the landing folder from the `landing` param (default
XINYONG_LANDING); the night's date from the `run_date` param, else the run's logical date
in Asia/Shanghai. Each step holds the warehouse's night lock shared (night.night_lock), so
that a `xinyong run` on the same warehouse never interleaves with it: the later one is
refused, and a refused step is retried like any failed step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from xinyong import night

LOCAL_TZ = pendulum.timezone("Asia/Shanghai")


@contextmanager
def _night_step() -> Iterator[tuple[str, str, Any]]:
    """(dsn, landing, run_date) of the running DAG run, while the step holds the night lock."""
    context = get_current_context()
    params = context["params"]
    run_date = params.get("run_date") or context["logical_date"].in_timezone(LOCAL_TZ).date()
    dsn = night.warehouse_dsn()
    with night.night_lock(dsn, shared=True):
        yield dsn, params["landing"], pendulum.parse(str(run_date)).date()


@dag(
    dag_id="xinyong_nightly",
    schedule="30 1 * * *",  # 01:30 Beijing time, after the agencies' nightly drops
    start_date=pendulum.datetime(2026, 11, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    tags=["xinyong", "credit", "nightly"],
    # A task that fails (the warehouse or Spark unreachable for a while) is tried again after
    # 5-10 min, then 10-20 min. Airflow 3 reads the backoff as the delay's multiplier.
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5),
                  "retry_exponential_backoff": 2.0, "max_retry_delay": timedelta(hours=1)},
    params={
        "landing": Param(os.environ.get("XINYONG_LANDING", "/data/landing"), type="string"),
        "run_date": Param(None, type=["null", "string"], description="YYYY-MM-DD"),
    },
    doc_md=__doc__,
)
def xinyong_nightly() -> None:
    @task
    def prepare() -> list[str]:
        with _night_step() as (dsn, _, _):
            night.prepare(dsn)
        return night.agency_codes()

    @task(max_active_tis_per_dagrun=2)
    def ingest(agency: str) -> list[dict[str, Any]]:
        with _night_step() as (dsn, landing, run_date):
            return night.ingest(dsn, landing, agency, run_date)

    @task
    def validate() -> dict[str, Any]:
        with _night_step() as (dsn, _, run_date):
            return night.validate(dsn, run_date)

    @task
    def resolve() -> dict[str, Any]:
        with _night_step() as (dsn, _, run_date):
            return night.resolve(dsn, run_date)

    @task
    def audit(resolution: dict[str, Any]) -> dict[str, int]:
        with _night_step() as (dsn, _, run_date):
            return night.audit(dsn, run_date, resolution["run_id"])

    @task
    def publish(resolution: dict[str, Any], findings: dict[str, int]) -> dict[str, Any]:
        with _night_step() as (dsn, _, run_date):
            return night.publish(dsn, run_date, resolution["run_id"])

    loaded = ingest.expand(agency=prepare())
    resolution = resolve()
    loaded >> validate() >> resolution
    publish(resolution, audit(resolution))


nightly = xinyong_nightly()
