"""The offline bundle, built by scripts/offline-bundle and installed by its install.sh in a network namespace with
no network at all (`unshare -n`, root), an empty HOME and no pip configuration: the installed jsearch indexes the
bundled corpus and answers 宇佐市 first, with the shipped model and without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _offline(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    """A command in a new network namespace (only a loopback that is down) with a bare environment."""
    bare = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_NO_INDEX": "1",
        **env,
    }
    return subprocess.run(
        ["unshare", "-n", "env", "-i", *(f"{k}={v}" for k, v in bare.items()), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_the_bundle_installs_and_answers_with_no_network(tmp_path):
    assert os.geteuid() == 0, "unshare -n needs root (CI runs as root)"
    built = subprocess.run(
        ["bash", "scripts/offline-bundle"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "OUT": str(tmp_path / "dist")},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    summary = json.loads(built.stdout.strip().splitlines()[-1])
    with tarfile.open(summary["bundle"]) as archive:
        names = archive.getnames()
        assert any(n.endswith("/install.sh") for n in names)
        assert any(n.endswith("-onnx/model.onnx") for n in names)
        assert any(n.endswith("-onnx/model.int8.onnx") for n in names)  # the default precision
        assert not any("/torch-" in n for n in names), "torch is not shipped"
    subprocess.run(
        ["tar", "-C", str(tmp_path), "-xzf", summary["bundle"]], check=True
    )  # keeps nanosecond times
    bundle = next(p for p in tmp_path.iterdir() if p.name.startswith("jichitai-search-offline-"))
    home = tmp_path / "home"
    home.mkdir()
    target = tmp_path / "installed"

    installed = _offline(
        ["sh", str(bundle / "install.sh"), str(target)], home, PYTHON=sys.executable
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    jsearch = str(target / "bin" / "jsearch")
    indexed = _offline([jsearch, "index", "--json"], home)
    assert indexed.returncode == 0, indexed.stderr[-3000:]
    assert json.loads(indexed.stdout)["articles"] == 5
    answer = _offline([jsearch, "search", "窓口キャッシュレスの事例", "--json"], home)
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert json.loads(answer.stdout)["municipalities"][0]["name"] == "宇佐市"
    python = str(target / "bin" / "python")
    no_torch = _offline(
        [python, "-c", "import importlib.util as u; print(u.find_spec('torch') is None)"], home
    )
    assert no_torch.stdout.strip() == "True"
    html = _offline([python, "-c", "import trafilatura, lxml_html_clean"], home)
    assert html.returncode == 0, html.stderr[-2000:]
