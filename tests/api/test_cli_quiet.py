"""The command line says only what it has to: no library progress bars or warnings, no torch for ONNX Runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WATCH = (
    "import atexit, sys; atexit.register(lambda: print('MODULES', 'torch' in sys.modules, "
    "'sentence_transformers' in sys.modules)); from api.cli import main; main()"
)


def _jsearch(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WATCH, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def test_search_on_onnx_runtime_prints_nothing_on_stderr_and_never_imports_torch(bundled_index):
    done = _jsearch(
        "search", "窓口キャッシュレスの事例", "--json", "--index-dir", str(bundled_index)
    )
    assert done.returncode == 0 and done.stderr == ""
    answer, modules = done.stdout.rsplit("MODULES", 1)
    assert json.loads(answer)["passages"] and modules.split() == ["False", "False"]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_no_loading_bars_on_either_engine(bundled_index, engine, tmp_path):
    index = bundled_index
    if engine == "torch":  # torch runs fp32 only; the bundled index holds the default int8
        index = tmp_path / "fp32"
        built = _jsearch("index", "--index-dir", str(index), JSEARCH_PRECISION="fp32")
        assert built.returncode == 0, built.stderr
    done = _jsearch(
        "search",
        "LINE で手続き",
        "-k",
        "2",
        "--index-dir",
        str(index),
        JSEARCH_ENGINE=engine,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "Loading" not in done.stderr and "it/s" not in done.stderr and "Warning" not in done.stderr
    )
    assert done.stdout.rsplit("MODULES", 1)[1].split()[0] == (
        "True" if engine == "torch" else "False"
    )


def test_a_bad_precision_setting_is_refused_in_both_languages(bundled_index):
    done = _jsearch("search", "窓口", "--index-dir", str(bundled_index), JSEARCH_PRECISION="fp16")
    assert done.returncode == 2
    assert (
        "エラー: 設定 JSEARCH_PRECISION" in done.stderr
        and "Error: setting JSEARCH_PRECISION is invalid" in done.stderr
    )


def test_int8_on_torch_is_refused(bundled_index):
    done = _jsearch(
        "search",
        "窓口",
        "--index-dir",
        str(bundled_index),
        JSEARCH_ENGINE="torch",
        JSEARCH_PRECISION="int8",
    )
    assert done.returncode != 0 and "int8" in done.stderr and "Traceback" not in done.stderr
