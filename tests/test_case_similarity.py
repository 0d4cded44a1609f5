"""Case-to-case similarity as numbers (qa/similarity.py) and the benchmark's precision and
cross-validation (bench/cases.py), on hand-made vectors and texts (SYNTHETIC)."""
import numpy as np
import pytest

from bench.cases import cross_validated, precision, smaller_corpora
from qa.similarity import CaseSimilarity, SimilaritySettings, normalized

# Two groups of cases, both in a narrow cone around one shared direction (as mean vectors of
# one domain's text are).
CONE = 10.0
GROUP = {0: "a", 1: "a", 2: "a", 3: "b", 4: "b", 5: "b"}
TEXTS = ["信貸審批小微", "信貸小微抵押", "審批小微農戶", "碳賬戶綠色債券", "綠色債券承銷", "碳賬戶能耗綠色"]


def _vectors() -> np.ndarray:
    rng = np.random.default_rng(7)
    shared = np.zeros(16)
    shared[0] = CONE
    signal = {"a": np.eye(16)[1], "b": np.eye(16)[2]}
    rows = [shared + signal[GROUP[i]] + 0.2 * rng.standard_normal(16) for i in range(6)]
    return normalized(np.array(rows))


def _nearest(matrix: np.ndarray) -> list[int]:
    m = matrix.copy()
    np.fill_diagonal(m, -np.inf)
    return list(np.argmax(m, axis=1))


def test_raw_cosines_sit_in_a_narrow_band_and_centering_spreads_them():
    vectors = _vectors()
    raw = vectors @ vectors.T
    off = raw[~np.eye(6, dtype=bool)]
    assert off.max() - off.min() < 0.03  # the cone
    similarity = CaseSimilarity(vectors, TEXTS, SimilaritySettings(dense_weight=1.0))
    centered = similarity.dense[~np.eye(6, dtype=bool)]
    assert centered.max() - centered.min() > 1.0
    # centered, every case's nearest is in its own group
    assert all(GROUP[j] == GROUP[i] for i, j in enumerate(_nearest(similarity.dense)))


def test_lexical_similarity_follows_shared_words():
    similarity = CaseSimilarity(_vectors(), TEXTS, SimilaritySettings(dense_weight=0.0))
    assert all(GROUP[j] == GROUP[i] for i, j in enumerate(_nearest(similarity.lexical)))
    assert similarity.lexical[0, 3] == 0.0  # nothing shared


def test_scores_are_percentiles_of_the_corpus_pairs():
    similarity = CaseSimilarity(_vectors(), TEXTS)
    scores = similarity.percentile(similarity.matrix)
    off = scores[~np.eye(6, dtype=bool)]
    assert off.min() == 0.0 and off.max() < 100.0 and np.all((0 <= off) & (off <= 100))
    m = similarity.matrix
    assert np.array_equal(np.argsort(m[0], kind="stable"), np.argsort(similarity.percentile(m[0]), kind="stable"))
    within, across = [scores[i, j] for i in range(6) for j in range(6) if i != j and GROUP[i] == GROUP[j]], [
        scores[i, j] for i in range(6) for j in range(6) if GROUP[i] != GROUP[j]]
    assert min(within) > max(across)


def test_a_new_text_and_vector_meet_the_cases_like_a_case_does():
    vectors = _vectors()
    similarity = CaseSimilarity(vectors, TEXTS)
    final, dense, case_dense, lexical = similarity.against(vectors[3], TEXTS[3])
    assert np.allclose(dense, similarity.dense[3]) and np.allclose(lexical, similarity.lexical[3]) and case_dense is None
    assert int(np.argmax(final)) == 3 and {int(i) for i in np.argsort(-final)[:3]} == {3, 4, 5}


def _case_model_vectors() -> np.ndarray:
    """A second view of the six cases that groups them differently: {0, 1, 3} and {2, 4, 5}."""
    rng = np.random.default_rng(11)
    shared = np.zeros(12)
    shared[0] = CONE
    group = {0: 1, 1: 1, 3: 1, 2: 2, 4: 2, 5: 2}
    return normalized(np.array([shared + np.eye(12)[group[i]] + 0.2 * rng.standard_normal(12) for i in range(6)]))


def test_the_case_model_s_centered_cosine_is_mixed_into_the_dense_part_by_its_weight():
    vectors, second = _vectors(), _case_model_vectors()
    without = CaseSimilarity(vectors, TEXTS, SimilaritySettings(dense_weight=1.0))
    weightless = CaseSimilarity(vectors, TEXTS, SimilaritySettings(dense_weight=1.0, case_model_weight=0.0), case_vectors=second)
    assert np.allclose(weightless.matrix, without.matrix)  # weight 0: the passage vectors alone
    only = CaseSimilarity(vectors, TEXTS, SimilaritySettings(dense_weight=1.0, case_model_weight=1.0), case_vectors=second)
    assert _nearest(only.combined_dense(only.settings)) == _nearest(only.case_dense)
    assert _nearest(without.dense)[3] in (4, 5) and _nearest(only.case_dense)[3] in (0, 1)  # each view's groups
    both = CaseSimilarity(vectors, TEXTS, SimilaritySettings(case_model_weight=0.5), case_vectors=second)
    mixed = both.combined_dense(both.settings)[~np.eye(6, dtype=bool)]
    assert abs(mixed.mean()) < 1e-9 and abs(mixed.std() - 1.0) < 1e-9  # standardized again after mixing
    # case 1 shares its group with case 0 in both views, case 3 in one, case 5 in none
    assert both.combined_dense(both.settings)[0, 1] > both.combined_dense(both.settings)[0, 3] > both.combined_dense(both.settings)[0, 5]


