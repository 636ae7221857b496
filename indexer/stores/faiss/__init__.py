"""The FAISS store: immutable segments (FAISS + SQLite + BM25 postings) under atomic commit points, read and written."""
