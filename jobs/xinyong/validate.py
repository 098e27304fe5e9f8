"""Data gates: Great Expectations suites run inside PostgreSQL on what each delivery loaded.

One suite per feed, ``expectations/<agency>__<feed>.json`` (GX 1.x suite JSON, hand-editable;
``write_default_suites()`` writes a starting suite for a feed that has none). A batch is the
rows one delivery brought for one feed: a table asset on ``ingest.<agency>__<feed>`` whose
batch definition partitions by column value on ``delivery_id``, run with the batch parameter
``{"delivery_id": N}``, on a SQLAlchemy (``postgresql+psycopg2``) data source. Every metric is a
SQL query with ``where delivery_id = N`` that PostgreSQL answers through the delivery_id index;
no row travels to pandas or Spark.

Every expectation's ``meta.severity`` is ``blocking`` (the load itself is wrong: publication
must stop) or ``warning`` (dirty data the contract expects: reported, never blocking). The row
count against the manifest's reconciliation (``ingest.file_load.rows_loaded``) is an expectation
whose value is the suite parameter ``rows_loaded``, filled in per batch at run time.
Results land in ``ingest.validation`` (one row per delivery, feed and expectation; validating a
delivery again replaces its rows) and as Data Docs HTML in ``docs_dir``. An expectation GX could
not evaluate because the warehouse failed (a connection lost beyond GX's retries, a statement
cancelled) is no verdict on the data: validation stops with nothing stored, and the night run
again validates the delivery again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2.extensions
from psycopg2.extras import execute_values

from xinyong.feeds import agencies, all_feeds
from xinyong.feeds.spec import Agency, Feed
from xinyong.warehouse.db import WarehouseUnavailable, transaction
from xinyong.warehouse.schema import all_columns, table_name

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)
# GX's SQL engine logs every statement that failed at ERROR with its traceback, also those it
# then retries; the results say what failed, and a failure of the warehouse stops validation.
_GX_SQL_LOG = "great_expectations.execution_engine.sqlalchemy_execution_engine"

SEVERITIES = ("blocking", "warning")
# GX's own severity field mirrors meta.severity so Data Docs show it too.
_GX_SEVERITY = {"blocking": "critical", "warning": "warning"}
# Counts of unexpected values, no examples: GX fetches examples with one more query per
# column expectation, which scans the whole batch whenever the expectation passes (measured:
# half of the validation time). Raise partial_unexpected_count to get examples back.
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
DOCS_SITE = "xinyong"

# Value sets the contract gives: (agency, feed) -> {column: allowed values}.
VALUE_SETS: dict[tuple[str, str], dict[str, list[str]]] = {
    ("aic", "registrations"): {"status": ["存续", "在业", "吊销", "注销", "迁出"]},
    ("state_tax", "credit_ratings"): {"rating": ["A", "B", "M", "C", "D"]},
    ("customs", "credit_ratings"): {
        "credit_level": ["高级认证企业", "一般认证企业", "一般信用企业", "失信企业"]},
    ("customs", "declarations"): {"ie_flag": ["I", "E"]},
    ("quality", "product_inspections"): {"verdict": ["合格", "不合格"]},
    ("court", "judgments"): {"party_type": ["法人", "自然人"],
                             "party_role": ["原告", "被告", "第三人"]},
}
# Formats the contract gives: (agency, feed) -> {column: regex}.
PATTERNS: dict[tuple[str, str], dict[str, str]] = {
    ("customs", "declarations"): {"currency": "^[A-Z]{3}$", "entry_id": "^[0-9]{18}$"},
}
# Thresholds of the warnings: the contract promises dirty codes and names at a low rate.
CODE_VALID_MOSTLY = 0.9
NAME_PRESENT_MOSTLY = 0.95
VALUE_SET_MOSTLY = 0.98


def expectations_dir() -> Path:
    configured = os.environ.get("XINYONG_EXPECTATIONS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "expectations"


def suite_name(agency: Agency, feed: Feed) -> str:
    return table_name(agency, feed)


# --------------------------------------------------------------------------- default suites

def _expectation(type_: str, severity: str, why: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": {"severity": severity, "why": why}}


def default_suite(agency: Agency, feed: Feed) -> dict[str, Any]:
    """A starting suite derived from the feed spec and the contract's value sets."""
    key = (agency.code, feed.feed)
    per_party = bool(feed.mention_columns)  # judgments: one row per party, not per record
    expectations = [
        _expectation(
            "expect_table_columns_to_match_set", "blocking",
            "the table is derived from the feed spec; a missing column means the warehouse and "
            "the spec disagree (run `xinyong db migrate`)",
            column_set=[name for name, _ in all_columns(feed)], exact_match=False),
        _expectation(
            "expect_column_unique_value_count_to_be_between", "blocking",
            "every record the reconciliation counts as loaded is in the table (one row per "
            "party here, so distinct delivered lines are counted)",
            column="line_no", min_value={"$PARAMETER": "rows_loaded"},
            max_value={"$PARAMETER": "rows_loaded"},
        ) if per_party else _expectation(
            "expect_table_row_count_to_equal", "blocking",
            "rows in the table for this delivery = rows_loaded of ingest.file_load",
            value={"$PARAMETER": "rows_loaded"}),
        _expectation("expect_column_values_to_be_in_set", "blocking",
                     "history is applied by operation code; the loader quarantines any other",
                     column="op", value_set=["I", "U", "D"]),
    ]
    for column in ("record_key", "record_id"):
        expectations.append(_expectation(
            "expect_column_values_to_not_be_null", "blocking",
            "I/U/D and the resolver's links are keyed on it; the loader quarantines rows without",
            column=column))
    for code in feed.code_fields:
        expectations.append(_expectation(
            "expect_column_values_to_be_in_set", "warning",
            "share of delivered codes whose check character holds (empty codes not counted)",
            column=f"{code}_valid", value_set=[True], mostly=CODE_VALID_MOSTLY))
        expectations.append(_expectation(
            "expect_column_values_to_be_in_set", "warning",
            "codes of a kind the column is not meant to hold: codes in the wrong column",
            column=f"{code}_kind", value_set=list(feed.field_by_name(code).codes),
            mostly=CODE_VALID_MOSTLY))
    name_column = feed.name_field or ("party_name" if per_party else None)
    if name_column:
        expectations.append(_expectation(
            "expect_column_values_to_not_be_null", "warning",
            "the name is what links records without a valid code to an enterprise",
            column=name_column, mostly=NAME_PRESENT_MOSTLY))
    for column, values in VALUE_SETS.get(key, {}).items():
        expectations.append(_expectation(
            "expect_column_values_to_be_in_set", "warning",
            "value set of the feed contract; the loader keeps other values as delivered",
            column=column, value_set=values, mostly=VALUE_SET_MOSTLY))
    for column, regex in PATTERNS.get(key, {}).items():
        expectations.append(_expectation(
            "expect_column_values_to_match_regex", "warning",
            "format of the feed contract", column=column, regex=regex, mostly=VALUE_SET_MOSTLY))
    return {
        "name": suite_name(agency, feed),
        "meta": {"agency": agency.code, "feed": feed.feed, "file": feed.file,
                 "table": f"ingest.{table_name(agency, feed)}",
                 "batch": "the rows of one delivery: where delivery_id = <id>",
                 "parameters": {"rows_loaded": "ingest.file_load.rows_loaded of the delivery"}},
        "expectations": expectations,
    }


