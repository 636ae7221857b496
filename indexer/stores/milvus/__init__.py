"""The Milvus store: the same articles, passages, vectors, lexical weights and mentions, kept in Milvus collections."""
