"""Shared fixtures: one tuned SparkSession and one scratch PostgreSQL database per test session."""

import os

from xinyong.resolve.session import LOCAL_DRIVER_OPTIONS

pytest_plugins = ["tests.fixtures_db", "tests.fixtures_spark", "tests.fixtures_airflow",
                  "tests.fixtures_nights"]

# Test data is tiny: a JVM that compiles less and Spark without whole-stage code generation
# start and finish the per-night spark-submit about a third faster. Production keeps defaults.
os.environ.setdefault("XINYONG_SPARK_DRIVER_JAVA_OPTIONS", LOCAL_DRIVER_OPTIONS)
os.environ.setdefault("XINYONG_SPARK_CONF", "spark.sql.codegen.wholeStage=false")
os.environ.setdefault("XINYONG_SPARK_SHUFFLE_PARTITIONS", "2")
os.environ.setdefault("XINYONG_SPARK_MASTER", "local[2]")
# Nights run by the tests' own process (the CLI's and the DAG's) resolve in its Spark session,
# warm after the first; the nights the tests run as commands (killed, cut off) and the class
# archive's test go through spark-submit, as production does.
os.environ.setdefault("XINYONG_SPARK_JOB", "in-process")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
