"""Saved searches: stored queries matched against each write's new passages (percolation), their Atom feeds."""
