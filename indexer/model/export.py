"""Export a sentence-transformers directory to ONNX once (fp32 fused, int8 quantised) and find it again, checked."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from filelock import FileLock

from common.errors import UserError

# 2: int8 per channel, FFN down-projections in fp32; 3: int8 per token, everything int8
EXPORTER_VERSION = 3
MARKER_FILE = "onnx_export.json"
PRECISIONS = ("fp32", "int8")
FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
OPSET = 17


class ModelUnavailable(UserError):
    """The exported model is missing or damaged and cannot be rebuilt here."""

    status, code = 503, "model_unavailable"


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise UserError(
            f"精度は {' / '.join(PRECISIONS)} のどちらかです: {precision}",
            f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}",
            field="precision",
            code="invalid_setting",
        )
    return precision


def export_dir(source: Path, cache_dir: Path | None = None) -> Path:
    """Where the ONNX files of a model directory live: beside it (`<name>-onnx`) when it is the cache's own
    converted model, else in the cache (`models/onnx/<name>-<digest of its path>`): a model directory of the
    user's is never written to."""
    source = Path(source)
    models = Path(cache_dir).resolve() / "models" if cache_dir is not None else None
    if models is None or source.resolve().parent == models:
        return source.with_name(f"{source.name}-onnx")
    digest = hashlib.sha1(str(source.resolve()).encode("utf-8")).hexdigest()[:10]
    return models / "onnx" / f"{source.name}-{digest}"


def source_marker(source: Path) -> dict:
    """What an export was made from: the source directory's files by size and modification time, and versions."""
    files = {
        p.name: [p.stat().st_size, p.stat().st_mtime_ns]
        for p in sorted(source.iterdir())
        if p.is_file()
    }
    return {
        "exporter_version": EXPORTER_VERSION,
        "source_files": files,
        "onnxruntime": metadata.version("onnxruntime"),
        "opset": OPSET,
    }


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _read_marker(directory: Path) -> dict:
    try:
        return json.loads((directory / MARKER_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def is_current(directory: Path, source: Path, precision: str) -> bool:
    """The file for `precision` exists, was exported from this source by this exporter, and is unchanged since
    (size and modification time as recorded; `verify` also compares the SHA-256)."""
    marker, expected = _read_marker(directory), source_marker(source)
    entry = marker.get("files", {}).get(FILES[precision])
    if not entry or {k: marker.get(k) for k in expected} != expected:
        return False
    try:
        return _stamp(directory / FILES[precision]) == entry["stamp"]
    except OSError:
        return False


def verify(directory: Path, precision: str) -> bool:
    """The file's SHA-256 equals the one recorded when it was written."""
    entry = _read_marker(directory).get("files", {}).get(FILES[precision])
    try:
        return bool(entry) and _sha256(directory / FILES[precision]) == entry["sha256"]
    except OSError:
        return False


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def ensure(
    source: Path, precision: str = "fp32", rebuild: bool = False, cache_dir: Path | None = None
) -> Path:
    """The ONNX file for `precision`, exported (and quantised) on first use under a lock; a stale, missing or
    damaged one is rebuilt. Needs torch only when it has to export."""
    check_precision(precision)
    directory = export_dir(Path(source), cache_dir)
    if not rebuild and is_current(directory, source, precision):
        return directory / FILES[precision]
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory.parent / f".{directory.name}.lock")):
        if rebuild or not is_current(directory, source, precision):
            _build(source, directory, precision)
    return directory / FILES[precision]


