"""Ingest: turn files into documents and chunks with source offsets, then hand them to `index`.

Owns reading and decoding files, finding structure (headings, paragraphs, sentences) and
chunking. Leaves normalization, tokenizing, embedding and storage to `index`.
"""