def write_default_suites(directory: Path | None = None, *, overwrite: bool = False) -> list[Path]:
    """Write a starting suite for every feed that has none (all of them with overwrite)."""
    directory = directory or expectations_dir()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for agency, feed in all_feeds():
        path = directory / f"{suite_name(agency, feed)}.json"
        if path.exists() and not overwrite:
            continue
        text = json.dumps(default_suite(agency, feed), ensure_ascii=False, indent=2)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written


def load_suite(path: Path) -> dict[str, Any]:
    """A committed suite, checked for what the gate relies on (every severity declared)."""
    suite = json.loads(path.read_text(encoding="utf-8"))
    for number, expectation in enumerate(suite.get("expectations", []), start=1):
        severity = expectation.get("meta", {}).get("severity")
        if severity not in SEVERITIES:
            raise ValueError(f"{path}: expectation {number} ({expectation.get('type')}) needs "
                             f"meta.severity 'blocking' or 'warning', not {severity!r}")
    return dict(suite)


# --------------------------------------------------------------------------- running

@dataclass
class Outcome:
    delivery_id: int
    agency: str
    folder: str
    feed: str
    expectation: str  # e.g. expect_column_values_to_be_in_set(status)
    severity: str
    success: bool
    observed: dict[str, Any]
    message: str | None = None  # for failures: what was found, and why it matters


@dataclass
class ValidationReport:
    delivery_ids: list[int]
    passed: int = 0
    warnings: int = 0  # failed warning expectations
    blocking: int = 0  # failed blocking expectations
    docs_index: Path | None = None
    blocking_failures: list[str] = field(default_factory=list)
    warning_failures: list[str] = field(default_factory=list)
    seconds_per_feed: dict[str, float] = field(default_factory=dict)  # summed over deliveries
    seconds_setup: float = 0.0  # importing GX, the context, the data source
    seconds_docs: float = 0.0
    seconds: float = 0.0  # the whole call

    @property
    def ok(self) -> bool:
        return self.blocking == 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["docs_index"] = str(self.docs_index) if self.docs_index else None
        return data


@dataclass(frozen=True)
class _Batch:
    delivery_id: int
    agency: Agency
    folder: str
    feed: Feed
    rows_loaded: int

    @property
    def label(self) -> str:
        return f"{self.agency.code}/{self.folder} {self.feed.feed} (delivery {self.delivery_id})"


def deliveries_to_validate(cursor) -> list[int]:
    """Loaded deliveries with a file not validated yet (e.g. a night that stopped after ingest)."""
    cursor.execute(
        "select distinct d.delivery_id from ingest.delivery d"
        " join ingest.file_load f using (delivery_id)"
        " where d.status = 'loaded' and not exists (select 1 from ingest.validation v"
        "  where v.delivery_id = f.delivery_id and v.feed = f.feed)"
        " order by d.delivery_id")
    return [int(row[0]) for row in cursor.fetchall()]


