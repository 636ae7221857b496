"""Where the index lives: the store protocols and factory, one package per backend (faiss, milvus)."""
