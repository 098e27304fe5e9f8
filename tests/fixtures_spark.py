"""Session-wide SparkSession for tests: local[2], 4 shuffle partitions."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from xinyong.platform import ensure_java
from xinyong.resolve.session import build_spark


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers match the venv
    ensure_java()  # a JDK from PyPI on machines without Java 17+
    # Test JVMs live a minute: the quick C1 compiler alone saves a third of the wall time
    # (conftest sets it; the class archive of the nights' drivers is mapped when there is one).
    session = build_spark("xinyong-tests", master="local[2]", shuffle_partitions=4)
    yield session
    session.stop()
    # py4j logs from finalizers at interpreter exit, after pytest closed its streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