def _build(source: Path, directory: Path, precision: str) -> None:
    """Write a fresh copy of the directory (intact files kept by hard link, missing ones made) and rename it into
    place, marker included: a crash leaves either the old directory or the new one."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    if sys.stderr.isatty():  # long and silent otherwise; scripts and logs stay quiet
        sys.stderr.write(
            f"モデルを ONNX に書き出しています（{precision}、初回のみ・数十秒）/ exporting the model "
            f"to ONNX ({precision}, first use only, some tens of seconds)…\n"
        )
    try:
        marker = source_marker(source)
        intact = _intact(directory, marker)
        wanted = {FILES["fp32"], FILES[precision]} | set(intact)
        files = {}
        for name in sorted(
            wanted, key=lambda n: n != FILES["fp32"]
        ):  # fp32 first: int8 is quantised from it
            if name in intact:
                _link_or_copy(directory / name, tmp / name)
            elif name == FILES["fp32"]:
                export_fp32(source, tmp / name)
            else:
                quantize_int8(tmp / FILES["fp32"], tmp / name)
            os.chmod(tmp / name, 0o644)
            files[name] = {"stamp": _stamp(tmp / name), "sha256": _sha256(tmp / name)}
        (tmp / MARKER_FILE).write_text(json.dumps({**marker, "files": files}, indent=2), "utf-8")
        os.chmod(tmp, 0o755)
        _replace(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _intact(directory: Path, marker: dict) -> list[str]:
    """Files of an existing export made from the same source whose SHA-256 still matches."""
    old = _read_marker(directory)
    if {k: old.get(k) for k in marker} != marker:
        return []
    return [
        name
        for name, entry in old.get("files", {}).items()
        if (directory / name).exists() and _sha256(directory / name) == entry.get("sha256")
    ]


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _replace(tmp: Path, directory: Path) -> None:
    old = directory.with_name(f".{directory.name}.old.{os.getpid()}")
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def export_fp32(source: Path, target: Path) -> None:
    """torch.onnx.export of the transformer (eager attention), then onnxruntime's BERT fusions."""
    try:
        import torch
        from transformers import AutoConfig, AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelUnavailable(
            f"ONNX モデルがなく、作るための torch もありません（{exc}）。pip install 'jichitai-search[convert]'"
            "（torch==2.13.0 を先に）を入れるか、書き出し済みのモデルを含むオフライン一式を使ってください",
            f"the ONNX model is missing and torch, needed to export it, is not installed ({exc}); install "
            "'jichitai-search[convert]' (torch==2.13.0 first) or use an offline bundle, which ships the exported "
            "model",
        ) from None
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    config = AutoConfig.from_pretrained(source, local_files_only=True)
    model = AutoModel.from_pretrained(
        source, local_files_only=True, torch_dtype=torch.float32, attn_implementation="eager"
    ).eval()

    class Hidden(torch.nn.Module):
        """The transformer's last hidden state, its inputs passed by keyword (positional ones collide)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    raw = target.with_suffix(".raw.onnx")
    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {
        "input_ids": {0: "batch", 1: "tokens"},
        "attention_mask": {0: "batch", 1: "tokens"},
        "hidden": {0: "batch", 1: "tokens"},
    }
    with torch.no_grad(), _quiet():
        torch.onnx.export(
            Hidden(),
            (dummy, dummy),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    _fuse(raw, target, config.num_attention_heads, config.hidden_size)
    raw.unlink()


def _fuse(raw: Path, target: Path, heads: int, hidden: int) -> None:
    """Attention, LayerNorm and GELU fused into onnxruntime's contrib operators (fewer, larger kernels)."""
    from onnxruntime.transformers import optimizer

    with _quiet():
        fused = optimizer.optimize_model(
            str(raw), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0
        )
        fused.save_model_to_file(str(target))


def quantize_int8(fp32: Path, target: Path) -> None:
    """Per-token int8 of the fused fp32 graph (indexer/model/quantize.py): the vectors of a text depend on that
    text alone, and keep fp32's quality (benchmarks/results/quantization.md)."""
    import onnx

    from indexer.model.quantize import quantize_per_token

    try:
        with _quiet():
            model = quantize_per_token(onnx.load(str(fp32)))
            onnx.save(model, str(target))
    except Exception as exc:  # noqa: BLE001 - onnx's converter and checker raise many types
        raise ModelUnavailable(
            f"このモデルは int8 にできません（{type(exc).__name__}: {exc}）。JSEARCH_PRECISION=fp32 で使ってください",
            f"this model cannot be quantised to int8 ({type(exc).__name__}: {exc}); use JSEARCH_PRECISION=fp32",
        ) from None


@contextmanager
def _quiet() -> Iterator[None]:
    """Silences the exporters' warnings and log lines (they speak to developers, not to staff)."""
    level = logging.root.level
    logging.root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.root.setLevel(level)
