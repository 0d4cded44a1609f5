"""Reciprocal rank fusion on hand-written lists."""
import pytest

from qa.fusion import rrf


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
