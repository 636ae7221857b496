"""Text analysis: NFKC with offsets, lexical tokens, structure-aware chunking, an article prepared into passages."""
