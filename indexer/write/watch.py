"""`jsearch watch DIR`: index a folder, then upsert or remove articles as its files appear, change or go."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from corpus.article import article_id
from corpus.loaders import SUFFIXES, LoadError, load_file
from indexer.model.base import Embedder
from indexer.stores.spec import StoreSpec
from indexer.write import changes, indexing


@dataclass(frozen=True)
class Batch:
    """What one burst of file events asks of the index."""

    change: changes.Change
    errors: tuple[LoadError, ...]


def indexable(path: Path) -> bool:
    """A file the loaders read, not a hidden or editor temp file."""
    return path.suffix.lower() in SUFFIXES and not path.name.startswith((".", "~"))


def _key(root: Path, path: Path) -> str | None:
    """The id key of a path under the root (the link's own place for a symlink), or None outside it."""
    try:
        return Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(root))).as_posix()
    except ValueError:
        return None


def _outside(root: Path, path: Path) -> bool:
    """A link whose target lies outside the watched folder (it is never read)."""
    return path.is_symlink() and _key(root.resolve(), path.resolve()) is None


def to_batch(root: Path, paths: Iterable[Path]) -> Batch:
    """Changed paths under the root become upserts (file exists) or removals (file gone)."""
    upsert, remove, errors = [], [], []
    for path in sorted(set(paths)):
        key = _key(root, path)
        if not indexable(path) or key is None:
            continue
        try:
            if not path.exists() and not path.is_symlink():
                remove.append(article_id(key))
            elif _outside(root, path) or not path.exists():
                raise LoadError(
                    str(path),
                    "リンク先が見張るフォルダの外か、存在しないため読みません",
                    "the link points outside the watched folder or nowhere; it is not read",
                )
            else:
                upsert.append(load_file(path, key))
        except LoadError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(
                LoadError(
                    str(path),
                    f"読めません: {exc.strerror or exc}",
                    f"cannot read: {exc.strerror or exc}",
                )
            )
    change = changes.Change(
        upsert=tuple(upsert), remove=tuple(remove), sources=(str(root.resolve()),)
    )
    return Batch(change, tuple(errors))


def batches(root: Path, stop_event=None) -> Iterator[Batch]:
    """Batches of changes under the root, as `watchfiles` reports them (debounced)."""
    from watchfiles import watch

    for events in watch(root, stop_event=stop_event, debounce=800, step=100):
        batch = to_batch(root, (Path(p) for _, p in events))
        if batch.change.upsert or batch.change.remove or batch.errors:
            yield batch


def run(
    index_dir: Path,
    root: Path,
    embedder: Embedder,
    report: Callable[[changes.Report | None, Batch], None],
    on_error: Callable[[Exception], None],
    lock_timeout: float = 30,
    stop_event=None,
    store: StoreSpec = StoreSpec(),
) -> None:
    """Apply each batch as a new commit point; a batch that fails is reported and the watch goes on."""
    for batch in batches(root, stop_event):
        change = batch.change
        if not change.upsert and not change.remove:
            report(None, batch)
            continue
        try:
            report(
                indexing.apply(index_dir, change, embedder, store, lock_timeout=lock_timeout), batch
            )
        except (UserError, OSError, sqlite3.DatabaseError) as exc:  # reported; the watch goes on
            on_error(exc)
