"""`jsearch mcp`: the MCP server over standard input and output, for assistants that start it as a process."""

from __future__ import annotations

import contextlib
import sys

from api.deps import Refresher
from api.mcp import tools
from api.settings import Settings


def serve(settings: Settings) -> None:
    """Load the index and the model (nothing may reach stdout but the protocol), then serve until EOF."""
    from api.main import load_engine

    with contextlib.redirect_stdout(sys.stderr):
        engine = load_engine(settings)
    refresher = Refresher(engine, settings.refresh_seconds)

    def current():
        refresher()  # looks at `current` only when due
        return engine

    tools.build(current).run("stdio")
