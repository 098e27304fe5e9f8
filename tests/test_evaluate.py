"""Pairwise and B-cubed scores on a case worked by hand."""

import pytest

from xinyong.evaluate import score

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
