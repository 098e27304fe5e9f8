"""Safe to run twice: one night at a time, and a night killed half-way then run again ends in
exactly the state of a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest

from xinyong import cli
from xinyong.demo import delivery_dates
from xinyong.night import _NIGHT_LOCK

from .fixtures_nights import rows, snapshot, warehouse_env


def test_a_second_night_at_once_is_refused_with_a_clear_message(
        cli_nights, fresh_warehouse_dsn, capsys):
    dsn, landing = fresh_warehouse_dsn(), cli_nights["landing"]
    holder = psycopg2.connect(dsn)
    holder.autocommit = True
    try:
        holder.cursor().execute("select pg_advisory_lock(%s)", (_NIGHT_LOCK,))
        with warehouse_env(dsn):
            code = cli.main(["run", "--landing", str(landing), "--date", "2026-11-10"])
    finally:
        holder.close()
    assert code == 2
    assert "another night is running" in capsys.readouterr().err
    assert rows(dsn, "select count(*) from information_schema.tables"
                     " where table_schema = 'ingest'") == {(0,)}  # not even migrated


def _run_and_kill(dsn: str, landing: Path, night: str, ready: Callable[[], bool]) -> None:
    """Start `xinyong run`, SIGKILL its whole process group once ``ready()`` holds."""
    env = dict(os.environ, XINYONG_WAREHOUSE_DSN=dsn)
    process = subprocess.Popen(
        [sys.executable, "-m", "xinyong.cli", "run", "--landing", str(landing), "--date", night],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while not ready():
            assert process.poll() is None, "the night ended before the kill point"
            assert time.monotonic() < deadline, "kill point never reached"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _spark_job_running() -> bool:
    found = subprocess.run(["pgrep", "-f", "xinyong/resolve/job.py"], capture_output=True)
    return found.returncode == 0


def _some_delivery_committed(dsn: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return rows(dsn, "select count(*) > 0 from ingest.delivery") == {(True,)}
        except psycopg2.Error:
            return False  # not migrated yet
    return ready


@pytest.mark.parametrize("kill_point", ["during ingestion", "during the Spark resolution"])
def test_a_killed_night_run_again_ends_as_a_clean_night(cli_nights, fresh_warehouse_dsn, kill_point):
    dsn, landing = fresh_warehouse_dsn(), cli_nights["landing"]
    first = delivery_dates(landing)[0].isoformat()
    ready = _some_delivery_committed(dsn) if kill_point == "during ingestion" else _spark_job_running
    _run_and_kill(dsn, landing, first, ready)
    with warehouse_env(dsn):
        assert cli.main(["run", "--landing", str(landing), "--date", first]) == 0
    assert snapshot(dsn) == cli_nights["after"][0]
