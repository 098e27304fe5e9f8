"""Shared fixtures: one tuned SparkSession and one scratch PostgreSQL database per test session."""

pytest_plugins = ["tests.fixtures_db", "tests.fixtures_spark", "tests.fixtures_airflow"]
