"""Where the bundled sample corpus lives."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled_corpus_dir() -> Path:
    """The folder of sample articles that ships with the package."""
    return Path(str(resources.files("corpus") / "data"))
