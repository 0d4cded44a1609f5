"""The search index: records, matching text, embedders and the on-disk index (FAISS + BM25).

`ingest` writes it, `qa` reads it. Nothing here knows about files on disk other than the
index directory itself, nor about answers.
"""
