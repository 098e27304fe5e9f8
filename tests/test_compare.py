"""The comparison's table: both runs of each tool and the ratios of their times."""

from __future__ import annotations

from xinyong.compare import format_table, time_ratios

SCORES = {"pairwise_precision": 1.0, "pairwise_recall": 0.99, "pairwise_f1": 0.99497,
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
