"""Answer queries from an index directory: dense + lexical fusion, filters, places, highlights."""
