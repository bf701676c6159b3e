"""Lightweight transactions: conditional statements turned into Paxos rounds over the replica shards
(their acceptor state is in server.paxos_store), and the rounds' outcome into Cassandra's [applied]
result set."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time

from paxos import Acceptor, Coordinator, FaultyTransport, LocalTransport
from paxos.ballot import BallotClock, ballot_from_micros, ballot_micros
from paxos.errors import PaxosCommitTimeout, PaxosError, PaxosOverloaded, PaxosTimeout, PaxosUnavailable
from server import errors
from server import messages as msg
from server.dispatch import Result
from server.paxos_store import ShardGroup, ShardPaxos, StagedWrites, entry_summary, migrate
from server.statements.reads import live_rows
from server.statements.tables import now_micros
from storage import cqltypes
from storage.mutation import Mutation, at_commit_timestamp
from storage.replica import PAXOS_PREFIX, decode_paxos_key
from storage.rows import merge_headers, merge_rows
from storage.schema import STATIC
from storage.token import split_partition_key

log = logging.getLogger("cqld.lwt")
PURGE_REST = 3.0  # the purge sleeps this many times as long as each step took
PAXOS_END = bytes([PAXOS_PREFIX[0] + 1])
APPLIED = cqltypes.lookup_native("boolean")
TRUE, FALSE = APPLIED.serialize(True), APPLIED.serialize(False)


@functools.lru_cache(maxsize=1024)
def _cas_head(keyspace: str, table: str, columns: tuple = ()) -> bytes:
    """The head of a conditional statement's result: `[applied]`, then `columns` as (name, type option)
    pairs. The same bytes for every result of one shape; building them took a tenth of a not-applied
    LWT's time."""
    specs = [msg.ColumnSpec(keyspace, table, "[applied]", APPLIED.option())]
    specs += [msg.ColumnSpec(keyspace, table, n, option) for n, option in columns]
    return msg.rows_head(specs)


def _cas_columns(cols) -> tuple:
    return tuple((c.name, c.type.option()) for c in cols)


@functools.lru_cache(maxsize=1024)
def _applied_body(keyspace: str, table: str) -> bytes:
    """`[applied] = true` alone: the same bytes for every applied LWT on a table."""
    return _cas_head(keyspace, table) + msg.rows_of([[TRUE]])


def _by_clustering(table, pk_values: list, header, rows) -> tuple[dict, object]:
    """A partition read as (live rows by clustering, the first live row): the static-only read is the
    static row and the first live row, as Cassandra's LIMIT 1 read."""
    live = live_rows(table, pk_values, header, rows, int(time.time()), include_static_only=True)
    return {r.ck: r for r in live if not r.static_only}, (live[0] if live else None)


def _holds(stmt, values: list, by_ck: dict, first, ck: bytes) -> bool:
    """Whether one statement's IF holds on a partition read (live rows by clustering, the first live
    row, which carries the statics): a batch's statements are judged on one read of their partition."""
    row = by_ck.get(ck) if stmt.table.clustering and not stmt.static_only else first
    if stmt.if_not_exists:
        return row is None
    if stmt.if_exists:
        return row is not None
    values_now = row.values if row is not None else (first.values if first is not None else {})
    return all(c.applies_to(values_now, values) for c in stmt.conditions)


def _current(by_ck: dict, first, ck: bytes) -> dict:
    """The values a read-before-write operation of a batch starts from: its row's, else the statics."""
    row = by_ck.get(ck)
    return row.values if row is not None else (first.values if first is not None else {})


def merge_reads(reads: list):
    if reads:
        h0, r0 = reads[0]
        if len(r0) <= 1 and all(h is h0 and rs == r0 for h, rs in reads):
            return h0, r0  # replicas in step (they share decoded values): nothing to merge
    header = None
    rows: dict[bytes, list] = {}
    for h, rs in reads:
        header = merge_headers(header, h)
        for ck, row in rs:
            rows[ck] = merge_rows(rows.get(ck), row)
    return header, sorted(rows.items())


