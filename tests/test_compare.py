"""The comparison's table: both runs of each tool and the ratios of their times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xinyong import cli
from xinyong.compare import format_table, result_row, time_ratios

SCORES: dict[str, Any] = {"pairwise_precision": 1.0, "pairwise_recall": 0.99, "pairwise_f1": 0.99497,
          "bcubed_precision": 1.0, "bcubed_recall": 0.99, "bcubed_f1": 0.99497,
          "predicted_enterprises": 1200, "branches_merged_with_head_office": 0,
          "renamed_enterprises_split": 0}


def test_ratios_set_cold_against_cold_and_warm_against_warm() -> None:
    results = [{"tool": "xinyong (Spark)", "seconds": 40.0, "warm_seconds": 30.0,
                "whole_job_seconds": [48.0, 36.0], **SCORES},
               {"tool": "Splink t0.9", "seconds": 25.0, "warm_seconds": 20.0, **SCORES},
               {"tool": "Splink t0.5", "seconds": 16.0, "warm_seconds": None, **SCORES}]
    assert time_ratios(results) == [
        "- xinyong's time to its links over Splink t0.9: cold 1.60x, warm 1.50x",
        "- xinyong's time to its links over Splink t0.5: cold 2.50x",
        "- xinyong's whole job (links, golden records, id changes and dropped keys written, then counted):"
        " cold 48.0 s, warm 36.0 s",
        "- its whole job over Splink t0.9: cold 1.92x, warm 1.80x",
        "- its whole job over Splink t0.5: cold 3.00x",
    ]
    table = format_table({"mentions": 5000, "machine": "x86_64", "spark_session_seconds": 2.0,
                          "results": results})
    assert "| xinyong (Spark) | 40.0 | 30.0 | 1.00000 | 0.99000 | 0.99497 |" in table
    assert "| Splink t0.5 | 16.0 |  | 1.00000 |" in table
    assert table.endswith("cold 3.00x\n")


REPORT = {"scores": SCORES, **SCORES}  # as evaluate.evaluate reports, for the rows' columns


def test_repeated_processes_give_each_tool_its_median_and_range() -> None:
    ours = result_row("xinyong (Spark)", [[41.0, 30.5], [35.2, 28.0], [38.4, 29.9]], REPORT)
    splink = result_row("Splink t0.5", [[16.1, 16.2], [21.0, 15.0], [18.0, 17.5]], REPORT)
    assert (ours["seconds"], ours["warm_seconds"]) == (38.4, 29.9)
    assert ours["samples"] == {"cold": [41.0, 35.2, 38.4], "warm": [30.5, 28.0, 29.9]}
    table = format_table({"mentions": 5000, "machine": "x86_64", "spark_session_seconds": 2.0,
                          "repeats": 3, "results": [ours, splink]})
    assert "median (and range) of 3 such processes per tool" in table
    assert "| xinyong (Spark) | 38.4 (35.2-41.0) | 29.9 (28.0-30.5) |" in table
    assert "| Splink t0.5 | 18.0 (16.1-21.0) | 16.2 (15.0-17.5) |" in table
    assert "- xinyong's time to its links over Splink t0.5: cold 2.13x, warm 1.85x" in table


def test_one_process_of_one_run_has_no_warm_time() -> None:
    row = result_row("Splink t0.9", [[25.0]], REPORT)
    assert (row["seconds"], row["warm_seconds"], row["samples"]) == (25.0, None, {"cold": [25.0], "warm": []})


@pytest.mark.parametrize("arguments", [["--compare-repeats", "2"],
                                       ["--compare-splink", "seed7", "--compare-repeats", "0"]])
def test_repeats_are_refused_without_a_comparison_or_below_one(arguments: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--compare-repeats N"):
        cli.main(["evaluate", "--truth", str(tmp_path), *arguments])
