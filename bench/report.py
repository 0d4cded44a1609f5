"""The readable report: the JSON figures as Markdown tables, with the goals and the load."""
from __future__ import annotations


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def ingest_markdown(ingest: dict, machine: dict) -> list[str]:
    """The ingest table: configurations side by side, per corpus."""
    lines = [
        "",
        "## Ingest: configurations side by side",
        "",
        f"Full index builds from scratch (reading, chunking, tagging, embedding, FAISS, BM25; model loading apart), "
        f"configurations in turns; device `{ingest['device']}`, {ingest['usable_cpus']} usable CPUs, load average "
        f"{machine['load_before']} before the run. DRCD quality: the index each built, searched and answered offline "
        "with `python -m qa`, scored by `score_drcd.py`.",
        "",
        _row(["corpus", "configuration", "files", "passages", "texts embedded", "seconds", "passages/s", "model load s",
              "MRR@10", "cited evidence", "answer has text", "false refusals", "unanswerable refused"]),
        _row(["---"] * 13),
    ]
    for corpus, rows in ingest["corpora"].items():
        for name, row in rows.items():
            lines.append(_row([corpus, name, row.get("files"), row.get("passages"), row.get("texts_embedded"), row.get("seconds"),
                               row.get("passages_per_s"), row.get("model_load_s"), row.get("mrr@10", "–"), row.get("cited_evidence", "–"),
                               row.get("answer_has_text", "–"), row.get("false_refusals", "–"), row.get("refusal_accuracy", "–")]))
    settings = "; ".join(f"`{name}`: {', '.join(f'{k}={v}' for k, v in config.items())}" for name, config in ingest["configs"].items())
    return lines + ["", f"Configurations: {settings}."]


def _load(load: dict | None) -> list[str]:
    if not load:
        return []
    problems = len(load["errors"]) + len(load["invalid_citations"])
    return [
        "## Many users at once",
        "",
        f"{load['sessions']} concurrent app sessions × {load['questions_per_session']} questions (simplified, traditional, "
        "English, unanswerable, a follow-up; a document filter in every third session), offline answers, the app's "
        f"way (`bench/load.py`): {load['answers']} answers in {load['wall_s']} s; answer latency p50 {load['answer_p50_s']} s, "
        f"p95 {load['answer_p95_s']} s; peak resident memory {load['peak_rss_mb']} MB; "
        f"{'no errors, every citation valid' if not problems else f'**{problems} errors or invalid citations**'}.",
        "",
    ]


def markdown(results: dict) -> str:
    machine, goals = results["machine"], results["goals"]
    lines = [
        "# Benchmark report",
        "",
        f"Run `{results['command']}` at {machine['started']} on {machine['cores']} cores; load average "
        f"{machine['load_before']} before and {machine['load_after']} after (the machine is shared: compare "
        "figures within this run, not across runs)." + (f" Embedder: `{results['embedder']}`." if "embedder" in results else ""),
        "",
    ]
    if "quality" in results:
        lines += _retrieval(results)
    if "cases" in results:
        lines += _cases(results["cases"])
    if "ocr" in results:
        lines += _ocr(results["ocr"]) + [""]
    lines += _load(results.get("load"))
    lines += [
        "## Goals",
        "",
        _row(["goal", "target", "measured", "holds"]),
        _row(["---"] * 4),
    ]
    for name, goal in goals.items():
        lines.append(_row([name, goal["target"], goal["measured"], "yes" if goal["holds"] else "**no**"]))
    return "\n".join(lines) + "\n"


def _cases(cases: dict) -> list[str]:
    cv = cases["ours_cross_validated"]
    lines = [
        f"## Comparable cases ({cases['cases']} labelled documents in `{cases['folder']}`, each one case)",
        "",
        "Precision@1 and @5 of \"the nearest cases share the label\" (chance at @5: "
        f"{cases['chance_precision']}); every method ranks every other document.",
        "",
        _row(["method", "precision@1", "precision@5"]),
        _row(["---"] * 3),
    ]
    for name, figures in cases["methods"].items():
        label = f"ours (shipped settings {cases['shipped_weights']})" if name == "ours" else name.replace("_", " ")
        lines.append(_row([label, figures["precision@1"], figures["precision@5"]]))
    lines += [
        _row([f"**ours, {cv['folds']}-fold cross-validated settings**", cv["precision@1"], cv["precision@5"]]),
        "",
        f"The same cross-validation over {len(cases['ours_cross_validated_other_splits']['seeds'])} other fold splits "
        f"(seeded permutations): precision@5 {cases['ours_cross_validated_other_splits']['precision@5']}, mean "
        f"{cases['ours_cross_validated_other_splits']['mean']} — the spread the fold split alone makes.",
        "",
        f"Case model: {cases.get('case_model') or 'none'}. Settings are ({', '.join(k.replace('_', ' ') for k in cases['settings_order'])}). "
        "Chosen per fold on the other folds: "
        f"{cv['weights_chosen_per_fold']}; on all labels: {cv['weights_chosen_on_all_labels']} (precision@5 for "
        "every setting is in the JSON). The shipped row's settings were chosen on these same labels "
        "(`qa/similarity.py` says how): "
        "the cross-validated row is the honest figure.",
        "",
    ]
    cost = cases.get("case_model_cost")
    if cost and cases.get("case_model"):
        lines += [
            f"Case model cost (same run): loading {cost['load_s']} s once; embedding the {cost['cases']} case texts "
            f"({cost['characters']} characters) {cost['embed_s']} s ({cost['embed_ms_per_case']} ms a case, "
            f"{cost['characters_per_s']} characters/s), against {cost['similarity_without_case_model_s']} s for the "
            "rest of the similarity.",
            "",
        ]
    smaller = cases["smaller_corpora"]
    if smaller["by_size"]:
        sizes = list(smaller["by_size"])
        lines += [
            f"Smaller corpora: precision@5 averaged over {smaller['draws']} random subsets of each size, "
            "each subset a corpus of its own (shipped settings).",
            "",
            _row(["method", *(f"{size} documents" for size in sizes)]),
            _row(["---"] * (len(sizes) + 1)),
            *(_row([name.replace("_", " "), *(smaller["by_size"][size][name]["precision@5"] for size in sizes)])
              for name in cases["methods"]),
            "",
        ]
    return lines


