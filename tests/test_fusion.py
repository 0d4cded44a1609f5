"""Rank fusion and score fusion on hand-written lists."""
import numpy as np
import pytest

from qa.fusion import rrf, scaled, score_fusion


def test_item_ranked_well_by_both_wins():
    fused = rrf([["a", "b", "c"], ["b", "c", "a"]], k=60)
    assert [item for item, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_weights_tilt_the_result():
    assert rrf([["a", "b"], ["b", "a"]], weights=[2.0, 1.0])[0][0] == "a"
    assert rrf([["a", "b"], ["b", "a"]], weights=[1.0, 2.0])[0][0] == "b"


def test_items_in_one_list_only_are_kept_and_ties_are_stable():
    fused = rrf([["x"], ["y"]])
    assert [item for item, _ in fused] == ["x", "y"]


def test_empty_and_mismatched_inputs():
    assert rrf([[], []]) == []
    with pytest.raises(ValueError, match="2 rankings but 1 weights"):
        rrf([["a"], ["b"]], weights=[1.0])


def test_a_ranking_of_weight_zero_is_left_out():
    assert rrf([["a", "b"], ["c", "a"]], weights=[1.0, 0.0]) == rrf([["a", "b"]])
    assert [item for item, _ in rrf([["a"], ["c", "a"]], weights=[0.0, 1.0])] == ["c", "a"]


def test_scaled_maps_the_best_to_one_and_the_floor_to_zero():
    assert list(scaled(np.array([0.8, 0.6, 0.7]))) == pytest.approx([1.0, 0.0, 0.5])
    # BM25: 0 means no word in common, so it stays 0 however the candidates score
    assert list(scaled(np.array([4.0, 2.0]), floor=0.0)) == pytest.approx([1.0, 0.5])
    assert list(scaled(np.array([3.0, 3.0]))) == [0.0, 0.0]
    assert scaled(np.array([])).size == 0


def test_score_fusion_keeps_how_far_apart_the_scores_are():
    # Rank fusion only sees that "b" is second for both rankers; the scores say "a" is far
    # ahead for dense and barely behind for BM25, so "a" wins the mix.
    dense = scaled(np.array([0.90, 0.70, 0.69]))
    bm25 = scaled(np.array([9.5, 10.0, 0.0]), floor=0.0)
    fused = score_fusion(["a", "b", "c"], [dense, bm25], [0.5, 0.5])
    assert [item for item, _ in fused] == ["a", "b", "c"]
    assert fused[0][1] == pytest.approx(0.5 + 0.5 * 0.95)
    assert [item for item, _ in rrf([["a", "b", "c"], ["b", "a"]], [0.5, 1.0])][0] == "b"


def test_score_fusion_weights_and_ties():
    signals = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    assert score_fusion(["x", "y"], signals, [0.7, 0.3])[0][0] == "x"
    assert score_fusion(["x", "y"], signals, [0.3, 0.7])[0][0] == "y"
    assert [item for item, _ in score_fusion(["x", "y"], signals, [0.5, 0.5])] == ["x", "y"]  # a tie keeps the given order
    with pytest.raises(ValueError, match="2 signals but 1 weights"):
        score_fusion(["x", "y"], signals, [1.0])
    with pytest.raises(ValueError, match="one score per item"):
        score_fusion(["x"], signals, [0.5, 0.5])
