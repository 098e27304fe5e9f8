"""Warehouse faults: unreachable when the night starts, lost in the middle of it, and Airflow's
retries of a task that meets one. `xinyong run` stops with one line naming the warehouse and
a non-zero exit, readers keep the last published night, and the night run again ends as an
uninterrupted one."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from xinyong import cli, platform
from xinyong.demo import delivery_dates
from xinyong.night import _NIGHT_LOCK, prepare

from .fixtures_nights import rows, snapshot, warehouse_env
from .test_safety import STAGE_LOCKS, holding, kill, query, start_night, wait_until, waiting_in


def closed_port() -> int:
    """A local TCP port nothing listens on (it was free a moment ago)."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_to_the_end(dsn: str, landing: Path, night: str, err: Path,
                   meanwhile: Callable[[subprocess.Popen], None] = lambda process: None,
                   ) -> tuple[int, str]:
    """`xinyong run` as an operator runs it, ``meanwhile(process)`` done to it: its exit
    status and everything it wrote to stderr."""
    with open(err, "w") as stderr:
        process = start_night(dsn, landing, night, stderr=stderr)
        try:
            meanwhile(process)
            process.wait(timeout=600)
        finally:
            kill(process)
    return process.returncode, err.read_text()


def cut_off_in(dsn: str, hold: str, waits_in: str, sessions: str = "%",
               ) -> Callable[[subprocess.Popen], None]:
    """Hold ``hold`` until the night waits in ``waits_in``, then terminate its sessions (those
    whose application_name is like ``sessions``) and let it go on."""
    def meanwhile(process: subprocess.Popen) -> None:
        with holding(dsn, hold) as holder:
            wait_until(process, waiting_in(dsn, waits_in), f"the night waiting in {waits_in!r}")
            query(dsn, "select pg_terminate_backend(pid) from pg_stat_activity"
                       " where datname = current_database() and application_name like %s"
                       " and pid not in (pg_backend_pid(), %s)", sessions, holder)
    return meanwhile


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("fault", ["nothing listens on the port", "the database is missing"])
def test_an_unreachable_warehouse_stops_the_night_at_once_with_one_line(
        generated, admin_dsn, tmp_path, monkeypatch, fault):
    missing = f"xinyong_test_missing_{uuid.uuid4().hex[:8]}"
    port = closed_port()
    dsn, named, why = (
        (f"postgresql://postgres@127.0.0.1:{port}/credit", f"127.0.0.1:{port}/credit",
         "Connection refused") if fault == "nothing listens on the port"
        else (platform.database_dsn(admin_dsn, missing), f"/{missing}:",
              f'database "{missing}" does not exist'))
    monkeypatch.setenv("XINYONG_DOCS_DIR", str(tmp_path / "docs"))
    monkeypatch.setenv("XINYONG_EXCHANGE_DIR", str(tmp_path / "exchange"))
    landing = generated / "landing"
    code, stderr = run_to_the_end(dsn, landing, delivery_dates(landing)[0].isoformat(),
                                  tmp_path / "stderr")
    assert code == 3
    line = one_line(stderr)
    assert line.startswith("xinyong: cannot reach the warehouse "), line
    assert named in line and why in line, line
    assert not (tmp_path / "docs").exists() and not (tmp_path / "exchange").exists()
    assert query(admin_dsn, "select count(*) from pg_database where datname = %s", missing) == [(0,)]


def _waiting_for(dsn: str, table: str) -> tuple[int, str] | None:
    """A session waiting for ``table`` that is not one of the test's own lock statements."""
    waiting = query(dsn, "select a.pid, a.query from pg_locks l join pg_stat_activity a using (pid)"
                         " where not l.granted and l.relation = %s::regclass"
                         " and not starts_with(a.query, 'lock table') order by a.pid", table)
    return waiting[0] if waiting else None


class Turnstile:
    """Holds a table exclusively; ``admit()`` lets exactly the statement waiting for it through
    and holds the table again before that session's next statement on it (the next lock
    request queues behind the admitted one before the current lock is released)."""

    def __init__(self, dsn: str, table: str) -> None:
        self.dsn, self.table = dsn, table
        self.statement = f"lock table {table} in access exclusive mode"
        self.holder = psycopg2.connect(dsn)
        self.holder.cursor().execute(self.statement)

    def admit(self) -> None:
        following = psycopg2.connect(self.dsn)
        queued = threading.Thread(target=following.cursor().execute, args=(self.statement,))
        queued.start()
        deadline = time.monotonic() + 60
        while query(self.dsn, "select count(*) from pg_locks where not granted"
                              " and relation = %s::regclass", self.table)[0][0] < 2:
            assert time.monotonic() < deadline, "the next lock request never queued"
            time.sleep(0.05)
        self.holder.close()
        queued.join()
        self.holder = following

    def close(self) -> None:
        self.holder.close()


# The lock a delivery of an agency is loaded under (the night's own prepare reads every feed
# table: holding one of them would stop the night there).
INGESTING_STATE_TAX = ("select pg_advisory_lock(hashtext('ingest:state_tax'))",
                       "select pg_advisory_xact_lock(hashtext(")


