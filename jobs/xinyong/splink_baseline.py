"""A Splink 5 (DuckDB backend) baseline for enterprise resolution, on the same mentions as our resolver.

Model: a Fellegi-Sunter ``dedupe_only`` model over one row per mention.

* Comparisons: exact match on each code kind (``uscc``, ``org``, ``regno``, ``taxno``, ``customs``;
  a null on either side is Splink's neutral null level), Jaro-Winkler on ``name_norm`` (exact /
  >= 0.95 / >= 0.88 / else), exact ``legal_rep`` and exact ``is_branch``.
* Blocking (candidate pairs): equality on each code kind, on ``name_norm``, and on the first four
  characters of ``name_norm`` together with ``legal_rep`` (name variants of one registrant; both
  keys must agree, so the blocks stay small).
* Prior (probability two random mentions match): from the deterministic rules "same uscc", "same
  regno", "same customs code", assuming they find 70% of the matching pairs.
* u: random sampling of 5M pairs with a fixed seed (seconds).
* m: expectation maximisation (u fixed), on three training blocks chosen so that every comparison
  is estimated at least once and each block mixes matches with some non-matches: same ``uscc``
  (trains names, people, the other codes), same ``name_norm`` (trains every code) and same
  ``legal_rep`` (its non-matches are mostly a head office and its branch, which is what teaches
  the model that an ``is_branch`` disagreement counts against a match). EM converges on each
  and gives sensible m values on the generated data, so no m is fixed by hand.

Pairs are predicted at ``threshold`` (match probability) and clustered by connected components
at the same threshold. Mentions get integer ids inside DuckDB (far smaller blocked-pair tables
than the string ``mention_id``); every input mention comes back, singletons included.

Calibration caveat: random-sampling u takes random pairs as non-matches. With ~57 mentions per
enterprise almost every random pair agreeing on a full name is in fact a match, so u(exact name)
comes out close to prior x m, and a pair that agrees on the name and on nothing else (say a court
judgment naming the party, no code) scores about 0.55 whatever the data size. Such mentions join
their enterprise only at thresholds below that. On 10,000 generated enterprises (570k mentions)
threshold 0.9 gives pairwise F1 0.970 (recall 0.942), threshold 0.5 gives 0.999.

    python -m xinyong.splink_baseline --mentions M.parquet [--truth DIR] [--threshold 0.9] [--runs 2]
        [--clusters-out C.parquet]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

if TYPE_CHECKING:
    from splink.internals.blocking_rule_creator import BlockingRuleCreator

CODE_COLUMNS = ("uscc", "org", "regno", "taxno", "customs")
NAME_THRESHOLDS = (0.95, 0.88)
U_MAX_PAIRS = 5e6
EM_MAX_PAIRS = 2e6
EM_TRAINING_BLOCKS = ("uscc", "name_norm", "legal_rep")
PRIOR_RULES = ("uscc", "regno", "customs")
PRIOR_RECALL = 0.7


@dataclass(frozen=True)
class SplinkRun:
    clusters: dict[str, str]  # mention_id -> cluster id (every input mention present; singletons too)
    seconds: float  # wall time from the Parquet file to the clusters: loading, training, predicting
    comparisons: int  # candidate pairs scored
    threshold: float
    em_blocks_skipped: tuple[str, ...] = ()  # EM rounds Splink refused (see resolve_with_splink)


def _settings() -> SettingsCreator:
    comparisons = [
        *(cl.ExactMatch(code) for code in CODE_COLUMNS),
        cl.JaroWinklerAtThresholds("name_norm", list(NAME_THRESHOLDS)),
        cl.ExactMatch("legal_rep"),
        cl.ExactMatch("is_branch"),
    ]
    blocking = [
        *(block_on(code) for code in CODE_COLUMNS),
        block_on("name_norm"),
        block_on("substr(name_norm, 1, 4)", "legal_rep"),
    ]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=list(comparisons),
        blocking_rules_to_generate_predictions=list(blocking),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _load(con: duckdb.DuckDBPyConnection, mentions_parquet: Path) -> None:
    """The mentions as table ``mentions``: an integer ``unique_id``, blank strings as nulls."""

    def text(column: str) -> str:
        return f"nullif(trim(cast({column} as varchar)), '') as {column}"

    columns = ", ".join(text(c) for c in ("name_norm", *CODE_COLUMNS, "legal_rep"))
    con.execute(
        "create table mentions as select cast(row_number() over () as bigint) as unique_id, "  # noqa: S608
        f"cast(mention_id as varchar) as mention_id, {columns}, cast(is_branch as boolean) as is_branch "
        "from read_parquet(?)",
        [str(mentions_parquet)],
    )


def resolve_with_splink(mentions_parquet: Path, *, threshold: float = 0.9, threads: int | None = None,
                        seed: int = 42) -> SplinkRun:
    con = duckdb.connect(":memory:")
    try:
        if threads is not None:
            con.execute(f"set threads to {int(threads)}")
        # DuckDB's default (80% of RAM) lets the blocked-pair tables of ~3M mentions grow until
        # the kernel kills the process (19 GB on 24); bounded, it spills to disk instead.
        con.execute(f"set memory_limit = '{_memory_limit()}'")
        con.execute(f"set temp_directory = '{tempfile.gettempdir()}/xinyong-duckdb'")
        started = time.perf_counter()  # from the file, as our job's time is
        _load(con, mentions_parquet)

        db_api = DuckDBAPI(connection=con)
        mentions = db_api.register("mentions", dataset_display_name="mentions")
        linker = Linker(mentions, _settings(), log_level=None)
        training = linker.training
        # Rules on columns no two mentions share would find no pairs (EM refuses those): skip them.
        deterministic: list[str | BlockingRuleCreator] = [
            block_on(c) for c in PRIOR_RULES if _pairs_sharing(con, c)]
        if deterministic:
            training.estimate_probability_two_random_records_match(deterministic, recall=PRIOR_RECALL)
        training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
        skipped: list[str] = []
        for column in EM_TRAINING_BLOCKS:
            if not _pairs_sharing(con, column):
                continue
            try:
                training.estimate_parameters_using_expectation_maximisation(
                    block_on(column), max_pairs=EM_MAX_PAIRS)
            except ValueError as refused:
                # Splink 5 refuses a round whose m probability underflows to 0 (a level no pair
                # in the block reaches): the estimates of the other blocks stand, and the run says so.
                logging.getLogger(__name__).warning("Splink EM on block %s skipped: %s", column, refused)
                skipped.append(column)

        blocked = linker.inference.compute_blocked_pairs_for_predict()
        comparisons = _count(con, blocked.physical_name)
        predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        blocked.drop_table_from_database_and_remove_from_cache()
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold)
        rows = con.execute(
            f"select m.mention_id, r.mention_id from {clustered.physical_name} c "  # noqa: S608
            "join mentions m on m.unique_id = c.unique_id "
            "join mentions r on r.unique_id = c.cluster_id"
        ).fetchall()
        seconds = time.perf_counter() - started
    finally:
        con.close()
    return SplinkRun(clusters=dict(rows), seconds=seconds, comparisons=comparisons, threshold=threshold,
                     em_blocks_skipped=tuple(skipped))


def _memory_limit() -> str:
    """XINYONG_SPLINK_MEMORY_LIMIT (a DuckDB size such as 10GB), default 10GB."""
    limit = os.environ.get("XINYONG_SPLINK_MEMORY_LIMIT", "10GB")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[KMGT]i?B", limit):
        raise ValueError(f"XINYONG_SPLINK_MEMORY_LIMIT={limit!r}: expected a size such as 10GB")
    return limit


def _pairs_sharing(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    """Whether at least two mentions share a (non-null) value of ``column``."""
    found = con.execute(
        f"select 1 from mentions where {column} is not null group by {column} having count(*) > 1 limit 1"  # noqa: S608
    ).fetchall()
    return bool(found)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    ((count,),) = con.execute(f"select count(*) from {table}").fetchall()  # noqa: S608
    return int(count)


def main(argv: list[str] | None = None) -> None:
    """Resolve ``--runs`` times in this process (the first run is cold, later ones warm) and print
    one JSON object: the seconds of each run, counts, and the scores when ``--truth`` is given."""
    from xinyong.evaluate import by_record_key, read_truth, score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mentions", type=Path, required=True, help="mentions Parquet file")
    parser.add_argument("--truth", type=Path, help="directory holding records.csv: print the scores")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=1, help="resolutions in this one process")
    parser.add_argument("--clusters-out", type=Path, help="Parquet file: mention_id, cluster (last run)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    logging.getLogger("splink").setLevel(logging.ERROR)  # "level not observed" notes while training

    runs = [resolve_with_splink(args.mentions, threshold=args.threshold, threads=args.threads,
                                seed=args.seed) for _ in range(args.runs)]
    run = runs[-1]
    summary: dict[str, object] = {
        "mentions": len(run.clusters), "comparisons": run.comparisons, "threshold": run.threshold,
        "seconds": round(run.seconds, 2), "seconds_by_run": [round(r.seconds, 2) for r in runs],
        "em_blocks_skipped": list(run.em_blocks_skipped)}
    if args.clusters_out:
        pq.write_table(pa.table({"mention_id": list(run.clusters), "cluster": list(run.clusters.values())}),
                       args.clusters_out)
    if args.truth:
        summary.update(score(by_record_key(run.clusters), read_truth(args.truth)).as_dict())
    print(json.dumps(summary))  # one line: the last of stdout


if __name__ == "__main__":
    main()
