"""The faces of the engine: the `jsearch` command line, the HTTP API, the search page and widget."""
