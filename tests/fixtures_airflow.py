"""A scratch Airflow home (SQLite metadata, no examples) and the nightly DAG loaded from dags/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xinyong import platform


@pytest.fixture(scope="session")
def airflow_ready(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return platform.ensure_airflow_db()


@pytest.fixture(scope="session")
def nightly_dag(airflow_ready: Path) -> Any:
    from xinyong.demo import load_nightly_dag

    return load_nightly_dag()
