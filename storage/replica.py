"""One replica shard: its slice of every table and its Paxos state, in the shared engine.

Key layout (every component ordered so that byte order is Cassandra's order):
  b'd' shard table_id token partition_key 0x00               partition header (deletion, statics, ranges)
  b'd' shard table_id token partition_key 0x01 clustering    one clustering row
  b'q' table_id token partition_key                          Paxos state of the partition, every replica's
where token is the Murmur3 token with its sign bit flipped (big-endian) and partition_key is
u16 length + bytes.
"""

from __future__ import annotations

import functools
import marshal
import struct
from collections.abc import Iterator

from storage.engine import Engine
from storage.mutation import Mutation
from storage.rows import merge_headers, merge_rows

_TOKEN = struct.Struct(">QH")
_SIGN = 1 << 63
HEADER_TAG = b"\x00"
ROW_TAG = b"\x01"


@functools.lru_cache(maxsize=4096)
def partition_suffix(token: int, pk: bytes) -> bytes:
    # Cached: an LWT builds the keys of its partition a dozen times (data and Paxos state, per replica).
    return _TOKEN.pack(token ^ _SIGN if token >= 0 else (token + (1 << 64)) ^ _SIGN, len(pk)) + pk


def decode_partition_suffix(data: bytes, offset: int) -> tuple[int, bytes, int]:
    raw, n = _TOKEN.unpack_from(data, offset)
    token = raw ^ _SIGN
    if token >= _SIGN:
        token -= 1 << 64
    start = offset + _TOKEN.size
    return token, data[start : start + n], start + n


