#!/usr/bin/env bash
# The checks CI runs before the tests: formatting, lint rules and types (configured in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy
