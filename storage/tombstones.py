"""Tombstone collection: drop what deletions shadow, and the deletions themselves once older than the
table's gc_grace_seconds (Cassandra purges them at compaction; RocksDB's compaction only drops older
versions of a key, so cqld sweeps).

As in Cassandra, a replica that missed a deletion and comes back after gc_grace can bring the deleted
data back: a stopped shard is caught up when it starts (replicas.repair_shard), so stop shards for less
than gc_grace_seconds.
"""

from __future__ import annotations

import marshal
import struct

from storage.collections import SEP
from storage.engine import Engine
from storage.rows import max_ts, range_deletion_at

_LEN = struct.Struct(">H")
PREFIX = 1 + 1 + 16 + 8  # b'd', shard, table id, token


def _purge_row(row: list, shadow: int | None, gc_before: int) -> list | None:
    """The row without shadowed, expired or collectable parts; None when nothing is left."""
    marker, deleted, cells, ck_values = row
    deleted_at = max_ts(deleted, shadow)
    # A collection's tombstone (cell `c` + SEP) shadows that collection's older elements.
    collection_deleted = {}
    for name, cell in cells.items():
        if SEP in name:
            column, key = name.split(SEP, 1)
            if not key:  # element keys are binary and may end in a NUL: only an empty key is the tombstone
                collection_deleted[column] = cell[0]
    kept = {}
    for col, cell in cells.items():
        ts, value, ttl, expires = cell
        if deleted_at is not None and ts <= deleted_at:
            continue
        if collection_deleted and SEP in col:
            column, key = col.split(SEP, 1)
            floor = collection_deleted.get(column)
            if key and floor is not None and ts <= floor:
                continue
        if value is None and ts < gc_before:
            continue
        if expires and expires * 1_000_000 <= gc_before:
            continue  # expired long enough ago: an expired cell acts as a tombstone until gc_grace
        kept[col] = cell
    if marker is not None and (
        (deleted_at is not None and marker[0] <= deleted_at) or (marker[2] and marker[2] * 1_000_000 <= gc_before)
    ):
        marker = None
    if deleted is not None and deleted < gc_before:
        deleted = None
    if marker is None and deleted is None and not kept:
        return None
    return [marker, deleted, kept, ck_values]


class Sweeper:
    """One pass over the data keys: returns (rewritten keys, deleted keys)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rewritten = 0
        self.deleted = 0

    def sweep(self, gc_before_by_table: dict[bytes, int], skip_shards: frozenset[int] = frozenset()) -> None:
        puts: list[tuple[bytes, bytes]] = []
        deletes: list[bytes] = []
        current_partition = None
        header = None
        for key, value in self.engine.scan(b"d", b"e"):
            shard = key[1]
            table_id = key[2:18]
            gc_before = gc_before_by_table.get(table_id)
            if gc_before is None or shard in skip_shards:
                continue
            (n,) = _LEN.unpack_from(key, PREFIX)
            tag_at = PREFIX + 2 + n
            partition = key[:tag_at]
            if partition != current_partition:
                # A partition's header and rows change in one write: a purged range tombstone never
                # outlives, even for a crash, the rows it shadowed.
                if len(puts) + len(deletes) >= 512:
                    self._flush(puts, deletes)
                    puts, deletes = [], []
                current_partition, header = partition, None
            data = marshal.loads(value)
            if key[tag_at] == 0:
                header = data
                pdel, static, tombs = data
                new_static = None if static is None else _purge_row(static, pdel, gc_before)
                new_tombs = [t for t in tombs if t[4] >= gc_before and (pdel is None or t[4] > pdel)]
                new_pdel = pdel if pdel is not None and pdel >= gc_before else None
                new = (
                    None
                    if (new_pdel is None and new_static is None and not new_tombs)
                    else [new_pdel, new_static, new_tombs]
                )
            else:
                ck = key[tag_at + 1 :]
                shadow = None
                if header is not None:
                    shadow = max_ts(header[0], range_deletion_at(header[2], ck) if header[2] else None)
                new = _purge_row(data, shadow, gc_before)
            if new is None:
                deletes.append(key)
            elif new != data:
                puts.append((key, marshal.dumps(new)))
        self._flush(puts, deletes)

    def _flush(self, puts, deletes) -> None:
        if puts or deletes:
            self.engine.write(puts, deletes)
            self.rewritten += len(puts)
            self.deleted += len(deletes)
