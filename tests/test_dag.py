"""DAG integrity: it imports cleanly in a DagBag, runs nightly in Beijing time, is thin and acyclic."""

import ast
from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "xinyong_nightly.py"


def test_dagbag_imports_without_errors(airflow_ready):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE.parent))
    assert bag.import_errors == {}
    assert list(bag.dag_ids) == ["xinyong_nightly"]


def test_schedule_timezone_and_tags(nightly_dag):
    assert nightly_dag.schedule == "30 1 * * *"
    assert nightly_dag.timezone.name == "Asia/Shanghai"
    assert {"xinyong", "nightly"} <= set(nightly_dag.tags)
    assert nightly_dag.catchup is False and nightly_dag.max_active_runs == 1


def test_task_order_and_no_cycles(nightly_dag):
    nightly_dag.check_cycle()
    tasks = nightly_dag.task_dict
    assert set(tasks) == {"prepare", "ingest", "validate", "resolve", "audit", "publish"}
    assert tasks["ingest"].is_mapped
    assert "ingest" in tasks["validate"].upstream_task_ids
    assert "validate" in tasks["resolve"].upstream_task_ids
    assert tasks["publish"].downstream_task_ids == set()
    assert {"resolve", "audit"} <= tasks["publish"].upstream_task_ids


def test_dag_file_is_thin():
    """The DAG only wires tasks: no SQL, no Spark, no file handling in the DAG file."""
    tree = ast.parse(DAG_FILE.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names} | {node.module for node in ast.walk(tree)
                                            if isinstance(node, ast.ImportFrom)}
    assert not imported & {"psycopg2", "pyspark", "pyspark.sql", "subprocess", "open"}
    calls = [node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "night"]
    assert set(calls) >= {"prepare", "ingest", "validate", "resolve", "audit", "publish"}