def _no_read(reads: list) -> None:
    return None


def faulty(inner: LocalTransport, spec: str) -> FaultyTransport:
    """A seeded faulty network from a setting like "seed=1,drop=0.05,delay_ms=2,duplicate=0.01"."""
    opts = {}
    for part in spec.split(","):
        if part.strip():
            key, _, value = part.partition("=")
            opts[key.strip()] = float(value)
    delay = opts.get("delay_ms", 0.0) / 1000
    log.warning("Paxos fault injection on: %s", spec)
    return FaultyTransport(
        inner,
        int(opts.get("seed", 0)),
        drop_request=opts.get("drop", 0.0) / 2,
        drop_reply=opts.get("drop", 0.0) / 2,
        duplicate=opts.get("duplicate", 0.0),
        delay=(0.0, delay),
        timeout=max(0.01, 4 * delay),
    )


def cas_error(e: PaxosError, params, read: bool = False) -> errors.CqlError:
    """A Paxos failure as Cassandra reports it on protocol v4: Unavailable at SERIAL, WriteTimeout of
    type CAS (SIMPLE when the decision was taken but its commit timed out), ReadTimeout for SERIAL reads."""
    if isinstance(e, PaxosUnavailable):
        cl = params.consistency if read else params.serial_consistency
        return errors.Unavailable("Cannot achieve consistency level SERIAL", cl, e.required, e.alive)
    if isinstance(e, PaxosOverloaded):
        return errors.Overloaded(str(e))
    if isinstance(e, PaxosTimeout):
        if read:
            return errors.ReadTimeout(str(e), params.consistency, e.received, e.required, False)
        if isinstance(e, PaxosCommitTimeout):
            return errors.WriteTimeout(str(e), params.consistency, e.received, e.required, "SIMPLE")
        return errors.WriteTimeout(str(e), params.serial_consistency, e.received, e.required, "CAS")
    raise AssertionError(f"unexpected Paxos error {e!r}")


def _without_statics(row, table):
    from server.statements.reads import LiveRow

    names = {c.name for c in table.statics}
    return LiveRow(row.ck, {k: v for k, v in row.values.items() if k not in names}, row.cells, row.static_only)


