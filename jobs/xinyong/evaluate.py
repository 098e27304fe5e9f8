"""Scoring links against the generator's ground truth: pairwise and B-cubed precision/recall.

Both measures come from the contingency table of (predicted enterprise, true enterprise)
counts, so no pair is ever materialised: linear in the number of records.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

RecordKey = tuple[str, str, str]  # (agency, feed, record_id)


@dataclass(frozen=True)
class Scores:
    records: int
    pairwise_precision: float
    pairwise_recall: float
    bcubed_precision: float
    bcubed_recall: float

    @property
    def pairwise_f1(self) -> float:
        return _f1(self.pairwise_precision, self.pairwise_recall)

    @property
    def bcubed_f1(self) -> float:
        return _f1(self.bcubed_precision, self.bcubed_recall)

    def as_dict(self) -> dict[str, float]:
        return {
            "records": self.records,
            "pairwise_precision": round(self.pairwise_precision, 5),
            "pairwise_recall": round(self.pairwise_recall, 5),
            "pairwise_f1": round(self.pairwise_f1, 5),
            "bcubed_precision": round(self.bcubed_precision, 5),
            "bcubed_recall": round(self.bcubed_recall, 5),
            "bcubed_f1": round(self.bcubed_f1, 5),
        }


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


# (predicted enterprise, true enterprise) -> records; with the feed first, per feed.
Cells = Counter[tuple[str, str]]
FeedCells = Counter[tuple[str, str, str]]


def by_record_key(clusters: Mapping[str, str]) -> dict[RecordKey, str]:
    """A resolver's clusters keyed by mention id ("agency|feed|record_id", the record id may
    itself hold "|") as clusters keyed by (agency, feed, record_id)."""
    keyed: dict[RecordKey, str] = {}
    for mention_id, cluster in clusters.items():
        agency, feed, record_id = mention_id.split("|", 2)
        keyed[(agency, feed, record_id)] = cluster
    return keyed


def score(predicted: Mapping[RecordKey, str], truth: Mapping[RecordKey, str],
          only: Iterable[RecordKey] | None = None) -> Scores:
    """Score the records present in both mappings (optionally restricted to ``only``)."""
    keys = set(predicted) & set(truth)
    if only is not None:
        keys &= set(only)
    return score_cells(Counter((predicted[k], truth[k]) for k in keys))


def score_cells(cells: Cells) -> Scores:
    predicted_sizes: Counter[str] = Counter()
    truth_sizes: Counter[str] = Counter()
    for (p, t), n in cells.items():
        predicted_sizes[p] += n
        truth_sizes[t] += n
    together = sum(_pairs(n) for n in cells.values())
    predicted_pairs = sum(_pairs(n) for n in predicted_sizes.values())
    truth_pairs = sum(_pairs(n) for n in truth_sizes.values())
    total = sum(cells.values())
    bcubed_p = sum(n * n / predicted_sizes[p] for (p, _), n in cells.items()) / total if total else 1.0
    bcubed_r = sum(n * n / truth_sizes[t] for (_, t), n in cells.items()) / total if total else 1.0
    return Scores(
        records=total,
        pairwise_precision=together / predicted_pairs if predicted_pairs else 1.0,
        pairwise_recall=together / truth_pairs if truth_pairs else 1.0,
        bcubed_precision=bcubed_p,
        bcubed_recall=bcubed_r,
    )


def read_truth(truth_dir: Path) -> dict[RecordKey, str]:
    """records.csv of `xinyong generate`: the true enterprise of every record that has one
    and is live after the set's last night (not quarantined, not deleted)."""
    with (truth_dir / "records.csv").open(encoding="utf-8", newline="") as handle:
        return {(row["agency"], row["feed"], row["record_id"]): row["enterprise_id"]
                for row in csv.DictReader(handle)
                if row["enterprise_id"] and row.get("status", "live") == "live"}