def _retrieval(results: dict) -> list[str]:
    quality, speed, machine = results["quality"], results["speed"], results["machine"]
    lines = [
        "## Quality on the dev set (scored by ../shared/eval/score.py, k = 10)",
        "",
        _row(["configuration", "recall@1", "recall@5", "MRR@10", "avg chars of top-5 hits", "missed (not in top 10)"]),
        _row(["---"] * 6),
    ]
    for name, figures in quality.items():
        misses = ", ".join(results["quality_misses"][name]) or "–"
        lines.append(_row([name, figures["recall@1"], figures["recall@5"], figures["mrr@10"], figures["avg_hit_chars"], misses]))
    lines += [
        "",
        "## Speed",
        "",
        f"- query embedding p50: {speed['query_embed_p50_ms']} ms",
        f"- app first render: {speed['app_first_render_s']} s (fresh process, Streamlit AppTest, the dev index)",
        f"- resident memory with the largest index open, after its searches: {speed['rss_mb']} MB, of which "
        f"{speed['rss_anon_mb']} MB anonymous (the rest: pages of the memory-mapped vectors and the model)",
        "",
        _row(["chunks", "sentences", "FAISS (chunks / sentences)", "search p50 ms", "search p95 ms", "query embed p50 ms",
              "index work p50 ms", "ANN vs exact (recall@50, top-1 agreement)", "dev MRR@10", "RSS MB", "synthetic build s"]),
        _row(["---"] * 11),
    ]
    for size, row in speed["by_size"].items():
        kinds = " / ".join(row["dense_index"].get(k, "flat") for k in ("chunks", "sentences"))
        recall = "; ".join(f"{k} {v['recall@50']}, {v['top1']}" for k, v in row["ann_vs_exact"].items()) or "exact"
        lines.append(_row([size, row["sentences"], kinds, row["search_p50_ms"], row["search_p95_ms"], row["query_embed_p50_ms"],
                           row["index_work_p50_ms"], recall, row["dev_mrr@10"], row["rss_mb"], row["build_s"]]))
    lines += ingest_markdown(speed["ingest"], machine)
    lines += [
        "",
        "Indexes above the real corpus's size are synthetic: real chunk and sentence vectors replicated, mixed with "
        "another chunk's and perturbed with noise, and real BM25 token streams with words dropped and replaced "
        "from jieba's dictionary (see `bench/synthetic.py`). They are cached under `var/bench/`. "
        "Replicas crowd around the real passages, so the exact top 50 is a cloud of near-ties (a few "
        "hundredths of cosine apart): recall@50 of any approximate index is low there by construction; "
        "top-1 agreement and the quality of the final ranking are the measures that matter.",
        "",
        "## Question limits",
        "",
        f"- a question of the maximum length ({results['limits']['question_chars_limit']} characters, real dev questions joined) "
        f"is answered in {results['limits']['max_length_ask_p50_ms']} ms (p50; at most {results['limits']['max_length_ask_max_ms']} ms), "
        f"{results['limits']['max_length_vs_typical']}× a typical dev question ({results['limits']['typical_ask_p50_ms']} ms); "
        f"a 100,000-character question is refused in {results['limits']['refusal_of_100k_chars_p50_ms']} ms, before any embedding",
        "",
        "## HTTP API under load",
        "",
        f"`python -m qa serve` with {results['api']['workers']} worker processes on 127.0.0.1; each user sends searches, "
        "chat completions and streamed chat completions back to back, each with another real question; every "
        "citation checked verbatim. `server cores used` is the CPU the shared machine gave the server during the run.",
        "",
        _row(["users", "requests", "throughput req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server cores used", "server CPU ms/request"]),
        _row(["---"] * 9),
        *[
            _row([r["users"], r["requests"], r["throughput_rps"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["errors"], r["server_cores_used"], r["server_cpu_ms_per_request"]])
            for r in (results["api"]["one_user"], results["api"]["concurrent"])
        ],
        "",
        f"Throughput of {results['api']['concurrent']['users']} users over one user at a time: {results['api']['throughput_ratio']}× "
        f"(cores the server got: {results['api']['cores_ratio']}×).",
        "",
        "## Index self-checks",
        "",
        f"Opening the index of {results['integrity']['chunks']} chunks ({results['integrity']['files']} files, "
        f"{results['integrity']['index_mb']} MB; median of 3, alternated): {results['integrity']['open_s']} s with the checks "
        f"made on every open (sizes, headers, shapes), {results['integrity']['open_verified_s']} s with every file's xxh3 "
        f"checksum too (`python -m ingest --verify`, `--if-stale`): {results['integrity']['verified_over_open']}x, "
        f"checksums at {results['integrity']['checksum_mb_per_s']} MB/s.",
        "",
    ]
    return lines


def _search_cells(search: dict) -> list:
    return [search.get("recall@1"), search.get("recall@5"), search.get("mrr@10")]


def _ask_cells(ask: dict) -> list:
    kinds = ask.get("refused_by_kind") or {}
    refused = round(ask["refusal_accuracy"] * ask["unanswerable"]) if ask.get("unanswerable") else 0
    by_kind = " (" + ", ".join(f"{'near' if k == 'same-article' else 'far' if k == 'other-article' else k} {v}" for k, v in sorted(kinds.items(), reverse=True)) + ")" if kinds else ""
    return [ask.get("cited_evidence_rate"), ask.get("answer_has_text", "–"), f"{ask['false_refusals']}/{ask['answerable']}", f"{refused}/{ask['unanswerable']}{by_kind}"]


def quality_markdown(results: dict) -> str:
    """`python -m bench quality`: one table per question set, configurations as rows."""
    machine = results["machine"]
    lines = [
        "# Quality report",
        "",
        f"Run `{results['command']}` at {machine['started']}; embedder `{results['embedder']}` for every configuration; "
        "scored by the shared scorers (search: hit from the right document covering the evidence, k = 10; "
        "ask: offline answers).",
    ]
    for name, configurations in results["quality_sets"].items():
        described = results["sets"][name]
        lines += [
            "",
            f"## {name} (`{described['questions']}` over `{described['corpus']}`)",
            "",
            _row(["configuration", "R@1", "R@5", "MRR@10", "cited evidence", "answer has text", "false refusals", "unanswerable refused"]),
            _row(["---"] * 8),
        ]
        for configuration, figures in configurations.items():
            lines.append(_row([configuration, *_search_cells(figures["search"]), *_ask_cells(figures["ask"])]))
    return "\n".join(lines) + "\n"
def _ocr(figures: dict) -> list[str]:
    lines = [
        "## OCR (scanned pages rendered from known text; see bench/ocr.py)",
        "",
        _row(["model", "setup", "pages", "chars/page", "char accuracy (exact)", "char accuracy (NFKC)", "s/page (wall)", "CPU s/page", "unsure lines"]),
        _row(["---"] * 9),
    ]
    for model, key in (("PP-OCRv6 small", "accuracy"), ("PP-OCRv4 (RapidOCR's own)", "accuracy_ppocrv4")):
        for setup, row in figures.get(key, {}).items():
            lines.append(_row([model, setup, row["pages"], row["chars_per_page"], row["char_accuracy"], row["char_accuracy_nfkc"], row["s_per_page"], row["cpu_s_per_page"], row["unsure_lines"]]))
    if "speed" in figures:
        lines += ["", _row(["settings (28 px corpus pages)", "char accuracy (NFKC)", "s/page (wall)", "CPU s/page", "wall vs defaults", "CPU vs defaults"]), _row(["---"] * 6)]
        for name, row in figures["speed"].items():
            lines.append(_row([name, row["char_accuracy_nfkc"], row["s_per_page"], row["cpu_s_per_page"], row["wall_ratio"], row["cpu_ratio"]]))
    if "stages" in figures:
        stages = figures["stages"]
        lines += ["", f"Where a {'×'.join(map(str, stages['page_px']))} px page's time goes (CPU s, one thread): render {stages['render']}, "
                  f"detection {stages['detect_page_size']} at page size / {stages['detect_default']} at the default scale, "
                  f"cutting out its {stages['lines']} lines {stages['cut_lines']}, recognizing them {stages['recognize']}."]
    retrieval = figures["retrieval"]
    lines += [
        "",
        f"Retrieval on {retrieval['articles']} DRCD articles ({retrieval['pages']} scanned pages, {retrieval['questions']} questions): "
        f"as text MRR@10 {retrieval['text']['mrr@10']} (R@1 {retrieval['text']['recall@1']}), "
        f"scanned and OCR'd MRR@10 {retrieval['ocr']['mrr@10']} (R@1 {retrieval['ocr']['recall@1']}); gap {retrieval['mrr_gap']}.",
        "",
        _row(["OCR goal", "target", "measured", "holds"]),
        _row(["---"] * 4),
    ]
    for name, goal in figures["goals"].items():
        lines.append(_row([name, goal["target"], goal["measured"], "yes" if goal["holds"] else "**no**"]))
    return lines