def validate_deliveries(dsn: str, delivery_ids: list[int], docs_dir: Path) -> ValidationReport:
    """Run each feed's suite on the rows every loaded delivery of ``delivery_ids`` brought,
    store the outcomes in ingest.validation and build Data Docs in ``docs_dir``."""
    started = time.monotonic()
    report = ValidationReport(delivery_ids=sorted(set(delivery_ids)))
    with transaction(dsn, application="xinyong-validate") as conn, conn.cursor() as cursor:
        batches = _batches(cursor, report.delivery_ids)
    if not batches:
        report.seconds = round(time.monotonic() - started, 2)
        return report

    context = _context(docs_dir)
    if not log.isEnabledFor(logging.INFO):  # `xinyong run` without -v: one line of ours
        logging.getLogger(_GX_SQL_LOG).setLevel(logging.CRITICAL)
    from great_expectations.exceptions.exceptions import NoAvailableBatchesError
    from sqlalchemy.engine import make_url

    url = sqlalchemy_url(dsn)
    # GX's postgres source validates its URL as a pydantic PostgresDsn, which requires a host
    # name: a unix-socket DSN (the embedded development server) takes the generic SQL source.
    add = (context.data_sources.add_postgres if make_url(url).host
           else context.data_sources.add_sql)
    with warnings.catch_warnings():  # the generic source is chosen on purpose, see above
        warnings.filterwarnings("ignore", message=".*generic SQLDatasource.*")
        source = add("warehouse", connection_string=url)
    report.seconds_setup = round(time.monotonic() - started, 2)
    definitions: dict[str, Any] = {}  # one asset, batch definition and suite per feed
    outcomes: list[Outcome] = []
    for batch in batches:
        batch_started = time.monotonic()
        name = suite_name(batch.agency, batch.feed)
        if name not in definitions:
            definitions[name] = _validation_definition(context, source, name)
        if definitions[name] is None:
            outcomes.append(_missing_suite(batch, name))
            continue
        try:
            result = definitions[name].run(
                batch_parameters={"delivery_id": batch.delivery_id},
                expectation_parameters={"rows_loaded": batch.rows_loaded},
                result_format=RESULT_FORMAT, run_id=_run_id(batch))
        except NoAvailableBatchesError:  # no row of this delivery in the table
            outcomes.append(_empty_batch(batch))
            continue
        if failure := _warehouse_failure(result.results):
            raise WarehouseUnavailable(f"the warehouse failed while validating {batch.label}:"
                                       f" {failure}")
        outcomes += _outcomes(batch, result.results)
        report.seconds_per_feed[name] = round(
            report.seconds_per_feed.get(name, 0.0) + time.monotonic() - batch_started, 3)

    _store(dsn, batches, outcomes)
    docs_started = time.monotonic()
    docs = context.build_data_docs(site_names=[DOCS_SITE])
    report.docs_index = Path(docs_dir) / "index.html" if DOCS_SITE in docs else None
    report.seconds_docs = round(time.monotonic() - docs_started, 2)
    for outcome in outcomes:
        if outcome.success:
            report.passed += 1
        elif outcome.severity == "blocking":
            report.blocking += 1
            report.blocking_failures.append(outcome.message or outcome.expectation)
        else:
            report.warnings += 1
            report.warning_failures.append(outcome.message or outcome.expectation)
    report.seconds = round(time.monotonic() - started, 2)
    log.info("validated %d batches: %d passed, %d warnings, %d blocking, %.1f s; docs %s",
             len(batches), report.passed, report.warnings, report.blocking, report.seconds,
             report.docs_index)
    return report


def blocking_failures(cursor, delivery_ids: Sequence[int]) -> list[str]:
    """What forbids publishing these deliveries: failed blocking expectations, and loaded
    files that were never validated (a gate that did not run is not a gate that passed)."""
    ids = sorted(set(delivery_ids))
    cursor.execute(
        "select v.message from ingest.validation v where v.delivery_id = any(%s)"
        " and v.severity = 'blocking' and not v.success order by v.delivery_id, v.feed,"
        " v.expectation", (ids,))
    problems = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "select d.agency, d.folder, f.feed, d.delivery_id from ingest.delivery d"
        " join ingest.file_load f using (delivery_id)"
        " where d.delivery_id = any(%s) and d.status = 'loaded' and not exists"
        "  (select 1 from ingest.validation v where v.delivery_id = f.delivery_id"
        "   and v.feed = f.feed) order by d.delivery_id, f.feed", (ids,))
    problems += [f"{agency}/{folder} {feed} (delivery {delivery_id}): not validated"
                 for agency, folder, feed, delivery_id in cursor.fetchall()]
    return problems


def sqlalchemy_url(dsn: str) -> str:
    """The libpq DSN (URI or key=value) as a SQLAlchemy URL with the psycopg2 driver (GX's
    SQL data sources need a URL; SQLAlchemy 2.1 would pick psycopg 3 for postgresql://) whose
    search_path is the ingest schema."""
    from sqlalchemy.engine import URL

    params = psycopg2.extensions.parse_dsn(dsn)
    # Feed tables by bare name: GX 1.14+ deprecates a table asset's own schema_name.
    params["options"] = f"{params.get('options', '')} -c search_path=ingest".strip()
    port = params.pop("port", None)
    host = params.pop("host", None)
    if host and (host.startswith("/") or "," in host):  # a socket directory or several hosts
        params.update(host=host, **({"port": port} if port else {}))
        host = port = None
    url = URL.create(
        "postgresql+psycopg2", username=params.pop("user", None),
        password=params.pop("password", None), host=host,
        port=int(port) if port else None, database=params.pop("dbname", None),
        query=params)
    return url.render_as_string(hide_password=False)


