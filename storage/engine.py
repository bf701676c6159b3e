"""The embedded key-value engine behind one small interface: RocksDB through rocksdict.

Chosen by measurement (../shared/reference/storage-docker-packages.md §1, docs/storage.md): RocksDB's
write-ahead log is written to the OS before `write()` returns, so an acknowledged write survives kill -9;
memtables, sorted files and compaction run in native threads, off the GIL. Keys are bytes ordered
lexicographically, which the key layout in keys.py turns into Cassandra's ordering.
"""

from __future__ import annotations

from collections.abc import Iterator

from rocksdict import BlockBasedOptions, Options, Rdict, WriteBatch, WriteOptions


class Engine:
    def __init__(self, path: str, sync: bool = False) -> None:
        opts = Options(raw_mode=True)
        opts.create_if_missing(True)
        # Bloom filters (10 bits a key, ~1% false positives): most point reads look for something
        # that is not there — the header of a partition without statics, the Paxos state of a
        # partition never used by an LWT, a new row's old value — and skip the sorted files' blocks.
        table = BlockBasedOptions()
        table.set_bloom_filter(10, False)
        opts.set_block_based_table_factory(table)
        # The same for the memtable, where most of those lookups end: a filter check instead of a
        # skip-list search (about 6 % fewer instructions per LWT, measured with cachegrind).
        opts.set_memtable_whole_key_filtering(True)
        opts.set_memtable_prefix_bloom_ratio(0.1)
        self.db = Rdict(path, opts)
        self._wo = WriteOptions()
        self._wo.sync = sync
        self._closed = False
        # Bumped by every write: a value read at one generation is still current at the same one.
        self.generation = 0

    def get(self, key: bytes) -> bytes | None:
        return self.db.get(key)

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        return self.db.get(keys)

    def write(self, puts: list[tuple[bytes, bytes]], deletes: list[bytes] = ()) -> None:
        """Apply atomically: all or nothing, in the log before returning."""
        wb = WriteBatch(raw_mode=True)
        for k, v in puts:
            wb.put(k, v)
        for k in deletes:
            wb.delete(k)
        self.db.write(wb, self._wo)
        self.generation += 1

    def put(self, key: bytes, value: bytes) -> None:
        self.db.put(key, value, self._wo)
        self.generation += 1

    def delete_range(self, start: bytes, end: bytes) -> None:
        wb = WriteBatch(raw_mode=True)
        wb.delete_range(start, end)
        self.db.write(wb, self._wo)
        self.generation += 1

    def scan(self, start: bytes, end: bytes, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        """Keys in [start, end), ascending (or descending when reverse)."""
        # Bounds are checked here rather than with ReadOptions: rocksdict's lower bound ignores raw mode.
        it = self.db.iter()
        if reverse:
            it.seek_for_prev(end)
            while it.valid():
                k = it.key()
                if k < end:
                    break
                it.prev()
            while it.valid():
                k = it.key()
                if k < start:
                    return
                yield k, it.value()
                it.prev()
        else:
            it.seek(start)
            while it.valid():
                k = it.key()
                if k >= end:
                    return
                yield k, it.value()
                it.next()

    def sync(self) -> None:
        self.db.flush_wal(True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.db.flush_wal(True)
            self.db.close()