@pytest.mark.parametrize(("sessions", "expected"), [
    ("%", "lost the connection to the warehouse during ingest:"),
    ("xinyong-night-lock", "lost the session holding the night lock before validate:"),
], ids=["every session", "the night lock's session"])
def test_a_warehouse_lost_during_ingestion_stops_the_night_with_one_line(
        cli_nights, fresh_warehouse_dsn, tmp_path, sessions, expected):
    """Cut off while loading a delivery (a run again after it is test_safety's kill during
    ingestion): psycopg2's "connection already closed" no longer hides why it closed. A night
    whose lock went with its session stops before its next step: another could start."""
    dsn, landing = fresh_warehouse_dsn(), cli_nights["landing"]
    prepare(dsn)
    code, stderr = run_to_the_end(dsn, landing, delivery_dates(landing)[0].isoformat(),
                                  tmp_path / "stderr", cut_off_in(dsn, *INGESTING_STATE_TAX, sessions))
    assert code == 3
    assert one_line(stderr).startswith(f"xinyong: {expected}"), stderr
    assert rows(dsn, "select count(*) from credit.published") == {(0,)}


def starve_the_suite(dsn: str, table: str) -> Callable[[subprocess.Popen], None]:
    """Let every statement on ``table`` through one at a time (loading it, GX's look at it,
    its batch list) but terminate each metric query of a batch, GX's retries included."""
    def meanwhile(process: subprocess.Popen) -> None:
        with closing(Turnstile(dsn, table)) as turnstile:
            while process.poll() is None:
                waiting = _waiting_for(dsn, table)
                if waiting is None:
                    time.sleep(0.1)
                elif "WHERE delivery_id" in waiting[1]:
                    query(dsn, "select pg_terminate_backend(%s)", waiting[0])
                else:
                    turnstile.admit()
    return meanwhile


def test_a_warehouse_lost_while_the_suites_run_stores_no_verdict_and_the_night_runs_again(
        cli_nights, fresh_warehouse_dsn, tmp_path):
    """GX, once its retries of a metric are spent, records the expectations as failed on data
    it never read: publication would then stay blocked for good, since a validated delivery
    is not validated again."""
    dsn, landing = fresh_warehouse_dsn(), cli_nights["landing"]
    first = delivery_dates(landing)[0].isoformat()
    prepare(dsn)
    code, stderr = run_to_the_end(dsn, landing, first, tmp_path / "stderr",
                                  starve_the_suite(dsn, "ingest.state_tax__vat_returns"))
    assert code == 3
    line = one_line(stderr)
    assert line.startswith("xinyong: the warehouse failed while validating state_tax/"), line
    assert "(psycopg2.OperationalError) server closed the connection unexpectedly" in line, line
    assert rows(dsn, "select count(*) from ingest.validation") == {(0,)}
    assert rows(dsn, "select count(*) from credit.published") == {(0,)}
    with warehouse_env(dsn):
        assert cli.main(["run", "--landing", str(landing), "--date", first]) == 0
    assert snapshot(dsn) == cli_nights["after"][0]


def _clone(admin_dsn: str, source_dsn: str, created: list[str]) -> str:
    """A copy of a warehouse (CREATE DATABASE ... TEMPLATE), dropped at the session's end."""
    name = f"xinyong_test_{uuid.uuid4().hex[:12]}"
    source = psycopg2.extensions.parse_dsn(source_dsn)["dbname"]
    with closing(psycopg2.connect(admin_dsn)) as conn:
        conn.autocommit = True
        conn.cursor().execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(name), sql.Identifier(source)))
    created.append(name)
    return platform.database_dsn(admin_dsn, name)


def test_a_warehouse_lost_during_publication_leaves_readers_the_last_night(
        cli_nights, admin_dsn, _scratch_databases, tmp_path):
    """The last night run again on a copy of the warehouse, its sessions terminated while it
    waits to swap the published run."""
    dsn, landing = _clone(admin_dsn, cli_nights["dsn"], _scratch_databases), cli_nights["landing"]
    last = delivery_dates(landing)[-1].isoformat()
    published = rows(dsn, "select run_id, published_at from credit.published")
    code, stderr = run_to_the_end(dsn, landing, last, tmp_path / "stderr",
                                  cut_off_in(dsn, *STAGE_LOCKS["publication"]))
    assert code == 3
    line = one_line(stderr)
    assert line.startswith("xinyong: lost the connection to the warehouse during publish:"), line
    assert "readers still see the last published night" in line
    assert rows(dsn, "select run_id, published_at from credit.published") == published
    assert snapshot(dsn) == cli_nights["after"][-1]
    with warehouse_env(dsn):
        assert cli.main(["run", "--landing", str(landing), "--date", last]) == 0
    assert snapshot(dsn) == cli_nights["after"][-1]
    # New and resolved findings compare with the night readers saw before, not with the run
    # the stopped night had resolved.
    [(previous_run, _)] = published
    assert rows(dsn, "select max(run_id) from resolve.night_run"
                     " where run_id < (select run_id from credit.published)") == {(previous_run,)}