def test_a_new_text_needs_the_case_model_vector_when_the_cases_have_them():
    vectors, second = _vectors(), _case_model_vectors()
    similarity = CaseSimilarity(vectors, TEXTS, case_vectors=second)
    final, dense, case_dense, lexical = similarity.against(vectors[3], TEXTS[3], second[3])
    assert np.allclose(case_dense, similarity.case_dense[3]) and np.allclose(dense, similarity.dense[3])
    assert int(np.argmax(final)) == 3
    with pytest.raises(ValueError, match="case-model vector exactly when"):
        similarity.against(vectors[3], TEXTS[3])
    with pytest.raises(ValueError, match="one case-model vector per text"):
        CaseSimilarity(vectors, TEXTS, case_vectors=second[:2])


def test_projection_and_small_corpora():
    similarity = CaseSimilarity(_vectors(), TEXTS)
    points = similarity.projection()
    assert points.shape == (6, 2)
    assert abs(points[0, 0] - points[3, 0]) > abs(points[0, 0] - points[1, 0])  # groups apart on the first axis
    one = CaseSimilarity(_vectors()[:1], TEXTS[:1])
    assert one.projection().shape == (1, 2) and one.percentile(1.0) == 100.0
    two = CaseSimilarity(_vectors()[:2], TEXTS[:2])
    assert np.isfinite(two.matrix).all()


def _unit(degrees: float, axis: int = 1) -> np.ndarray:
    v = np.zeros(8)
    v[0], v[axis] = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return v


def test_a_case_in_a_dense_region_outranks_a_lone_case_that_is_directly_closer():
    # Case 0 at 0°; cases 1–3 close together at 36° (cosine 0.81 to case 0); case 4 at 30° in
    # another plane (cosine 0.87 to case 0, far from 1–3). The mirror images (rows 5–9) keep
    # the corpus mean at zero, so centering leaves these cosines as designed.
    half = np.array([_unit(0), *(normalized(_unit(36) + 0.05 * np.eye(8)[3 + i]) for i in range(3)), _unit(30, axis=2)])
    similarity = CaseSimilarity(np.vstack([half, -half]), ["同"] * 10, SimilaritySettings(dense_weight=1.0, neighbours=3))
    assert similarity.dense[0, 4] > similarity.dense[0, 1:4].max()  # directly, the lone case is nearest
    assert similarity.matrix[0, 4] < similarity.matrix[0, 1:4].min()  # through the graph, the region wins


def test_settings_name_their_range():
    with pytest.raises(ValueError, match="dense_weight must lie in"):
        SimilaritySettings(dense_weight=1.5)
    with pytest.raises(ValueError, match="diffusion must lie strictly between 0 and 1"):
        SimilaritySettings(diffusion=1.0)
    with pytest.raises(ValueError, match="case_model_weight must lie in"):
        SimilaritySettings(case_model_weight=-0.1)
    with pytest.raises(ValueError, match="neighbours must be at least 1"):
        SimilaritySettings(neighbours=0)
    with pytest.raises(ValueError, match="one vector per text"):
        CaseSimilarity(_vectors(), TEXTS[:2])


def test_precision_counts_same_label_neighbours_leaving_the_case_out():
    labels = np.array(["a", "a", "b", "b"])
    matrix = np.array([[9, 1, 2, 0], [1, 9, 0, 2], [2, 0, 9, 1], [0, 2, 1, 9]], dtype=float)
    everyone = np.arange(4)
    p1, p3 = precision(matrix, labels, everyone, everyone, k=3)
    assert p1 == 0.0 and p3 == pytest.approx(1 / 3)  # nearest is always the other label; one of three shares it
    p1, _ = precision(-matrix, labels, everyone, everyone, k=1)
    assert p1 == 0.0


def test_cross_validation_scores_held_out_cases_with_weights_chosen_elsewhere():
    rng = np.random.default_rng(3)
    labels = np.array(["a", "b"] * 10)
    good = (labels[:, None] == labels[None, :]).astype(float) + 0.1 * rng.random((20, 20))
    bad = rng.random((20, 20))
    result = cross_validated({(1.0,): good, (0.0,): bad}, labels, folds=5)
    assert result["weights_chosen_per_fold"] == [[1.0]] * 5 and result["weights_chosen_on_all_labels"] == [1.0]
    assert result["precision@1"] == 1.0 and result["precision@5"] == 1.0
    assert set(result["precision@5_by_weights"]) == {"1.0", "0.0"}


def test_smaller_corpora_score_every_method_on_subsets_of_their_own():
    vectors, labels = _vectors(), np.array([GROUP[i] for i in range(6)])
    result = smaller_corpora(vectors, TEXTS, labels, SimilaritySettings(), sizes=(4, 6), draws=3)
    assert result["draws"] == 3 and list(result["by_size"]) == ["4"]  # a size not below the corpus is skipped
    figures = result["by_size"]["4"]
    assert set(figures) == {"raw_mean_vector_cosine", "lexical_alone", "centered_alone",
                            "centered_and_lexical_without_neighbourhoods", "ours"}
    assert all(0 <= f["precision@1"] <= 1 and 0 <= f["precision@5"] <= 1 for f in figures.values())
    with_model = smaller_corpora(vectors, TEXTS, labels, SimilaritySettings(), sizes=(4,), draws=2, case_vectors=_case_model_vectors())
    assert set(with_model["by_size"]["4"]) == set(figures) | {"case_model_raw_cosine", "case_model_centered_alone", "centered_both_models"}
