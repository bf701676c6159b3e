"""Rows of timestamped cells, tombstones, and last-write-wins merging.

Plain, marshal-able data so that a row goes to disk and through Paxos unchanged:
  cell      = (timestamp_us, value_bytes | None, ttl_s, expires_at_s)   value None is a tombstone
  row       = [marker | None, deleted_at_us | None, {column: cell}, clustering_values | None]
  marker    = (timestamp_us, ttl_s, expires_at_s)                       the row's liveness (INSERT)
  header    = [partition_deleted_at_us | None, static_row | None, [range_tombstone, ...]]
  range_tombstone = (start_bytes, start_inclusive, end_bytes, end_inclusive, deleted_at_us)
Expiry is in seconds since the epoch, 0 meaning never; an expired cell reads as a tombstone.
"""

from __future__ import annotations

Cell = tuple
Row = list


def cell_wins(a: Cell, b: Cell) -> bool:
    """True when a beats b. Cassandra's order: higher timestamp; then a tombstone; then an expiring cell
    (the later expiry); then the greater value."""
    if a[0] != b[0]:
        return a[0] > b[0]
    if (a[1] is None) != (b[1] is None):
        return a[1] is None
    if a[3] != b[3]:
        # An expiring cell beats a non-expiring one; of two expiring ones, the later expiry wins.
        if not a[3] or not b[3]:
            return bool(a[3])
        return a[3] > b[3]
    return (a[1] or b"") > (b[1] or b"")


def merge_rows(a: Row | None, b: Row | None) -> Row | None:
    if a is None:
        return b
    if b is None or a == b:  # equal: replicas in sync hand in the same row (a compare in C, no merge)
        return a
    marker = a[0] if b[0] is None or (a[0] is not None and a[0][0] >= b[0][0]) else b[0]
    deleted = a[1] if b[1] is None or (a[1] is not None and a[1] >= b[1]) else b[1]
    cells = dict(a[2])
    for col, cell in b[2].items():
        old = cells.get(col)
        if old is None or cell_wins(cell, old):
            cells[col] = cell
    return [marker, deleted, cells, a[3] if a[3] is not None else b[3]]


def merge_headers(a: list | None, b: list | None) -> list | None:
    if a is None:
        return b
    if b is None:
        return a
    pdel = a[0] if b[0] is None or (a[0] is not None and a[0] >= b[0]) else b[0]
    tombs = list(a[2])
    tombs.extend(t for t in b[2] if t not in tombs)
    return [pdel, merge_rows(a[1], b[1]), tombs]


def marker_live(row: Row, shadow_at: int | None, now_s: int) -> bool:
    m = row[0]
    if m is None:
        return False
    deleted = row[1]
    if shadow_at is not None and (deleted is None or shadow_at > deleted):
        deleted = shadow_at
    if deleted is not None and m[0] <= deleted:
        return False
    return not (m[2] and m[2] <= now_s)


def in_bounds(ck: bytes, start: bytes, start_incl: bool, end: bytes, end_incl: bool) -> bool:
    """Is clustering key ck inside the slice? Bounds are key prefixes (b'' = unbounded); a prefix covers
    every key that starts with it, which the prefix-free component encoding makes exact."""
    if start:
        if ck < start or (not start_incl and ck.startswith(start)):
            return False
    if end:
        if end_incl:
            if ck > end and not ck.startswith(end):
                return False
        elif ck >= end:
            return False
    return True


def range_deletion_at(tombstones: list, ck: bytes) -> int | None:
    """The newest range tombstone covering clustering key bytes ck, if any."""
    best = None
    for start, start_incl, end, end_incl, ts in tombstones:
        if in_bounds(ck, start, start_incl, end, end_incl) and (best is None or ts > best):
            best = ts
    return best


def max_ts(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