# --- Airflow ------------------------------------------------------------------------------


def test_every_task_retries_with_exponential_backoff(nightly_dag):
    for task in nightly_dag.tasks:
        assert task.retries >= 1, task.task_id
        # Airflow 3 reads it as a multiplier of the delay (0 is off).
        assert task.retry_exponential_backoff >= 2, task.task_id
        assert task.retry_delay >= timedelta(minutes=1), task.task_id


def _dag_test(dag, landing: Path, hour: int, **kwargs):
    """A DAG run of the first night, at an hour of its own (dag.test clears the task instances
    of its logical date: other tests' runs of that night keep theirs)."""
    night = delivery_dates(landing)[0]
    return dag.test(logical_date=datetime(night.year, night.month, night.day, hour, tzinfo=UTC),
                    run_conf={"landing": str(landing), "run_date": night.isoformat()}, **kwargs)


def _no_retry_delay(dag, monkeypatch) -> None:
    # dag.test() waits out a retry's delay (minutes here): the tries come at once instead.
    monkeypatch.setattr(dag.task_dict["prepare"], "retry_delay", timedelta(0))


def test_a_dag_run_against_an_unreachable_warehouse_fails_after_its_retries(
        nightly_dag, generated, monkeypatch, capfd):
    _no_retry_delay(nightly_dag, monkeypatch)
    monkeypatch.setenv("XINYONG_WAREHOUSE_DSN", f"postgresql://postgres@127.0.0.1:{closed_port()}/credit")
    dag_run = _dag_test(nightly_dag, generated / "landing", 20)
    assert str(dag_run.state) == "failed"
    tries = {ti.task_id: (str(ti.state), ti.try_number) for ti in dag_run.get_task_instances()}
    retries = nightly_dag.task_dict["prepare"].retries
    assert tries["prepare"] == ("failed", retries + 1)
    assert all(state == "upstream_failed" for task, (state, _) in tries.items() if task != "prepare")
    output = capfd.readouterr()
    assert (output.out + output.err).count("WarehouseUnavailable: cannot reach the warehouse") \
        == retries + 1


def test_a_dag_step_is_refused_while_a_night_runs_from_the_command_line(
        nightly_dag, generated, fresh_warehouse_dsn, monkeypatch, capfd):
    """`xinyong run` holds the night lock: the DAG's first step is refused at every try and
    changes nothing; it then runs once the lock is free (the shared lock of its steps)."""
    _no_retry_delay(nightly_dag, monkeypatch)
    dsn = fresh_warehouse_dsn()
    monkeypatch.setenv("XINYONG_WAREHOUSE_DSN", dsn)
    holder = psycopg2.connect(dsn, application_name="xinyong-night-lock")
    holder.autocommit = True
    try:
        holder.cursor().execute("select pg_advisory_lock(%s)", (_NIGHT_LOCK,))
        refused = _dag_test(nightly_dag, generated / "landing", 22,
                            mark_success_pattern="ingest|validate|resolve|audit|publish")
    finally:
        holder.close()
    assert str(refused.state) == "failed"
    [prepare_ti] = [ti for ti in refused.get_task_instances() if ti.task_id == "prepare"]
    tries = nightly_dag.task_dict["prepare"].retries + 1
    assert (str(prepare_ti.state), prepare_ti.try_number) == ("failed", tries)
    output = capfd.readouterr()
    assert "NightAlreadyRunning: another night is running on this warehouse" in output.out + output.err
    assert rows(dsn, "select count(*) from information_schema.tables"
                     " where table_schema = 'ingest'") == {(0,)}  # not migrated

    ran = _dag_test(nightly_dag, generated / "landing", 23,
                    mark_success_pattern="ingest|validate|resolve|audit|publish")
    assert str(ran.state) == "success"
    assert rows(dsn, "select count(*) > 0 from public.xinyong_schema_version") == {(True,)}


def test_a_task_that_fails_once_succeeds_on_its_retry(
        nightly_dag, generated, admin_dsn, _scratch_databases, monkeypatch):
    """The warehouse's database is missing at the first try and there at the second (created
    by the task's on_retry_callback). Only `prepare` runs: the others are marked successful."""
    name = f"xinyong_test_{uuid.uuid4().hex[:12]}"

    def create_the_database(context) -> None:
        platform.create_database(admin_dsn, name)
        _scratch_databases.append(name)

    _no_retry_delay(nightly_dag, monkeypatch)
    monkeypatch.setattr(nightly_dag.task_dict["prepare"], "on_retry_callback", [create_the_database])
    monkeypatch.setenv("XINYONG_WAREHOUSE_DSN", platform.database_dsn(admin_dsn, name))
    dag_run = _dag_test(nightly_dag, generated / "landing", 21,
                        mark_success_pattern="ingest|validate|resolve|audit|publish")
    assert str(dag_run.state) == "success"
    [prepare_ti] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "prepare"]
    assert (str(prepare_ti.state), prepare_ti.try_number) == ("success", 2)
    assert rows(platform.database_dsn(admin_dsn, name),
                "select count(*) > 0 from public.xinyong_schema_version") == {(True,)}  # migrated