def _batches(cursor, delivery_ids: list[int]) -> list[_Batch]:
    cursor.execute(
        "select d.delivery_id, d.agency, d.folder, f.feed, f.rows_loaded from ingest.delivery d"
        " join ingest.file_load f using (delivery_id)"
        " where d.delivery_id = any(%s) and d.status = 'loaded' order by d.delivery_id, f.file",
        (delivery_ids,))
    registry = agencies()
    batches = []
    for delivery_id, agency_code, folder, feed_name, rows_loaded in cursor.fetchall():
        agency = registry[agency_code]
        feed = next(f for f in agency.feeds if f.feed == feed_name)
        batches.append(_Batch(int(delivery_id), agency, folder, feed, int(rows_loaded)))
    return batches


def _context(docs_dir: Path) -> AbstractDataContext:
    """An ephemeral context configured here: nothing but the Data Docs touches the disk, so
    the connection string (with its password) is never written anywhere."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={DOCS_SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(Path(docs_dir).resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }},
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _validation_definition(context: AbstractDataContext, source: Any, name: str) -> Any:
    """The feed's suite on a batch definition of its table partitioned by delivery_id (None
    without a suite file).

    Not a query asset (``select * ... where delivery_id = N``): GX 1.24 reads a query asset's
    columns by executing the bare query, and psycopg2 would fetch the whole delivery into
    memory. A table asset reads its columns from the catalog and filters every metric query
    with ``where delivery_id = N``. GX only validates datetime partitioners when a batch
    definition is added, hence ``validate_partitioner=False`` for this column-value one."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.partitioners import PartitionerColumnValue

    path = expectations_dir() / f"{name}.json"
    if not path.is_file():
        return None
    suite = load_suite(path)
    expectations = [dict(e, severity=_GX_SEVERITY[e["meta"]["severity"]])
                    for e in suite.get("expectations", [])]
    gx_suite = context.suites.add(ExpectationSuite(
        name=name, expectations=expectations, meta=suite.get("meta") or {}))
    asset = source.add_table_asset(name, table_name=name)
    batch_definition = asset.add_batch_definition(
        "delivery", partitioner=PartitionerColumnValue(column_name="delivery_id"),
        validate_partitioner=False)
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=gx_suite))


def _run_id(batch: _Batch) -> Any:
    from great_expectations.core.run_identifier import RunIdentifier

    # The run name becomes a folder of the Data Docs: no slashes.
    return RunIdentifier(run_name=f"{batch.agency.code}-{batch.folder}-delivery-{batch.delivery_id}",
                         run_time=datetime.now(UTC))


def _missing_suite(batch: _Batch, name: str) -> Outcome:
    return Outcome(
        batch.delivery_id, batch.agency.code, batch.folder, batch.feed.feed, "suite_present",
        "blocking", False, {},
        f"{batch.label}: no suite {name}.json in {expectations_dir()} "
        "(xinyong.validate.write_default_suites() writes a starting one)")


def _empty_batch(batch: _Batch) -> Outcome:
    """A delivery with no row in the table: right for an empty file, a lost load otherwise."""
    success = batch.rows_loaded == 0
    return Outcome(
        batch.delivery_id, batch.agency.code, batch.folder, batch.feed.feed, "rows_present",
        "blocking", success, {"observed_value": 0, "rows_loaded": batch.rows_loaded},
        None if success else f"{batch.label}: no row of this delivery in the table, although "
        f"ingest.file_load counts {batch.rows_loaded} loaded")


def _outcomes(batch: _Batch, results: list[ExpectationValidationResult]) -> list[Outcome]:
    from great_expectations.util import convert_to_json_serializable

    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for result in results:
        config = result.expectation_config
        assert config is not None
        label = _label(config.type, config.kwargs)
        while label in seen:  # the same check twice on one column: keep both rows
            label += "'"
        seen.add(label)
        severity = str(config.meta.get("severity"))
        observed = dict(convert_to_json_serializable(result.result or {}))
        if raised := _exceptions(result):
            observed["exception"] = raised[0].get("exception_message")
        # The bounds as run (parameters filled in), so a stored row explains itself.
        expected = {k: config.kwargs[k] for k in ("value", "min_value", "max_value")
                    if config.kwargs.get(k) is not None}
        if expected:
            observed["expected"] = expected
        success = bool(result.success)
        message = None if success else (
            f"{batch.label}: {label} failed ({severity}): {_detail(config.kwargs, observed)}"
            f" — {config.meta.get('why', '')}".rstrip(" —"))
        outcomes.append(Outcome(batch.delivery_id, batch.agency.code, batch.folder,
                                batch.feed.feed, label, severity, success, observed, message))
    return outcomes


