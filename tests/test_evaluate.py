"""Pairwise and B-cubed scores on a case worked by hand."""

from collections import Counter

import pytest

from xinyong.evaluate import TrueEnterprise, evaluate, evaluate_audits, score

TRUTH = {("a", "f", "1"): "A", ("a", "f", "2"): "A", ("a", "f", "3"): "A", ("a", "f", "4"): "B"}


def test_scores_of_a_worked_example():
    predicted = {("a", "f", "1"): "X", ("a", "f", "2"): "X", ("a", "f", "3"): "Y",
                 ("a", "f", "4"): "Y"}
    scores = score(predicted, TRUTH)
    assert scores.records == 4
    assert scores.pairwise_precision == pytest.approx(1 / 2)
    assert scores.pairwise_recall == pytest.approx(1 / 3)
    assert scores.bcubed_precision == pytest.approx(3 / 4)
    assert scores.bcubed_recall == pytest.approx(2 / 3)


def test_perfect_links_score_one_and_renaming_clusters_does_not_matter():
    predicted = {key: {"A": "E9", "B": "E1"}[value] for key, value in TRUTH.items()}
    scores = score(predicted, TRUTH)
    assert scores.pairwise_f1 == 1.0 and scores.bcubed_f1 == 1.0


def test_restriction_to_a_subset():
    predicted = {key: "E1" for key in TRUTH}
    assert score(predicted, TRUTH, only=[("a", "f", "1"), ("a", "f", "2")]).pairwise_f1 == 1.0
    assert score(predicted, TRUTH).pairwise_precision == pytest.approx(3 / 6)


def test_evaluation_counts_branch_merges_renamed_splits_and_per_feed_errors():
    truth = {("aic", "reg", "H"): "head", ("aic", "reg", "B"): "branch",
             ("court", "j", "B#0"): "branch", ("aic", "reg", "R"): "renamed",
             ("court", "j", "R#0"): "renamed", ("court", "j", "R#1"): "renamed"}
    predicted = {("aic", "reg", "H"): "E1", ("aic", "reg", "B"): "E2",
                 ("court", "j", "B#0"): "E1",  # a branch's record on its head office
                 ("aic", "reg", "R"): "E3", ("court", "j", "R#0"): "E3",
                 ("court", "j", "R#1"): "E4"}  # a record under the former name left apart
    enterprises = {"head": TrueEnterprise(None, False), "branch": TrueEnterprise("head", False),
                   "renamed": TrueEnterprise(None, True)}
    report = evaluate(predicted, truth, enterprises)
    assert report["branches_merged_with_head_office"] == 1
    assert (report["renamed_enterprises"], report["renamed_enterprises_split"]) == (1, 1)
    assert report["per_feed"]["court/j"] == {"records": 3, "split": 2, "merged": 1}
    assert report["per_feed"]["aic/reg"] == {"records": 3, "split": 0, "merged": 0}
    assert (report["true_enterprises"], report["predicted_enterprises"]) == (3, 4)


def test_evaluation_of_perfect_links_finds_no_error():
    truth = {("a", "f", str(i)): f"T{i % 3}" for i in range(9)}
    enterprises = {f"T{i}": TrueEnterprise("T0" if i else None, i == 2) for i in range(3)}
    report = evaluate({k: "P" + v for k, v in truth.items()}, truth, enterprises)
    assert report["scores"]["pairwise_f1"] == report["scores"]["bcubed_f1"] == 1.0
    assert report["branches_merged_with_head_office"] == report["renamed_enterprises_split"] == 0


def test_audit_scores_map_reported_enterprises_to_true_ones():
    truth = {("a", "f", "1"): "T1", ("a", "f", "2"): "T1", ("a", "f", "3"): "T2",
             ("a", "f", "4"): "T3"}
    predicted = {("a", "f", "1"): "E1", ("a", "f", "2"): "E1", ("a", "f", "3"): "E2",
                 ("a", "f", "4"): "E3"}
    audit_truth = {"A1": {"finding": {"T1", "T2"}, "near_miss": {"T3"}}}
    findings = {("A1", "E1"), ("A1", "E3")}  # T1 found, T2 missed, near miss T3 reported
    cells = Counter((predicted[key], true) for key, true in truth.items())
    result = evaluate_audits(findings, cells, audit_truth)["A1"]
    assert (result["correct"], result["precision"], result["recall"]) == (1, 0.5, 0.5)
    assert result["near_misses_reported"] == 1
