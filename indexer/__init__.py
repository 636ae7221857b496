"""Turn articles into an index directory: chunks, embeddings, FAISS, SQLite, lexical index."""
