"""`jsearch watch DIR`: index a folder, then upsert or remove articles as its files appear, change or go."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from corpus.article import article_id
from corpus.loaders import SUFFIXES, LoadError, load_file
from indexer import build
from indexer.embedder import Embedder
from indexer.layout import WriterBusy
from indexer.manifest import IndexMismatch


@dataclass(frozen=True)
class Batch:
    """What one burst of file events asks of the index."""

    change: build.Change
    errors: tuple[LoadError, ...]


def indexable(path: Path) -> bool:
    """A file the loaders read, not a hidden or editor temp file."""
    return path.suffix.lower() in SUFFIXES and not path.name.startswith((".", "~"))


def to_batch(root: Path, paths: Iterable[Path]) -> Batch:
    """Changed paths under the root become upserts (file exists) or removals (file gone)."""
    upsert, remove, errors = [], [], []
    for path in sorted(set(paths)):
        if not indexable(path):
            continue
        key = path.resolve().relative_to(root.resolve()).as_posix()
        if not path.exists():
            remove.append(article_id(key))
            continue
        try:
            upsert.append(load_file(path, key))
        except LoadError as exc:
            errors.append(exc)
    change = build.Change(upsert=tuple(upsert), remove=tuple(remove), sources=(str(root.resolve()),))
    return Batch(change, tuple(errors))


def batches(root: Path, stop_event=None) -> Iterator[Batch]:
    """Batches of changes under the root, as `watchfiles` reports them (debounced)."""
    from watchfiles import watch

    for events in watch(root, stop_event=stop_event, debounce=800, step=100):
        batch = to_batch(root, (Path(p) for _, p in events))
        if batch.change.upsert or batch.change.remove or batch.errors:
            yield batch


def run(index_dir: Path, root: Path, embedder: Embedder, report: Callable[[build.Report | None, Batch], None],
        on_error: Callable[[Exception], None], lock_timeout: float = 30, stop_event=None) -> None:
    """Apply each batch as a new generation; a batch that fails is reported and the watch goes on."""
    for batch in batches(root, stop_event):
        change = batch.change
        if not change.upsert and not change.remove:
            report(None, batch)
            continue
        try:
            report(build.apply(index_dir, change, embedder, lock_timeout=lock_timeout), batch)
        except (build.NoArticles, WriterBusy, IndexMismatch) as exc:
            on_error(exc)
