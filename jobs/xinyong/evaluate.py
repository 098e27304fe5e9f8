"""Scoring links against the generator's ground truth: pairwise and B-cubed precision/recall.

Both measures come from the contingency table of (predicted enterprise, true enterprise)
counts, so no pair is ever materialised: linear in the number of records.
"""

from __future__ import annotations

import csv
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


def score(predicted: Mapping[RecordKey, str], truth: Mapping[RecordKey, str],
          only: Iterable[RecordKey] | None = None) -> Scores:
    """Score the records present in both mappings (optionally restricted to ``only``)."""
    keys = set(predicted) & set(truth)
    if only is not None:
        keys &= set(only)
    cells: Counter[tuple[str, str]] = Counter((predicted[k], truth[k]) for k in keys)
    predicted_sizes: Counter[str] = Counter()
    truth_sizes: Counter[str] = Counter()
    for (p, t), n in cells.items():
        predicted_sizes[p] += n
        truth_sizes[t] += n
    together = sum(_pairs(n) for n in cells.values())
    predicted_pairs = sum(_pairs(n) for n in predicted_sizes.values())
    truth_pairs = sum(_pairs(n) for n in truth_sizes.values())
    total = len(keys)
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
    """records.csv of `xinyong generate`: the true enterprise of every record that has one."""
    with (truth_dir / "records.csv").open(encoding="utf-8", newline="") as handle:
        return {(row["agency"], row["feed"], row["record_id"]): row["enterprise_id"]
                for row in csv.DictReader(handle) if row["enterprise_id"]}


def read_links(dsn: str) -> dict[RecordKey, str]:
    from xinyong.warehouse.db import transaction

    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select agency, feed, record_id, enterprise_id from credit.record_link")
        return {(a, f, r): e for a, f, r, e in cursor.fetchall()}
