"""Safe to run twice: one night at a time, and a night killed half-way then run again ends in
exactly the state of a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO

import psycopg2
import pytest

from xinyong import cli
from xinyong.demo import delivery_dates
from xinyong.night import _NIGHT_LOCK, AUDIT_LOCK, prepare

from .fixtures_nights import rows, snapshot, warehouse_env

# Points inside a stage where a night can be stopped deterministically: a lock the stage
# takes, which the test holds in an open transaction (none of the earlier stages of a
# migrated warehouse needs it), and the statement the night then waits in.
STAGE_LOCKS = {
    "validation": ("lock table ingest.validation in share mode",
                   "delete from ingest.validation"),  # storing the suites' results
    "audits": (f"select pg_advisory_lock({AUDIT_LOCK})",  # as an analyst's `xinyong audit`
               "select pg_advisory_xact_lock"),
    "publication": ("lock table credit.published in share mode",
                    "lock table credit.published in exclusive mode"),  # swapping the run
}


@pytest.mark.parametrize("take", ["pg_advisory_lock", "pg_advisory_lock_shared"],
                         ids=["another xinyong run", "a step of a DAG run"])
def test_a_second_night_at_once_is_refused_with_a_clear_message(
        cli_nights, fresh_warehouse_dsn, capsys, take):
    dsn, landing = fresh_warehouse_dsn(), cli_nights["landing"]
    holder = psycopg2.connect(dsn, application_name="the other night")
    holder.autocommit = True
    try:
        holder.cursor().execute(f"select {take}(%s)", (_NIGHT_LOCK,))
        with warehouse_env(dsn):
            code = cli.main(["run", "--landing", str(landing), "--date", "2026-11-10"])
    finally:
        holder.close()
    assert code == 2
    assert "another night is running on this warehouse: the other night (pid" in capsys.readouterr().err
    assert rows(dsn, "select count(*) from information_schema.tables"
                     " where table_schema = 'ingest'") == {(0,)}  # not even migrated


def start_night(dsn: str, landing: Path, night: str,
                stderr: IO[str] | int = subprocess.DEVNULL) -> subprocess.Popen:
    """`xinyong run` as an operator runs it, its Spark job through spark-submit, in a process
    group of its own (spark-submit and Spark included)."""
    return subprocess.Popen(
        [sys.executable, "-m", "xinyong.cli", "run", "--landing", str(landing), "--date", night],
        env=dict(os.environ, XINYONG_WAREHOUSE_DSN=dsn, XINYONG_SPARK_JOB="spark-submit"),
        start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=stderr)


# Whether a running night has reached a point (it is given the night's process).
Ready = Callable[[subprocess.Popen], bool]


def wait_until(process: subprocess.Popen, ready: Ready, what: str) -> None:
    deadline = time.monotonic() + 300
    while not ready(process):
        assert process.poll() is None, f"the night ended before {what}"
        assert time.monotonic() < deadline, f"{what} never reached"
        time.sleep(0.2)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def holding(dsn: str, statement: str) -> Iterator[int]:
    """Run ``statement`` in a transaction kept open (its locks held) until the block ends;
    yields the holding session's pid."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
        yield conn.get_backend_pid()
    finally:
        conn.close()  # also releases a session-level advisory lock


def query(dsn: str, statement: str, *params: object) -> list[tuple]:
    """Rows of one statement with parameters, on a connection of its own."""
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def waiting_in(dsn: str, statement: str) -> Ready:
    """Whether a session of the night waits for a lock while running ``statement``."""
    return lambda process: query(dsn, "select count(*) > 0 from pg_stat_activity"
                                      " where datname = current_database()"
                                      " and wait_event_type = 'Lock'"
                                      " and starts_with(query, %s)", statement) == [(True,)]


def _run_and_kill(dsn: str, landing: Path, night: str, ready: Ready) -> None:
    """Start `xinyong run`, SIGKILL its whole process group once ``ready(process)`` holds."""
    process = start_night(dsn, landing, night)
    try:
        wait_until(process, ready, "the kill point")
    finally:
        kill(process)


def _spark_job_running(process: subprocess.Popen) -> bool:
    """The night's own Spark job (other sessions on the machine may run one too)."""
    found = subprocess.run(["pgrep", "-s", str(process.pid), "-f", "xinyong/resolve/job.py"],
                           capture_output=True)
    return found.returncode == 0


def _some_delivery_committed(dsn: str) -> Ready:
    def ready(process: subprocess.Popen) -> bool:
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


def test_a_night_killed_in_each_later_stage_in_turn_then_run_again_ends_as_a_clean_night(
        cli_nights, fresh_warehouse_dsn):
    """One night, killed inside validation, then (run again) inside the audits, then inside
    publication: nothing is ever published, and the run after ends as a clean night. In turn,
    not one fresh night each: the runs killed after the resolution cost a Spark job each."""
    dsn, landing = fresh_warehouse_dsn(), cli_nights["landing"]
    first = delivery_dates(landing)[0].isoformat()
    prepare(dsn)  # migrated first, so that the test's locks are taken before the night starts
    for stage, (statement, waits_in) in STAGE_LOCKS.items():
        with holding(dsn, statement):
            _run_and_kill(dsn, landing, first, waiting_in(dsn, waits_in))
        assert rows(dsn, "select count(*) from credit.published") == {(0,)}, stage
        if stage == "validation":  # the suites' results are stored together or not at all
            assert rows(dsn, "select count(*) from ingest.validation") == {(0,)}
    with warehouse_env(dsn):
        assert cli.main(["run", "--landing", str(landing), "--date", first]) == 0
    assert snapshot(dsn) == cli_nights["after"][0]
    # The runs the killed nights resolved are gone: only the published one is left.
    assert rows(dsn, "select status from resolve.night_run") == {("published",)}