def _exceptions(result: ExpectationValidationResult) -> list[dict[str, Any]]:
    """What GX caught evaluating an expectation: one exception info, or one per metric it gave
    up on after its retries (keyed by metric)."""
    info = result.exception_info or {}
    infos = [info] if "raised_exception" in info else [
        value for value in info.values() if isinstance(value, dict)]
    return [dict(item) for item in infos if item.get("raised_exception")]


# A DB-API OperationalError or InterfaceError as SQLAlchemy names it in GX's record of it.
_WAREHOUSE_ERROR = re.compile(r"(?:sqlalchemy\.exc\.|psycopg2\.)(?:OperationalError|InterfaceError)")


def _warehouse_failure(results: list[ExpectationValidationResult]) -> str | None:
    """The first error of the warehouse itself among the expectations' exceptions, as the
    driver gave it, in one line (the SQL that SQLAlchemy appends left out), or None."""
    for result in results:
        for info in _exceptions(result):
            message = str(info.get("exception_message") or "")
            if _WAREHOUSE_ERROR.search(f"{message}\n{info.get('exception_traceback') or ''}"):
                driver = re.search(r"\(psycopg2[\w.]*\)[^\[]*", message)  # not GX's wrapping
                return " ".join((driver.group() if driver else message).split()).rstrip('". ')
    return None


def _label(type_: str, kwargs: dict[str, Any]) -> str:
    target = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
    return f"{type_}({target})" if target else type_


def _detail(kwargs: dict[str, Any], observed: dict[str, Any]) -> str:
    if "exception" in observed:
        return f"could not be evaluated: {observed['exception']}"
    if "unexpected_count" in observed:
        allowed = 100 * (1 - float(kwargs.get("mostly") or 1))
        examples = [item.get("value") for item in observed.get("partial_unexpected_counts", [])]
        # GX counts the share among non-null values (nulls are another expectation's business).
        checked = int(observed.get("element_count") or 0) - int(observed.get("missing_count") or 0)
        return (f"{observed['unexpected_count']} of {checked} non-null values unexpected "
                f"({float(observed.get('unexpected_percent') or 0):.1f}%, allowed {allowed:.0f}%)"
                + (f", e.g. {examples[:5]}" if examples else ""))
    mismatched = observed.get("details", {}).get("mismatched")
    if mismatched:
        return f"columns {mismatched}"
    expected = observed.get("expected", {})
    low, high = expected.get("min_value"), expected.get("max_value")
    wanted = expected.get("value", low if low == high else f"between {low} and {high}")
    return f"observed {observed.get('observed_value')!r}, expected {wanted}"


def _store(dsn: str, batches: list[_Batch], outcomes: list[Outcome]) -> None:
    """Replace the rows of every validated (delivery, feed) in one transaction."""
    with transaction(dsn, application="xinyong-validate") as conn, conn.cursor() as cursor:
        execute_values(
            cursor,
            "delete from ingest.validation v using (values %s) as b (delivery_id, feed)"
            " where v.delivery_id = b.delivery_id and v.feed = b.feed",
            sorted({(b.delivery_id, b.feed.feed) for b in batches}))
        execute_values(
            cursor,
            "insert into ingest.validation (delivery_id, agency, feed, expectation, severity,"
            " success, observed, message) values %s",
            [(o.delivery_id, o.agency, o.feed, o.expectation, o.severity, o.success,
              json.dumps(o.observed, ensure_ascii=False, default=str), o.message)
             for o in outcomes])
