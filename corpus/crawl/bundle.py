"""Transfer bundles for 三層分離: fetched articles as Markdown with front matter plus a manifest of SHA-256
digests, in one tar; read back only when every member is there, unchanged, and nothing else is."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from common.errors import UserError
from corpus.article import Article
from corpus.identity import upload_id
from corpus.loaders import MAX_BYTES, LoadError, parse_bytes

MANIFEST = "manifest.json"
FORMAT = "jsearch-bundle/1"
MAX_MEMBERS = 200_000


class BundleRefused(UserError):
    """A bundle that is not exactly what was written: nothing of it is indexed."""

    status, code, field = 422, "bundle_refused", "file"

    def __init__(self, path: str, ja: str, en: str) -> None:
        super().__init__(
            f"バンドル {path} を受け付けません（何も索引していません）: {ja}",
            f"bundle {path} refused, nothing was indexed: {en}",
        )


@dataclass(frozen=True)
class Unbundled:
    """A verified bundle's articles and the other URLs (near-duplicates) its articles were also found at."""

    articles: tuple[Article, ...]
    also_at: tuple[tuple[str, str], ...]  # (url, article id)
    created: str


def markdown(article: Article, fetched_at: str, also_at: Sequence[str] = ()) -> bytes:
    """An article as Markdown with YAML front matter (title, url, published, source, fetched_at, also_at)."""
    meta: dict[str, object] = {
        "title": article.title,
        "url": article.url,
        "published": article.published,
        "source": article.source,
        "fetched_at": fetched_at,
    }
    if also_at:
        meta["also_at"] = list(also_at)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    return f"---\n{front}---\n{article.text}".encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(
    dest: Path,
    articles: Sequence[Article],
    fetched_at: str,
    also_at: dict[str, list[str]] | None = None,
) -> dict:
    """Write the bundle (to a temporary name, then renamed); returns its manifest."""
    members = {
        f"articles/{a.id}.md": markdown(a, fetched_at, (also_at or {}).get(a.id, ()))
        for a in articles
    }
    manifest = {
        "format": FORMAT,
        "created": fetched_at,
        "count": len(members),
        "files": {name: sha256(data) for name, data in members.items()},
    }
    members[MANIFEST] = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    os.replace(partial, dest)
    return manifest


def _members(path: Path) -> dict[str, bytes]:
    """Every member's bytes; a truncated, damaged or strange tar (links, folders, repeated names) is refused."""
    name = str(path)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                if len(found) >= MAX_MEMBERS:
                    raise BundleRefused(name, "メンバーが多すぎます", "too many members")
                if not info.isfile():
                    raise BundleRefused(
                        name,
                        f"ファイルでないメンバー {info.name[:100]} があります",
                        f"member {info.name[:100]!r} is not a file",
                    )
                if info.name in found:
                    raise BundleRefused(
                        name,
                        f"メンバー {info.name[:100]} が二つあります",
                        f"member {info.name[:100]!r} appears twice",
                    )
                if info.size > MAX_BYTES:
                    raise BundleRefused(
                        name,
                        f"メンバー {info.name[:100]} が大きすぎます",
                        f"member {info.name[:100]!r} is too large",
                    )
                handle = tar.extractfile(info)
                data = handle.read() if handle else b""
                if len(data) != info.size:
                    raise tarfile.ReadError("unexpected end of data")
                found[info.name] = data
    except (tarfile.TarError, EOFError, OSError, UnicodeError) as exc:
        raise BundleRefused(
            name,
            f"tar として読めません。途中で切れているか壊れています（{type(exc).__name__}: {str(exc)[:80]}）",
            f"cannot read it as a tar; it is truncated or damaged ({type(exc).__name__}: {str(exc)[:80]})",
        ) from None
    return found


def read(path: Path) -> Unbundled:
    """The articles of a bundle, after checking every member against the manifest (all or nothing)."""
    name = str(path)
    members = _members(path)
    try:
        manifest = json.loads(members.pop(MANIFEST))
        files = manifest["files"]
        assert manifest.get("format") == FORMAT and isinstance(files, dict)
        assert manifest["count"] == len(files)
    except (KeyError, ValueError, TypeError, AssertionError):
        raise BundleRefused(
            name, f"{MANIFEST} がないか、読めません", f"{MANIFEST} is missing or unreadable"
        ) from None
    missing = sorted(set(files) - set(members))
    extra = sorted(set(members) - set(files))
    changed = sorted(n for n in set(files) & set(members) if sha256(members[n]) != files[n])
    for names, ja, en in (
        (missing, "足りないメンバー", "missing members"),
        (extra, "マニフェストにないメンバー", "members not in the manifest"),
        (changed, "SHA-256 が合わないメンバー", "members whose SHA-256 does not match"),
    ):
        if names:
            shown = ", ".join(n[:100] for n in names[:5]) + (" …" if len(names) > 5 else "")
            raise BundleRefused(
                name, f"{ja} {len(names)} 件: {shown}", f"{len(names)} {en}: {shown}"
            )
    articles: list[Article] = []
    also_at: list[tuple[str, str]] = []
    for member in sorted(files):
        try:
            article = parse_bytes(members[member], member.rsplit("/", 1)[-1], key=member)
        except LoadError as exc:
            raise BundleRefused(name, f"{member}: {exc.ja}", f"{member}: {exc.en}") from None
        article = replace(article, id=upload_id(article), path="")
        articles.append(article)
        also_at += [(url, article.id) for url in _also_at(members[member])]
    return Unbundled(tuple(articles), tuple(also_at), str(manifest.get("created", "")))


def _also_at(data: bytes) -> list[str]:
    end = data.find(b"\n---\n", 4)
    try:
        meta = (
            yaml.safe_load(data[4:end].decode("utf-8"))
            if data.startswith(b"---\n") and end > 0
            else {}
        )
    except (yaml.YAMLError, UnicodeDecodeError):
        return []
    urls = meta.get("also_at") if isinstance(meta, dict) else None
    return [u for u in urls if isinstance(u, str)] if isinstance(urls, list) else []