def read_links(dsn: str) -> dict[RecordKey, str]:
    from xinyong.warehouse.db import transaction

    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select agency, feed, record_id, enterprise_id from credit.record_link")
        return {(a, f, r): e for a, f, r, e in cursor.fetchall()}


def feed_cells(predicted: Mapping[RecordKey, str],
               truth: Mapping[RecordKey, str]) -> tuple[FeedCells, int]:
    """The contingency table per feed of records in both, and the true records not linked."""
    keys = predicted.keys() & truth.keys()
    cells = Counter((f"{k[0]}/{k[1]}", predicted[k], truth[k]) for k in keys)
    return cells, len(truth) - len(keys)


def _copy_truth_csv(cursor, path: Path, table: str) -> list[str]:
    """Load a truth CSV into a temp table of text columns, dropped at commit; return its header."""
    from psycopg2 import sql

    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    cursor.execute(sql.SQL("create temp table {} ({}) on commit drop").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in header)))
    with path.open("rb") as handle:
        cursor.copy_expert(sql.SQL("copy {} from stdin with (format csv, header true)").format(
            sql.Identifier(table)), handle)
    cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(table)))  # else planned as empty
    return header


def _copy_truth_records(cursor, truth_dir: Path) -> None:
    """records.csv as the temp table truth_record (a set from before records had a status:
    all live)."""
    if "status" not in _copy_truth_csv(cursor, truth_dir / "records.csv", "truth_record"):
        cursor.execute("alter table truth_record add column status text default 'live'")


def warehouse_feed_cells(dsn: str, truth_dir: Path) -> tuple[FeedCells, int]:
    """feed_cells of the published links against records.csv, counted in PostgreSQL: at full
    scale (43M records) the two mappings do not fit in a Python process's memory."""
    from xinyong.warehouse.db import transaction

    with transaction(dsn) as conn, conn.cursor() as cursor:
        _copy_truth_records(cursor, truth_dir)
        cursor.execute(
            "select l.agency || '/' || l.feed, l.enterprise_id, t.enterprise_id, count(*)"
            " from credit.record_link as l"
            " join truth_record as t using (agency, feed, record_id)"
            " where t.enterprise_id <> '' and t.status = 'live' group by 1, 2, 3")
        cells: FeedCells = Counter({(f, p, t): n for f, p, t, n in cursor.fetchall()})
        cursor.execute(
            "select count(*) from truth_record as t"
            " where t.enterprise_id <> '' and t.status = 'live' and not exists"
            " (select from credit.record_link as l where l.agency = t.agency"
            "  and l.feed = t.feed and l.record_id = t.record_id)")
        unmatched = int(cursor.fetchone()[0])
    return cells, unmatched


# The records evaluate_cells counts as errors. Home and owner are taken as _majority takes
# them: most records, ties to the greatest id.
ERRORS_QUERY = """
create temp table evaluation_error on commit drop as
with linked as (
    select l.agency, l.feed, l.record_id, l.enterprise_id, l.rule, l.evidence, l.run_id,
           t.enterprise_id as true_enterprise_id
    from resolve.link as l
    join credit.published as p on p.run_id = l.run_id
    join truth_record as t using (agency, feed, record_id)
    where t.enterprise_id <> '' and t.status = 'live'
),

cell as (
    select enterprise_id, true_enterprise_id, count(*) as records
    from linked
    group by enterprise_id, true_enterprise_id
),

home as (  -- the predicted enterprise holding most of each true one
    select distinct on (true_enterprise_id) true_enterprise_id, enterprise_id as home_enterprise_id
    from cell
    order by true_enterprise_id, records desc, enterprise_id collate "C" desc
),

owner as (  -- the true enterprise most of each predicted one is
    select distinct on (enterprise_id) enterprise_id, true_enterprise_id as owner_enterprise_id
    from cell
    order by enterprise_id, records desc, true_enterprise_id collate "C" desc
),

error as (
    select l.*, h.home_enterprise_id, o.owner_enterprise_id
    from linked as l
    join home as h using (true_enterprise_id)
    join owner as o using (enterprise_id)
    where l.enterprise_id <> h.home_enterprise_id
       or l.true_enterprise_id <> o.owner_enterprise_id
)

select * from error
"""

