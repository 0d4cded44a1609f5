"""Benchmarks: retrieval quality against peer pipelines and speed up to 100k passages.

`python -m bench --json` measures everything side by side in one run (the machine is shared,
so ratios taken in one run mean more than absolute times). It reads the index through `index`
and ranks through `qa`; the peer pipelines (LangChain's default splitter, a Langchain-Chatchat
style ensemble) live only here, so no product module depends on them.
"""
