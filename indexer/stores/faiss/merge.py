"""Tiered merging (after Lucene's TieredMergePolicy): bound the number of segments and purge deleted rows.

A merge reads a pinned commit point outside the writer lock, writes the merged segment (its FAISS kind chosen
for the merged size: exact below vectors.APPROX_FROM rows, IVF trained on the merge above), then takes the
writer lock only to commit: deletions that writers made meanwhile are carried over as marks on the new segment.
A merge killed at any point leaves the last commit point as it was; its unfinished files are removed later.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock, Timeout

from indexer.stores import manifest
from indexer.stores.base import Merged
from indexer.stores.faiss import commit, layout, segment

SEGMENTS_PER_TIER = 10  # Lucene's segmentsPerTier
MAX_MERGE_AT_ONCE = 10  # Lucene's maxMergeAtOnce
FLOOR_ROWS = 1_000  # smaller segments count as this size (Lucene's floorSegmentMB)
DELETES_ALLOWED = (
    0.33  # a segment with a larger share of deleted rows is rewritten (deletesPctAllowed)
)


def tier(entry: commit.Entry) -> int:
    """Size class of a segment: 0 below SEGMENTS_PER_TIER × FLOOR_ROWS live rows, then one per factor of ten."""
    return int(math.log(max(entry.live_rows, FLOOR_ROWS) / FLOOR_ROWS, SEGMENTS_PER_TIER))


def pick(entries: Sequence[commit.Entry]) -> list[str]:
    """The segments to merge next (empty: none): a full tier's smallest members, else a segment with too many
    deleted rows together with the smallest segments of its tier."""
    tiers: dict[int, list[commit.Entry]] = {}
    for entry in entries:
        tiers.setdefault(tier(entry), []).append(entry)
    for level in sorted(tiers):
        members = sorted(tiers[level], key=lambda e: (e.live_rows, e.name))
        if len(members) >= SEGMENTS_PER_TIER:
            return [e.name for e in members[:MAX_MERGE_AT_ONCE]]
    for entry in entries:
        if entry.rows and entry.deleted_rows / entry.rows > DELETES_ALLOWED:
            mates = [
                e for e in sorted(tiers[tier(entry)], key=lambda e: e.live_rows) if e is not entry
            ]
            return [entry.name] + [e.name for e in mates[: MAX_MERGE_AT_ONCE - 1]]
    return []


def pick_forced(entries: Sequence[commit.Entry], max_segments: int) -> list[str]:
    """Segments to merge so that at most `max_segments` remain (the smallest ones), or every segment with
    deleted rows when there are already few enough (`jsearch merge` purges deletes)."""
    if len(entries) > max_segments:
        by_size = sorted(entries, key=lambda e: (e.live_rows, e.name))
        return [e.name for e in by_size[: len(entries) - max_segments + 1]]
    return (
        [e.name for e in entries if e.deleted_rows]
        if max_segments == 1 or len(entries) == 1
        else []
    )


def maybe_merge(
    index_dir: Path, max_segments: int | None = None, lock_timeout: float = 60
) -> Merged | None:
    """Run the merge the policy asks for (or a forced one down to `max_segments`); None when there is nothing
    to merge or another merge is running."""
    index = layout.IndexDir(index_dir)
    merging = FileLock(str(index.root / ".merge.lock"), timeout=0)
    try:
        merging.acquire()
    except Timeout:
        return None
    try:
        return _merge(index, max_segments, lock_timeout)
    finally:
        merging.release()


def _merge(index: layout.IndexDir, max_segments: int | None, lock_timeout: float) -> Merged | None:
    began = time.perf_counter()
    snapshot = index.current()
    if snapshot is None:
        return None
    fd = layout.pin(snapshot)  # its segments stay on disk while they are read
    try:
        entries = commit.entries_of(manifest.read(snapshot))
        names = pick(entries) if max_segments is None else pick_forced(entries, max_segments)
        if not names:
            return None
        chosen = [e for e in entries if e.name in names]
        building = layout.Building(index.segments)
        try:
            sources = [(segment.open_segment(index.segments / e.name), e.deleted) for e in chosen]
            info = segment.write_merged(building.path, sources)
            return _commit(index, chosen, building, info, lock_timeout, began)
        except BaseException:
            building.discard()
            raise
    finally:
        layout.unpin(fd)


def _commit(
    index: layout.IndexDir,
    chosen: list[commit.Entry],
    building: layout.Building,
    info: dict,
    lock_timeout: float,
    began: float,
) -> Merged | None:
    """Switch the merged segment in for the ones it replaces, keeping deletions made since the snapshot."""
    lock = layout.acquire(index, lock_timeout)
    try:
        current = manifest.read(index.require_current())
        live = {e.name: e for e in commit.entries_of(current)}
        if any(
            e.name not in live for e in chosen
        ):  # a rebuild or another merge replaced them meanwhile
            building.discard()
            return None
        since = [i for e in chosen for i in live[e.name].deleted if i not in set(e.deleted)]
        name = layout.segment_name(index.segments)
        final = building.finish(index.segments / name)
        fresh = commit.Entry(name, info["rows"], info["articles"], info["kind"])
        kept = commit.without([fresh], commit.lookup(index, [fresh], since)) if since else [fresh]
        merged = kept[0] if kept else None
        entries = _replace(list(live.values()), [e.name for e in chosen], merged)
        generation = commit.publish(index, commit.listing(current, entries))
        layout.clean(index)
    finally:
        lock.release()
    purged = sum(e.deleted_rows for e in chosen)
    return Merged(
        generation,
        final.name,
        [e.name for e in chosen],
        info["rows"],
        purged,
        info["kind"],
        round(time.perf_counter() - began, 3),
    )


def _replace(
    entries: list[commit.Entry], names: list[str], merged: commit.Entry | None
) -> list[commit.Entry]:
    """The entries with the merged ones replaced by the new segment, where the first of them stood."""
    out, placed = [], False
    for entry in entries:
        if entry.name not in names:
            out.append(entry)
        elif not placed:
            out += [merged] if merged else []
            placed = True
    return out