# What the truth and the warehouse say of each error (a few rows: looked up by key).
ERROR_DETAILS_QUERY = """
select concat_ws(',', case when e.enterprise_id <> e.home_enterprise_id then 'split' end,
                      case when e.true_enterprise_id <> e.owner_enterprise_id then 'merged' end)
           as error,
       e.agency, e.feed, e.record_id, m.name as record_name, m.named_on,
       e.true_enterprise_id, t.name as true_name, t.former_names as true_former_names,
       t.head_office_id as true_head_office_id,
       e.enterprise_id, linked_to.canonical_name as enterprise_name, e.rule, e.evidence,
       e.home_enterprise_id, home.canonical_name as home_enterprise_name, e.owner_enterprise_id
from evaluation_error as e
left join truth_enterprise as t on t.enterprise_id = e.true_enterprise_id
left join resolve.enterprise as linked_to
  on linked_to.run_id = e.run_id and linked_to.enterprise_id = e.enterprise_id
left join resolve.enterprise as home
  on home.run_id = e.run_id and home.enterprise_id = e.home_enterprise_id
left join ingest.live_mention as m
  on m.agency = e.agency and m.feed = e.feed and m.record_id = e.record_id
order by e.true_enterprise_id, e.agency, e.feed, e.record_id
"""


def write_errors(dsn: str, truth_dir: Path, out: Path) -> int:
    """Write to ``out`` (CSV) every record ``evaluate_cells`` counts as split or merged, with
    its name and date as delivered, its true enterprise (name, former names, head office), the
    enterprise it is linked to with the link's rule and evidence, and where most of its true
    enterprise went: why the links went wrong, one line per record. Returns the lines."""
    from xinyong.warehouse.db import transaction

    with transaction(dsn) as conn, conn.cursor() as cursor:
        _copy_truth_records(cursor, truth_dir)
        _copy_truth_csv(cursor, truth_dir / "enterprises.csv", "truth_enterprise")
        cursor.execute(ERRORS_QUERY)
        cursor.execute("analyze evaluation_error")
        cursor.execute(ERROR_DETAILS_QUERY)
        columns = [c.name for c in cursor.description]
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = 0
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in cursor:
                writer.writerow(json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
                                for v in row)
                lines += 1
    return lines


def enterprise_cells(cells: FeedCells) -> Cells:
    """The contingency table over all feeds."""
    merged: Cells = Counter()
    for (_, p, t), n in cells.items():
        merged[(p, t)] += n
    return merged


# --- the whole evaluation: scores, breakdowns, branches, renamed enterprises, stable ids ----

@dataclass(frozen=True)
class TrueEnterprise:
    head_office_id: str | None
    renamed: bool


def read_enterprises(truth_dir: Path) -> dict[str, TrueEnterprise]:
    """enterprises.csv of `xinyong generate`: head offices of branches and renamed ones."""
    with (truth_dir / "enterprises.csv").open(encoding="utf-8", newline="") as handle:
        return {row["enterprise_id"]: TrueEnterprise(row["head_office_id"] or None,
                                                      bool(row["former_names"]))
                for row in csv.DictReader(handle)}


def _majority(cells: Cells, side: int) -> dict[str, str]:
    """For each cluster on one side, the cluster on the other side holding most of it."""
    best: dict[str, tuple[int, str]] = {}
    for pair, n in cells.items():
        key, other = pair[side], pair[1 - side]
        if key not in best or (n, other) > best[key]:
            best[key] = (n, other)
    return {k: v[1] for k, v in best.items()}