class Replica:
    def __init__(self, engine: Engine, shard: int) -> None:
        self.engine = engine
        self.shard = shard
        self.alive = True
        self._data = b"d" + bytes([shard])
        # The decoded values of the last point read and the engine generation they were read at: an
        # LWT reads its row in the prepare and merges its update into the same row in the commit, with
        # no engine write in between, so the commit needs not read it again.
        self._last_read: dict[bytes, object] = {}
        self._last_read_at = -1

    # ------------------------------------------------------------ data

    def partition_key(self, table_id: bytes, token: int, pk: bytes) -> bytes:
        return self._data + table_id + partition_suffix(token, pk)

    def stage(self, m: Mutation, pending: dict[bytes, bytes]) -> None:
        """Merge the mutation into current data, writing the merged values into `pending` (read-through)."""
        stage_on([self], m, pending)

    def _load(self, key: bytes, pending: dict[bytes, bytes]):
        raw = pending.get(key)
        if raw is not None:
            return marshal.loads(raw)
        if self._last_read_at == self.engine.generation:
            last = self._last_read
            if key in last:
                return last[key]
        return self._get(key)

    def _get(self, key: bytes):
        raw = self.engine.get(key)
        return None if raw is None else marshal.loads(raw)

    def read_partition(
        self,
        table_id: bytes,
        token: int,
        pk: bytes,
        start: bytes = b"",
        end: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> tuple[list | None, list[tuple[bytes, list]]]:
        """The raw header and rows of a partition, rows with clustering bytes in [start, end)."""
        prefix = self.partition_key(table_id, token, pk)
        header_key = prefix + HEADER_TAG
        row_prefix = prefix + ROW_TAG
        hi = row_prefix + end if end is not None else prefix + b"\x02"
        n = len(row_prefix)
        rows = []
        if end is not None and len(end) == len(start) + 1 and end[-1] == 0 and end.startswith(start):
            # Exactly one clustering key (nothing sorts between k and k + 00).
            return self.read_row(table_id, token, pk, start)
        if not start and not reverse:
            lo, header = header_key, None  # the header sorts just before the rows: one seek reads both
        else:
            lo, header = row_prefix + start, self._get(header_key)
        for k, v in self.engine.scan(lo, hi, reverse):
            if k == header_key:
                header = marshal.loads(v)
                continue
            rows.append((k[n:], marshal.loads(v)))
            if limit is not None and len(rows) >= limit:
                break
        return header, rows

    def read_row(self, table_id: bytes, token: int, pk: bytes, ck: bytes) -> tuple[list | None, list]:
        """`read_partition` of the one row `ck` by point lookups, which the bloom filters answer without
        reading blocks (a seek visits every sorted file)."""
        return read_rows([self], table_id, token, pk, ck)[0]

    def scan_partitions(self, table_id: bytes, after: bytes | None = None) -> Iterator[tuple[int, bytes]]:
        """(token, pk) of every partition this shard holds for the table, in token order, after a suffix."""
        base = self._data + table_id
        lo = base + after + b"\x03" if after is not None else base
        hi = base + b"\xff" * 10
        last = None
        for k, _ in self.engine.scan(lo, hi):
            token, pk, _end = decode_partition_suffix(k, len(base))
            if (token, pk) != last:
                last = (token, pk)
                yield token, pk

    def drop_table(self, table_id: bytes) -> None:
        # The table's Paxos state (one value per partition for all replicas) goes with any replica's data.
        for prefix in (self._data, LEGACY_PAXOS_PREFIX + bytes([self.shard]), PAXOS_PREFIX):
            base = prefix + table_id
            self.engine.delete_range(base, base + b"\xff" * 12)


# ------------------------------------------------------------ paxos state

PAXOS_PREFIX = b"q"
LEGACY_PAXOS_PREFIX = b"p"  # before 2026-12-02: b'p' shard table_id token partition_key, one per replica
_TABLE_ID = 16  # a table id is its uuid's bytes


def paxos_key(table_id: bytes, token: int, pk: bytes) -> bytes:
    return PAXOS_PREFIX + table_id + partition_suffix(token, pk)


def decode_paxos_key(key: bytes) -> tuple[bytes, int, bytes]:
    """(table_id, token, partition key) of a key written by `paxos_key`."""
    token, pk, _end = decode_partition_suffix(key, 1 + _TABLE_ID)
    return key[1 : 1 + _TABLE_ID], token, pk


def decode_legacy_paxos_key(key: bytes) -> tuple[int, tuple[bytes, int, bytes]]:
    """(shard, (table_id, token, partition key)) of a key of the earlier layout."""
    token, pk, _end = decode_partition_suffix(key, 2 + _TABLE_ID)
    return key[1], (key[2 : 2 + _TABLE_ID], token, pk)


def stage_on(replicas: list[Replica], m: Mutation, pending: dict[bytes, bytes]) -> None:
    """`Replica.stage` of one mutation on each of `replicas` (one engine). Replicas whose old value is
    the same object (absent, or shared by `read_rows` when they are in step) get the same merged
    bytes, merged and encoded once."""
    suffix = m.table_id + partition_suffix(m.token, m.pk)
    parts: list[tuple[bytes, object, bool]] = []
    if m.partition_deleted is not None or m.static is not None or m.range_tombstones:
        parts.append((HEADER_TAG, [m.partition_deleted, m.static, list(m.range_tombstones)], True))
    for ck, row in m.rows:
        parts.append((ROW_TAG + ck, row, False))
    for tail, new, is_header in parts:
        done: list[tuple[object, bytes]] = []  # (old value, merged bytes); holding `old` keeps `is` honest
        for r in replicas:
            key = r._data + suffix + tail
            old = r._load(key, pending)
            merged = next((enc for seen, enc in done if seen is old), None)
            if merged is None:
                merged = marshal.dumps(merge_headers(old, new) if is_header else merge_rows(old, list(new)))
                done.append((old, merged))
            pending[key] = merged


def read_rows(replicas: list[Replica], table_id: bytes, token: int, pk: bytes, ck: bytes) -> list[tuple]:
    """`Replica.read_row` on each of `replicas` (one engine), their keys looked up together."""
    suffix = table_id + partition_suffix(token, pk)
    row_tail, header_tail = ROW_TAG + ck, HEADER_TAG
    keys: list[bytes] = []
    for r in replicas:
        prefix = r._data + suffix
        keys += (prefix + row_tail, prefix + header_tail)
    engine = replicas[0].engine
    raws = engine.get_many(keys)
    generation = engine.generation
    # Replicas in sync hold the same bytes: each distinct value decoded once and shared (read-only).
    decoded: dict[bytes | None, object] = {None: None}
    for raw in raws:
        if raw not in decoded:
            decoded[raw] = marshal.loads(raw)
    out = []
    for i, r in enumerate(replicas):
        row, header = decoded[raws[2 * i]], decoded[raws[2 * i + 1]]
        r._last_read = {keys[2 * i]: row, keys[2 * i + 1]: header}
        r._last_read_at = generation
        out.append((header, [] if row is None else [(ck, row)]))
    return out
