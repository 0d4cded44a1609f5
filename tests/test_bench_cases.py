"""`python -m bench --parts cases` end to end on a tiny SYNTHETIC labelled folder (real model,
slow): the figures for every method, the cross-validated blend, the goals, and an index built
once and reused."""
import json
import subprocess
import sys

import numpy as np
import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow

# SYNTHETIC one-case-per-file documents, written for this test, in two kinds.
LOANS = [
    "某城商銀行的小微企業線上信貸，整合稅務數據，三分鐘完成貸款審批。",
    "某農商銀行為農戶提供線上貸款，依據社保與水電數據評估信用。",
    "某消費金融公司推出手機貸款，額度隨信用評分調整，按日計息。",
    "某銀行的供應鏈融資平臺，以訂單和發票為依據向小微企業放款。",
    "某網商銀行的經營貸，根據店鋪流水授信，隨借隨還。",
]
GREEN = [
    "某證券公司用區塊鏈記錄能耗，為企業建立碳賬戶，承銷綠色債券。",
    "某銀行推出個人碳賬戶，記錄綠色出行和節能消費，兌換權益。",
    "某保險公司開發光伏電站的綠色保險，按發電量理賠。",
    "某基金公司發行碳中和主題基金，投資新能源與節能企業。",
    "某交易所上線碳排放權交易平臺，企業在線買賣配額。",
]


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", "--parts", "cases", "--json", *args], cwd=REPO, capture_output=True, text=True, timeout=900)


def test_bench_scores_a_labelled_folder_and_reuses_its_index(tmp_path):
    folder = tmp_path / "labelled"
    (folder / "corpus").mkdir(parents=True)
    labels = []
    for kind, texts in (("loan", LOANS), ("green", GREEN)):
        for n, text in enumerate(texts):
            name = f"{kind}{n}_synthetic.txt"
            (folder / "corpus" / name).write_text(text + "（合成測試文本）\n", encoding="utf-8")
            labels.append(json.dumps({"doc": name, "label": kind}))
    (folder / "labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")
    work = tmp_path / "work"
    first = _bench("--cases", str(folder), "--work", str(work))
    assert first.returncode == 0, first.stderr
    cases = json.loads(first.stdout.strip().splitlines()[-1])["cases"]
    assert cases["cases"] == 10 and cases["labels"] == {"green": 5, "loan": 5}
    assert set(cases["methods"]) == {"raw_mean_vector_cosine", "lexical_alone", "centered_alone",
                                     "case_model_raw_cosine", "case_model_centered_alone", "centered_both_models",
                                     "centered_and_lexical_without_neighbourhoods", "ours"}
    assert cases["case_model"].startswith("use-multilingual-v3") and cases["settings_order"][0] == "case_model_weight"
    cost = cases["case_model_cost"]
    assert cost["cases"] == 10 and cost["characters"] > 0 and cost["embed_s"] > 0 and cost["load_s"] > 0
    assert all(0 <= f["precision@1"] <= 1 and 0 <= f["precision@5"] <= 1 for f in cases["methods"].values())
    cv = cases["ours_cross_validated"]
    assert cv["folds"] == 5 and len(cv["weights_chosen_per_fold"]) == 5 and len(cv["precision@5_by_weights"]) == 5 * 132
    splits = cases["ours_cross_validated_other_splits"]
    assert splits["seeds"] == list(range(1, 8)) and len(splits["precision@5"]) == 7
    assert splits["min"] <= splits["mean"] <= splits["max"] and all(0 <= p <= 1 for p in splits["precision@5"])
    assert cases["smaller_corpora"]["by_size"] == {}  # every size drawn is at least these ten documents
    [index] = list(work.glob("cases-*/manifest.json"))
    built = json.loads(index.read_text())["built_at"]
    again = _bench("--cases", str(folder), "--work", str(work), "--report", str(tmp_path / "cases.md"))
    assert again.returncode == 0, again.stderr
    report = (tmp_path / "cases.md").read_text(encoding="utf-8")
    assert "5-fold cross-validated settings" in report and "Case model cost" in report and "other fold splits" in report
    assert json.loads(index.read_text())["built_at"] == built  # unchanged folder: not embedded again
    goals = json.loads(again.stdout.strip().splitlines()[-1])["goals"]
    assert set(goals) == {"cases_precision@5", "cases_margin_over_best_baseline"}


def test_a_folder_without_labels_is_a_clear_error(tmp_path):
    result = _bench("--cases", str(tmp_path), "--work", str(tmp_path / "work"))
    assert result.returncode != 0 and "needs corpus/ and labels.jsonl" in result.stderr


def test_seeded_fold_splits_differ_from_the_fixed_one_and_repeat():
    from bench.cases import cross_validated

    rng = np.random.default_rng(0)
    labels = np.array(["a", "b"] * 10)
    blends = {(w,): rng.random((20, 20)) for w in (0.0, 0.5, 1.0)}
    fixed, seeded = cross_validated(blends, labels), cross_validated(blends, labels, seed=3)
    assert seeded == cross_validated(blends, labels, seed=3)  # a seed is one split, every time
    assert [fixed["weights_chosen_per_fold"], fixed["precision@5"]] != [seeded["weights_chosen_per_fold"], seeded["precision@5"]]