def evaluate(predicted: Mapping[RecordKey, str], truth: Mapping[RecordKey, str],
             enterprises: Mapping[str, TrueEnterprise]) -> dict[str, object]:
    return evaluate_cells(*feed_cells(predicted, truth), enterprises)


def evaluate_cells(cells_by_feed: FeedCells, records_without_link: int,
                   enterprises: Mapping[str, TrueEnterprise]) -> dict[str, object]:
    """Scores over all records and per feed, and the errors the platform must never make.

    ``split`` counts records outside the predicted cluster holding most of their true
    enterprise, ``merged`` records inside a predicted cluster mostly made of another true
    enterprise. ``branches_merged_with_head_office`` counts predicted enterprises holding
    records of a branch and of its head office; ``renamed_enterprises_split`` the renamed
    enterprises whose records are in more than one predicted enterprise.
    """
    cells = enterprise_cells(cells_by_feed)
    home = _majority(cells, 1)  # true enterprise -> predicted cluster
    owner = _majority(cells, 0)  # predicted cluster -> true enterprise
    per_feed: dict[str, Counter[str]] = {}
    for (feed, p, t), n in cells_by_feed.items():
        counts = per_feed.setdefault(feed, Counter())
        counts["records"] += n
        counts["split"] += n if p != home[t] else 0
        counts["merged"] += n if t != owner[p] else 0
    truths_in: dict[str, set[str]] = {}
    clusters_of: dict[str, set[str]] = {}
    for p, t in cells:
        truths_in.setdefault(p, set()).add(t)
        clusters_of.setdefault(t, set()).add(p)
    branch_merges = sum(
        1 for held in truths_in.values()
        if any((e := enterprises.get(t)) and e.head_office_id in held for t in held))
    renamed = [t for t, e in enterprises.items() if e.renamed and t in clusters_of]
    return {
        "scores": score_cells(cells).as_dict(),
        "true_enterprises": len(clusters_of),
        "predicted_enterprises": len(truths_in),
        "records_without_link": records_without_link,
        "branches_merged_with_head_office": branch_merges,
        "renamed_enterprises": len(renamed),
        "renamed_enterprises_split": sum(1 for t in renamed if len(clusters_of[t]) > 1),
        "per_feed": {feed: dict(c) for feed, c in sorted(per_feed.items())},
    }


def id_moves(dsn: str) -> dict[str, int]:
    """Between the two latest resolved runs: records kept, and those whose id changed.

    An id moving is legitimate only when enterprises merged or split; the counts of both
    come from the run's recorded id changes.
    """
    from xinyong.warehouse.db import transaction

    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select run_id from resolve.night_run order by run_id desc limit 2")
        runs = [r[0] for r in cursor.fetchall()]
        if len(runs) < 2:
            return {"runs_compared": len(runs), "records_in_both": 0, "records_moved": 0,
                    "id_changes": 0}
        latest, previous = runs
        cursor.execute(
            "select count(*), count(*) filter (where a.enterprise_id <> b.enterprise_id)"
            " from resolve.link a join resolve.link b using (agency, feed, record_id)"
            " where a.run_id = %s and b.run_id = %s", (latest, previous))
        both, moved = cursor.fetchone()
        cursor.execute("select count(*) from resolve.enterprise_id_change where run_id = %s",
                       (latest,))
        changes = cursor.fetchone()[0]
    return {"runs_compared": 2, "records_in_both": both, "records_moved": moved,
            "id_changes": changes}