class LwtService:
    """Each entry point writes whatever the acceptors staged (server.paxos_store) in a `finally` around its
    Paxos work, so that it is on disk before the client hears anything, error or result. (A decorator did
    this once; its extra coroutine cost 1.5 % of an LWT.)"""

    def __init__(self, node) -> None:
        self.node = node
        replicas = node.replicas.replicas
        self.staged = StagedWrites(node.engine)
        shards = {r.shard: ShardPaxos(r, self.staged) for r in replicas}
        self.acceptors = {shard: Acceptor(p) for shard, p in shards.items()}
        group = ShardGroup(shards, self.staged)
        self.local = LocalTransport(self.acceptors, sync=self.staged.flush_data, group=group)
        self.transport = faulty(self.local, node.config.paxos_faults) if node.config.paxos_faults else self.local
        node_id = int.from_bytes(node.host_id.bytes[-6:], "big")
        self.clock = BallotClock(now_micros, node_id)
        converted = migrate(node.engine)  # data dirs of the earlier layout, before any round
        if converted:
            log.info("converted %d replica Paxos states to one value per partition", converted)
        self._observe_disk()
        node.replicas.on_drop.append(lambda _table_id: self.forget())
        self.applied = self.not_applied = self.latency_total_us = self.latency_max_us = 0
        loop = asyncio.get_event_loop()
        self.coordinator = Coordinator(
            self.clock,
            self.transport,
            random.Random(),
            asyncio.sleep,
            loop.time,
            max_waiters=node.config.paxos_queue_limit,
            fuse_commit=self.transport is self.local,
        )

    def _observe_disk(self) -> None:
        # Ballots must stay above every ballot a replica promised, also after the clock went back;
        # states dropped (purged, or settled by a one-pass round) leave the floor HIGHEST_BALLOT_KEY.
        engine = self.node.engine
        if self.staged.floor_micros:  # read from the engine by StagedWrites
            self.clock.observe(ballot_from_micros(self.staged.floor_micros, 0))
        found = False
        for _k, v in engine.scan(PAXOS_PREFIX, PAXOS_END):
            self.clock.observe(entry_summary(v)[0])
            found = True
        self.staged.any_state = found

    def forget(self) -> None:
        """Drop the cached Paxos states (their table was dropped)."""
        self.staged.cache.clear()

    async def purge(self, older_than_micros: int) -> int:
        """Drop the Paxos state of partitions whose last round finished long ago, a chunk at a time."""
        total, kept, start = 0, 0, PAXOS_PREFIX
        staged = self.staged
        staged.flush()
        flushes = staged.state_flushes
        while start is not None:
            began = time.perf_counter()
            n, k, start = self.purge_chunk(older_than_micros, start)
            total += n
            kept += k
            # At most a quarter of the server's time: a purge after a busy minute judges tens of
            # thousands of partitions (about a second of CPU), which back to back held every request.
            if start is not None:
                await asyncio.sleep(PURGE_REST * (time.perf_counter() - began))
        if not kept and staged.state_flushes == flushes:  # nothing left, nothing stored since the pass began
            staged.any_state = False
        return total

    def purge_chunk(self, older_than_micros: int, start: bytes) -> tuple[int, int, bytes | None]:
        """Purge among the next `paxos_purge_batch` partitions from `start`; returns (purged, kept, where
        to go on or None).

        A partition whose replicas' states are all settled (no accepted proposal newer than the
        commit) and whose ballots are all older than the retention can no longer matter: every round
        that could still use it timed out long before, and the data it committed is in the replicas.
        Its ballot is kept as the highest seen, so the clock stays above it after a restart. Without
        this, system.paxos grows forever (as ScyllaDB's did). A chunk is read, judged and deleted
        without yielding, so no LWT can change a state between the judgement and the delete; between
        chunks the event loop serves requests."""
        engine = self.node.engine
        self.staged.flush()
        doomed: list[bytes] = []
        highest = None
        seen = 0
        batch = max(1, self.node.config.paxos_purge_batch)
        tables = {t.id_bytes for t in self.node.all_tables()}
        for k, v in engine.scan(start, PAXOS_END):
            if seen == batch:
                break
            seen += 1
            newest, settled = entry_summary(v)
            # The state of a dropped table goes whatever it holds (a round still in flight when the
            # table was dropped, under paxos_faults, can write it back after DROP TABLE deleted it).
            dropped = decode_paxos_key(k)[0] not in tables
            if not dropped and (not settled or (newest is not None and ballot_micros(newest) >= older_than_micros)):
                continue
            if newest is not None and (highest is None or newest > highest):
                highest = newest
            doomed.append(k)
        else:
            k = None  # the scan ran out: this was the last chunk
        if doomed:
            if highest is not None:
                self.staged.raise_floor(ballot_micros(highest))
            for key in doomed:
                self.staged.drop(decode_paxos_key(key))
            self.staged.flush()  # the floor and the deletes, in one atomic write
        return len(doomed), seen - len(doomed), k

    def state_size(self) -> tuple[int, int]:
        """(partitions holding Paxos state, their keys' and values' bytes before compression)."""
        self.staged.flush()
        partitions = size = 0
        for k, v in self.node.engine.scan(PAXOS_PREFIX, PAXOS_END):
            partitions += 1
            size += len(k) + len(v)
        return partitions, size

    async def purge_forever(self) -> None:
        cfg = self.node.config
        while True:
            await asyncio.sleep(cfg.paxos_purge_interval_s)
            total = await self.purge(now_micros() - cfg.paxos_state_retention_s * 1_000_000)
            if total:
                log.info("purged the Paxos state of %d settled partitions", total)

    def set_alive(self, shard: int, alive: bool) -> None:
        (self.local.start if alive else self.local.stop)(shard)

    def count(self, applied: bool, started: float) -> None:
        if applied:
            self.applied += 1
        else:
            self.not_applied += 1
        micros = int((time.perf_counter() - started) * 1e6)
        self.latency_total_us += micros
        self.latency_max_us = max(self.latency_max_us, micros)

    def stats(self) -> dict[str, int]:
        """Counters in the spirit of Cassandra's CASWrite metrics (system_views.lwt_stats)."""
        c = self.coordinator.stats
        done = self.applied + self.not_applied
        return {
            "applied": self.applied,
            "not_applied": self.not_applied,
            "paxos_rounds": c.rounds,
            # Of those, rounds run as one pass over the replicas' states (paxos.fast): uncontended ones.
            "paxos_one_pass_rounds": c.fast_rounds,
            "contention_retries": c.contentions,
            "queue_waits": c.queue_waits,
            "in_progress_completed_or_restarted": c.restarts,
            "timeouts": c.timeouts,
            "unknown_results": c.unknown,
            "unavailables": c.unavailable,
            "overloaded": c.overloaded,
            # Engine writes of Paxos state and committed data: one per LWT, whatever the replica count.
            "paxos_engine_writes": self.staged.writes,
            # Partitions' Paxos states looked up in the engine: none while no partition holds any.
            "paxos_state_lookups": self.staged.lookups,
            "latency_mean_us": self.latency_total_us // done if done else 0,
            "latency_max_us": self.latency_max_us,
        }

    async def cas(self, stmt, values: list, params) -> Result:
        started = time.perf_counter()
        node = self.node
        table = stmt.table
        if params.serial_consistency not in (8, 9):
            raise errors.InvalidRequest(
                "Invalid consistency for conditional update. Must be one of SERIAL or LOCAL_SERIAL"
            )
        keys = stmt.keys(values)
        token, pk = keys[0]
        cks = stmt.clusterings(values)
        ck = cks[0][0]
        rf = node.rf(table.keyspace)
        placement = node.replicas.placement(token, rf)
        quorum = len(placement) // 2 + 1
        commit_acks = node.consistency_count(
            table.keyspace, params.consistency, for_write=True, token=token, check=False
        )
        if not (table.clustering and stmt.static_only):
            # One row (the only one when the table has no clustering columns): point lookups.
            read_request = ck
        else:
            read_request = {"limit": 1}  # the statics, and the first row they ride on
        pk_values = split_partition_key(pk, len(table.partition_key))

        last: list = [None, None]  # the rows of the last read and their current row: `result` asks again

        def current_row(header, rows, now_s):
            if last[0] is rows:
                return last[1]
            if header is None and not rows:
                return None, None  # a partition nobody wrote (most IF NOT EXISTS): nothing to make live
            live = live_rows(table, pk_values, header, rows, now_s, include_static_only=True)
            row = next((r for r in live if r.ck == ck and not r.static_only), None)
            # Statics ride on every row of the partition, or alone when it has no rows.
            static_row = row if row is not None else (live[0] if live else None)
            last[0], last[1] = rows, (row, static_row)
            return row, static_row

        def decide(merged, timestamp: int):
            header, rows = merged
            row, static_row = current_row(header, rows, int(time.time()))
            base = static_row.values if static_row is not None else {}  # the row's, else the statics
            if stmt.if_not_exists or stmt.if_exists:
                if table.clustering and stmt.static_only:
                    exists = static_row is not None and any(c.name in base for c in table.statics)
                else:
                    exists = row is not None
                ok = exists if stmt.if_exists else not exists
            else:
                ok = all(c.applies_to(base, values) for c in stmt.conditions)
            if not ok:
                return None, False
            _ts, ttl = stmt.write_params(values, timestamp)  # the ballot's time: no clock read
            muts = stmt.mutations(values, timestamp, ttl, current=lambda *_a: base, keys=keys, cks=cks)
            if not muts:
                return None, True
            m = muts[0]
            for other in muts[1:]:
                m.absorb(other)
            return at_commit_timestamp(m, timestamp), True

        try:
            result = await self.coordinator.cas(
                (table.id_bytes, token, pk),
                [r.shard for r in placement],
                read_request,
                decide,
                merge_reads,
                quorum=quorum,
                commit_acks=max(commit_acks, 0),
                timeout=node.config.cas_contention_timeout_ms / 1000,
            )
        except PaxosError as e:
            raise cas_error(e, params) from None
        finally:
            self.staged.flush()  # see LwtService: before any reply
        self.count(result.applied, started)
        return self.result(stmt, result.applied, result.read, current_row)

    def result(self, stmt, applied: bool, merged, current_row) -> Result:
        table = stmt.table
        ks, name = table.keyspace, table.name
        if applied and self.node.config.lwt_result_shape != "scylla":
            return Result(_applied_body(ks, name))
        header, rows = merged
        row, static_row = current_row(header, rows, int(time.time()))
        if stmt.if_exists or stmt.if_not_exists:
            cols = table.star
        else:
            seen: list = []
            for c in stmt.conditions:
                if c.column.kind != STATIC and c.column not in seen:
                    seen.append(c.column)
            for c in stmt.conditions:
                if c.column.kind == STATIC and c.column not in seen:
                    seen.append(c.column)
            cols = seen
        # Cassandra reads static columns only when the statement updates or conditions one: otherwise
        # they are absent from the result, and a partition with only statics reads as no row at all.
        reads_statics = (
            stmt.static_only
            or any(c.column.kind == STATIC for c in stmt.conditions)
            or any(op.column.kind == STATIC for op in stmt.ops)
        )
        target = row if row is not None else (static_row if reads_statics else None)
        if target is not None and not reads_statics:
            target = _without_statics(target, table)
        if self.node.config.lwt_result_shape == "scylla":
            # ScyllaDB's shape: always one row of the old values (nulls when absent), applied or not.
            old = target.values if target is not None else {}
            row_out = [TRUE if applied else FALSE] + [old.get(c.name) for c in cols]
            return Result(_cas_head(ks, name, _cas_columns(cols)) + msg.rows_of([row_out]))
        if target is None or (row is None and not any(c.kind == STATIC for c in cols)):
            return Result(_cas_head(ks, name) + msg.rows_of([[FALSE]]))
        head = _cas_head(ks, name, _cas_columns(cols))
        return Result(head + msg.rows_of([[FALSE] + [target.values.get(c.name) for c in cols]]))

    async def read_barrier(self, table, token: int, pk: bytes, params) -> None:
        node = self.node
        rf = node.rf(table.keyspace)
        placement = node.replicas.placement(token, rf)
        try:
            await self.coordinator.read_serial(
                (table.id_bytes, token, pk),
                [r.shard for r in placement],
                None,  # no read: the SELECT reads once the partition is settled
                _no_read,
                quorum=len(placement) // 2 + 1,
                timeout=node.config.read_request_timeout_ms / 1000,
            )
        except PaxosError as e:
            raise cas_error(e, params, read=True) from None
        finally:
            self.staged.flush()

    async def cas_batch(self, batch, value_lists: list[list], params) -> Result:
        """A conditional batch: one partition of one table, one read for every condition, every update
        committed together at the ballot's timestamp, or nothing."""
        started = time.perf_counter()
        node = self.node
        stmts = batch.statements
        if params.serial_consistency not in (8, 9):
            raise errors.InvalidRequest(
                "Invalid consistency for conditional update. Must be one of SERIAL or LOCAL_SERIAL"
            )
        table = stmts[0].table
        keys = set()
        for s, values in zip(stmts, value_lists, strict=True):
            if s.table is not table:
                if node.config.lwt_cross_partition_batches:
                    return await self.cas_multi(batch, value_lists, params)
                raise errors.InvalidRequest("Batch with conditions cannot span multiple tables")
            for r in s.restrictions.values():
                if r.in_ is not None or r.in_marker is not None or r.multi is not None:
                    raise errors.InvalidRequest(
                        "IN on the clustering key columns is not supported with conditional updates"
                    )
            keys.update(s.keys(values))
        if len(keys) != 1:
            if node.config.lwt_cross_partition_batches:
                return await self.cas_multi(batch, value_lists, params)
            raise errors.InvalidRequest("Batch with conditions cannot span multiple partitions")
        token, pk = keys.pop()
        rf = node.rf(table.keyspace)
        placement = node.replicas.placement(token, rf)
        commit_acks = node.consistency_count(table.keyspace, params.consistency, for_write=True, check=False)
        pk_values = split_partition_key(pk, len(table.partition_key))
        targets = []
        for s, values in zip(stmts, value_lists, strict=True):
            cks = s.clusterings(values)
            targets.append(cks[0][0] if cks else b"")
        seen_kinds: dict[bytes, set] = {}
        for s, ck in zip(stmts, targets, strict=True):
            kinds = seen_kinds.setdefault(ck, set())
            kinds.add(
                "exists" if s.if_exists else "not_exists" if s.if_not_exists else "cond" if s.conditions else "none"
            )
            if "exists" in kinds and "not_exists" in kinds:
                raise errors.InvalidRequest("Cannot mix IF EXISTS and IF NOT EXISTS conditions for the same row")
            if "cond" in kinds and ("exists" in kinds or "not_exists" in kinds):
                raise errors.InvalidRequest(
                    "Cannot mix IF conditions and IF "
                    + ("NOT " if "not_exists" in kinds else "")
                    + "EXISTS for the same row"
                )

        def decide(merged, timestamp: int):
            by_ck, static_row = _by_clustering(table, pk_values, *merged)
            judged = zip(stmts, value_lists, targets, strict=True)
            if not all(_holds(s, values, by_ck, static_row, ck) for s, values, ck in judged):
                return None, False
            m = Mutation(table.id_bytes, pk, token)
            for s, values, ck in zip(stmts, value_lists, targets, strict=True):
                base = _current(by_ck, static_row, ck)
                _ts, ttl = s.write_params(values, timestamp)
                for mu in s.mutations(values, timestamp, ttl, current=lambda *_a, _b=base: _b):
                    m.absorb(mu)
            return at_commit_timestamp(m, timestamp), True

        try:
            result = await self.coordinator.cas(
                (table.id_bytes, token, pk),
                [r.shard for r in placement],
                {},
                decide,
                merge_reads,
                quorum=len(placement) // 2 + 1,
                commit_acks=commit_acks,
                timeout=node.config.cas_contention_timeout_ms / 1000,
            )
        except PaxosError as e:
            raise cas_error(e, params) from None
        finally:
            self.staged.flush()
        self.count(result.applied, started)
        ks, name = table.keyspace, table.name
        if result.applied:
            return Result(_applied_body(ks, name))
        by_ck, static_row = _by_clustering(table, pk_values, *result.read)
        if any(s.if_exists or s.if_not_exists for s in stmts):
            cols = list(table.star)
        else:
            cols = list(table.partition_key + table.clustering)
            for s in stmts:
                for c in s.conditions:
                    if c.column not in cols:
                        cols.append(c.column)
        conditional_cks = sorted({ck for s, ck in zip(stmts, targets, strict=True) if s.is_conditional})
        out_rows = [by_ck[ck] for ck in conditional_cks if ck in by_ck]
        if not out_rows and static_row is not None and any(s.is_conditional and s.static_only for s in stmts):
            out_rows = [static_row]
        if not out_rows:
            return Result(_cas_head(ks, name) + msg.rows_of([[FALSE]]))
        out = [[FALSE] + [r.values.get(c.name) for c in cols] for r in out_rows]
        return Result(_cas_head(ks, name, _cas_columns(cols)) + msg.rows_of(out))

    async def cas_multi(self, batch, value_lists: list[list], params) -> Result:
        """A conditional batch over several partitions or tables (Amazon Keyspaces allows these; opt-in
        here with lwt_cross_partition_batches). Linearizable and atomic: the turn of every partition is
        held (in key order, so two such batches cannot deadlock), each partition's state is settled by a
        SERIAL Paxos read, all conditions are evaluated on those reads, and every update is applied in one
        atomic engine write stamped with one new ballot's timestamp, above every ballot used so far."""
        node = self.node
        stmts = batch.statements
        if params.serial_consistency not in (8, 9):
            raise errors.InvalidRequest(
                "Invalid consistency for conditional update. Must be one of SERIAL or LOCAL_SERIAL"
            )
        parts: dict[tuple, tuple] = {}
        targets = []
        for s, values in zip(stmts, value_lists, strict=True):
            keys = s.keys(values)
            cks = s.clusterings(values)
            if s.is_conditional and (len(keys) != 1 or cks is None or len(cks) != 1):
                raise errors.InvalidRequest("IN on the partition key is not supported with conditional updates")
            for token, pk in keys:
                parts[(s.table.id_bytes, token, pk)] = (s.table, token, pk)
            token, pk = keys[0]
            targets.append(((s.table.id_bytes, token, pk), cks[0][0] if cks else b""))
        order = sorted(parts)
        quorum = max(len(node.replicas.placement(t, node.rf(tb.keyspace))) // 2 + 1 for tb, t, _ in parts.values())
        timeout = node.config.cas_contention_timeout_ms / 1000
        try:
            async with self.coordinator.exclusive(order, timeout, quorum) as deadline:
                live: dict[tuple, tuple] = {}
                for key in order:
                    table, token, pk = parts[key]
                    placement = node.replicas.placement(token, node.rf(table.keyspace))
                    header, rows = await self.coordinator.read_serial_held(
                        key,
                        [r.shard for r in placement],
                        {},
                        merge_reads,
                        quorum=len(placement) // 2 + 1,
                        deadline=deadline,
                    )
                    live[key] = _by_clustering(table, split_partition_key(pk, len(table.partition_key)), header, rows)
                judged = zip(stmts, value_lists, targets, strict=True)
                applied = all(_holds(s, values, *live[key], ck) for s, values, (key, ck) in judged)
                if applied:
                    ts = ballot_micros(self.clock.next())
                    # Written without Paxos state: the floor must cover it before the data is on disk.
                    self.staged.raise_floor(ts)
                    self.staged.flush()
                    # One update per partition, as one Paxos commit would write it.
                    by_partition: dict[tuple, tuple[Mutation, int]] = {}
                    required = 1
                    for s, values, (key, ck) in zip(stmts, value_lists, targets, strict=True):
                        base = _current(*live[key], ck)
                        _ts, ttl = s.write_params(values, ts)
                        rf = node.rf(s.table.keyspace)
                        required = max(
                            required,
                            node.consistency_count(s.table.keyspace, params.consistency, for_write=True, check=False),
                        )
                        for m in s.mutations(values, ts, ttl, current=lambda *_a, _b=base: _b):
                            held = by_partition.setdefault((m.table_id, m.pk), (m, rf))[0]
                            if held is not m:
                                held.absorb(m)
                    writes = [(at_commit_timestamp(m, ts), rf) for m, rf in by_partition.values()]
                    await node.write(writes, required, params.consistency)
        except PaxosError as e:
            raise cas_error(e, params) from None
        finally:
            self.staged.flush()
        table = stmts[0].table
        return Result(_cas_head(table.keyspace, table.name) + msg.rows_of([[TRUE if applied else FALSE]]))
