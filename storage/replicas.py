"""The replica shards of the process: a token ring over them, placement by replication factor, and
writes/reads that reach a required number of live shards (the consistency level, counted)."""

from __future__ import annotations

import bisect
import logging

from storage.engine import Engine
from storage.mutation import Mutation
from storage.replica import Replica, stage_on
from storage.rows import merge_headers, merge_rows

log = logging.getLogger("cqld.replicas")

MIN_TOKEN = -(1 << 63)


class NotEnoughReplicas(Exception):
    def __init__(self, required: int, alive: int) -> None:
        super().__init__(f"Cannot achieve consistency level: {required} required but only {alive} alive")
        self.required, self.alive = required, alive


class ReplicaSet:
    def __init__(self, engine: Engine, count: int) -> None:
        self.engine = engine
        self.replicas = [Replica(engine, i) for i in range(count)]
        # Shard i owns the tokens in (ring[i-1], ring[i]]: evenly spaced, like vnodes of one node each.
        span = (1 << 64) // count
        self.ring = [MIN_TOKEN + span * (i + 1) for i in range(count)]
        self.ring[-1] = (1 << 63) - 1
        self.on_drop: list = []  # called with the table id after a table's data is dropped

    def placement(self, token: int, rf: int) -> list[Replica]:
        first = bisect.bisect_left(self.ring, token) % len(self.replicas)
        n = min(rf, len(self.replicas))
        return [self.replicas[(first + j) % len(self.replicas)] for j in range(n)]

    def live(self, token: int, rf: int, required: int) -> list[Replica]:
        targets = [r for r in self.placement(token, rf) if r.alive]
        if len(targets) < required:
            raise NotEnoughReplicas(required, len(targets))
        return targets

    def write(self, mutations: list[tuple[Mutation, int]], required: int) -> None:
        """Apply every (mutation, rf) on each live replica, all in one atomic engine write."""
        staged: list[tuple[list[Replica], Mutation]] = []
        for m, rf in mutations:
            staged.append((self.live(m.token, rf, required), m))
        pending: dict[bytes, bytes] = {}
        for targets, m in staged:
            stage_on(targets, m, pending)
        self.engine.write(list(pending.items()))

    def read_partition(
        self, table_id: bytes, token: int, pk: bytes, rf: int, required: int, **slice_
    ) -> tuple[list | None, list[tuple[bytes, list]]]:
        """Merge the partition as `required` live replicas hold it (newest cell wins), and repair them."""
        targets = self.live(token, rf, required)[: max(required, 1)]
        if len(targets) == 1:
            return targets[0].read_partition(table_id, token, pk, **slice_)
        header = None
        merged: dict[bytes, list] = {}
        answers = []
        for r in targets:
            h, rows = r.read_partition(table_id, token, pk, **slice_)
            answers.append((h, rows))
            header = merge_headers(header, h)
            for ck, row in rows:
                merged[ck] = merge_rows(merged.get(ck), row)
        reverse = slice_.get("reverse", False)
        rows = sorted(merged.items(), reverse=reverse)
        limit = slice_.get("limit")
        if limit is not None:
            rows = rows[:limit]
        if any(a != (header, rows) for a in answers):
            self._repair(targets, table_id, token, pk, header, rows)
        return header, rows

    def _repair(self, targets, table_id, token, pk, header, rows) -> None:
        m = Mutation(table_id, pk, token)
        if header is not None:
            m.partition_deleted, m.static, m.range_tombstones = header[0], header[1], header[2]
        m.rows = rows
        pending: dict[bytes, bytes] = {}
        for r in targets:
            r.stage(m, pending)
        self.engine.write(list(pending.items()))

    def partitions(self, table_id: bytes, after: tuple[int, bytes] | None = None):
        """Every partition of a table in token order, each once, from the union of live shards."""
        from storage.replica import partition_suffix

        after_suffix = partition_suffix(*after) if after is not None else None
        iters = [r.scan_partitions(table_id, after_suffix) for r in self.replicas if r.alive]
        import heapq

        last = None
        for token, pk in heapq.merge(*iters, key=lambda tp: partition_suffix(tp[0], tp[1])):
            if (token, pk) != last:
                last = (token, pk)
                yield token, pk

    def repair_shard(self, shard: int, tables: list[tuple[bytes, int]]) -> int:
        """Bring a (stopped) shard up to date: merge into it every partition it owns, as its live peers
        hold it. Returns how many partitions were written."""
        target = self.replicas[shard]
        count = 0
        for table_id, rf in tables:
            for token, pk in self.partitions(table_id):
                placement = self.placement(token, rf)
                if target not in placement:
                    continue
                peers = [r for r in placement if r.alive and r is not target]
                header, merged = None, {}
                for r in peers:
                    h, rows = r.read_partition(table_id, token, pk)
                    header = merge_headers(header, h)
                    for ck, row in rows:
                        merged[ck] = merge_rows(merged.get(ck), row)
                m = Mutation(table_id, pk, token)
                if header is not None:
                    m.partition_deleted, m.static, m.range_tombstones = header[0], header[1], header[2]
                m.rows = sorted(merged.items())
                pending: dict[bytes, bytes] = {}
                target.stage(m, pending)
                self.engine.write(list(pending.items()))
                count += 1
        return count

    def drop_table(self, table_id: bytes) -> None:
        for r in self.replicas:
            r.drop_table(table_id)
        for callback in self.on_drop:
            callback(table_id)