def format_report(report: Mapping[str, object]) -> str:
    """The evaluation as a short text table."""
    scores = report["scores"]
    assert isinstance(scores, Mapping)
    lines = [
        f"records scored      {scores['records']:>12,}",
        f"pairwise  P / R / F1  {scores['pairwise_precision']:.5f} / {scores['pairwise_recall']:.5f}"
        f" / {scores['pairwise_f1']:.5f}",
        f"B-cubed   P / R / F1  {scores['bcubed_precision']:.5f} / {scores['bcubed_recall']:.5f}"
        f" / {scores['bcubed_f1']:.5f}",
    ]
    for key in ("true_enterprises", "predicted_enterprises", "records_without_link",
                "branches_merged_with_head_office", "renamed_enterprises",
                "renamed_enterprises_split"):
        lines.append(f"{key.replace('_', ' '):<34}{report[key]:>10,}")
    moves = report.get("ids")
    if isinstance(moves, Mapping):
        lines.append(f"{'ids moved since the previous run':<34}{moves['records_moved']:>10,}"
                     f"  (of {moves['records_in_both']:,}; {moves['id_changes']} recorded merges/splits)")
    lines.append("")
    lines.append(f"{'feed':<34}{'records':>10}{'split':>8}{'merged':>8}")
    per_feed = report["per_feed"]
    assert isinstance(per_feed, Mapping)
    for feed, counts in per_feed.items():
        lines.append(f"{feed:<34}{counts['records']:>10,}{counts['split']:>8,}{counts['merged']:>8,}")
    return "\n".join(lines)


# --- audits -----------------------------------------------------------------------------------

def read_audit_truth(truth_dir: Path) -> dict[str, dict[str, set[str]]]:
    """truth/audits.csv: per audit, the true enterprises it must report (``finding``) and the
    planted near misses it must not (``near_miss``); empty when the set has none."""
    path = truth_dir / "audits.csv"
    truth: dict[str, dict[str, set[str]]] = {}
    if not path.exists():
        return truth
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            kinds = truth.setdefault(row["audit"], {"finding": set(), "near_miss": set()})
            kinds.setdefault(row["expected"], set()).add(row["enterprise_id"])
    return truth


def read_findings(dsn: str) -> set[tuple[str, str]]:
    from xinyong.warehouse.db import transaction

    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select audit, enterprise_id from credit.audit_finding")
        return {(a, e) for a, e in cursor.fetchall()}


def evaluate_audits(findings: Iterable[tuple[str, str]], cells: Cells,
                    audit_truth: Mapping[str, Mapping[str, set[str]]]) -> dict[str, dict[str, float]]:
    """Per audit: precision and recall of the reported enterprises against the truth.

    A reported enterprise stands for the true enterprise most of its records belong to;
    ``near_misses_reported`` counts planted near misses the audit wrongly reported.
    """
    owner = _majority(cells, 0)
    reported: dict[str, set[str]] = {}
    for audit, enterprise_id in findings:
        reported.setdefault(audit, set()).add(owner.get(enterprise_id, f"?{enterprise_id}"))
    result: dict[str, dict[str, float]] = {}
    for audit in sorted(set(audit_truth) | set(reported)):
        expected = set(audit_truth.get(audit, {}).get("finding", set()))
        near = set(audit_truth.get(audit, {}).get("near_miss", set()))
        got = reported.get(audit, set())
        hits = len(got & expected)
        result[audit] = {
            "expected": len(expected), "reported": len(got), "correct": hits,
            "precision": round(hits / len(got), 4) if got else 1.0,
            "recall": round(hits / len(expected), 4) if expected else 1.0,
            "near_misses": len(near), "near_misses_reported": len(got & near),
        }
    return result


def format_audits(result: Mapping[str, Mapping[str, float]]) -> str:
    lines = [f"{'audit':<6}{'expected':>10}{'reported':>10}{'correct':>9}{'precision':>11}{'recall':>8}"
             f"{'near misses':>13}{'reported':>10}"]
    for audit, r in result.items():
        lines.append(f"{audit:<6}{r['expected']:>10,}{r['reported']:>10,}{r['correct']:>9,}"
                     f"{r['precision']:>11.4f}{r['recall']:>8.4f}{r['near_misses']:>13,}"
                     f"{r['near_misses_reported']:>10,}")
    return "\n".join(lines)
