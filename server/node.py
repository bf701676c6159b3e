"""One cqld process: storage engine, schema, replica shards, Paxos, the listening socket; start-up
(recovery) and graceful shutdown (SIGTERM: stop accepting, flush, close, exit 0)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import signal
import socket
import time
import uuid

from server import messages as msg
from server.connection import Connection
from server.dispatch import Dispatcher, Result
from server.errors import InvalidRequest, Unavailable, unavailable
from server.executor import Executor
from server.system_tables import RELEASE_VERSION, SystemTables
from storage.commit import GroupCommit
from storage.engine import Engine
from storage.replicas import NotEnoughReplicas, ReplicaSet
from storage.schema import Schema

log = logging.getLogger("cqld")

VERSION = "0.1.0"
HOST_ID_KEY = b"h"
PAGING_KEY = b"k"

CL_NAMES = msg.CONSISTENCY_NAMES


class Node:
    def __init__(self, config) -> None:
        self.config = config
        self.port = config.port
        self.connections: set[Connection] = set()
        self.server: asyncio.AbstractServer | None = None
        self._rf: dict[str, tuple[dict, int]] = {}  # keyspace -> (its replication options, RF)

    # ------------------------------------------------------------ start-up

    def open(self) -> None:
        cfg = self.config
        t0 = time.monotonic()
        os.makedirs(cfg.data_dir, exist_ok=True)
        db = os.path.join(cfg.data_dir, "db")
        logs = [os.path.join(db, f) for f in os.listdir(db) if f.endswith(".log")] if os.path.isdir(db) else []
        if logs:
            log.info("replaying %d write-ahead log file(s), %d bytes", len(logs), sum(os.path.getsize(f) for f in logs))
        self.engine = Engine(db)
        self.group_commit = GroupCommit(self.engine.sync, cfg.commitlog_sync == "batch")
        self.schema = Schema.load(self.engine)
        raw = self.engine.get(HOST_ID_KEY)
        if raw is None:
            raw = uuid.uuid4().bytes
            self.engine.put(HOST_ID_KEY, raw)
        self.host_id = uuid.UUID(bytes=raw)
        key = self.engine.get(PAGING_KEY)
        if key is None:
            key = secrets.token_bytes(32)
            self.engine.put(PAGING_KEY, key)
        self.paging_key = key
        self.replicas = ReplicaSet(self.engine, cfg.replicas)
        self.system_tables = SystemTables(self)
        self.dispatch = Dispatcher(self)
        self.executor = Executor(self)
        from server.lwt import LwtService

        self.lwt = LwtService(self)
        tables = sum(len(k.tables) for k in self.schema.keyspaces.values())
        log.info(
            "recovery done in %.3f s: %d keyspaces, %d tables, about %s keys",
            time.monotonic() - t0,
            len(self.schema.keyspaces),
            tables,
            self.engine.db.property_int_value("rocksdb.estimate-num-keys"),
        )

    async def serve_forever(self) -> int:
        cfg = self.config
        log.info("cqld %s (Cassandra %s compatible, native protocol v4)", VERSION, RELEASE_VERSION)
        log.info(
            "data dir %s, %d replica shards, commitlog_sync %s",
            os.path.abspath(cfg.data_dir),
            cfg.replicas,
            cfg.commitlog_sync,
        )
        self.open()
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: Connection(self), cfg.host, cfg.port, reuse_address=True, backlog=1024
        )
        sock = self.server.sockets[0]
        self.port = sock.getsockname()[1]
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        log.info("listening for CQL clients on %s:%d", cfg.host, self.port)
        print(f"cqld listening on {cfg.host}:{self.port}", flush=True)
        # What start-up built (grammar tables, schema, codecs) lives as long as the process: keep it
        # out of every later full garbage collection.
        gc.freeze()
        purger = asyncio.ensure_future(self.lwt.purge_forever())
        sweeper = asyncio.ensure_future(self.sweep_tombstones_forever())
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down")
        purger.cancel()
        sweeper.cancel()
        self.server.close()
        for c in list(self.connections):
            c.flush_replies()
            c.transport.close()
        await asyncio.sleep(0)
        self.lwt.staged.flush()
        self.engine.close()
        log.info("shutdown complete")
        return 0

    def advertised_address(self) -> str:
        import ipaddress

        host = self.config.host
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return ipaddress.ip_address("127.0.0.1")
        if addr.is_unspecified:
            return ipaddress.ip_address("127.0.0.1")
        return addr

    # ------------------------------------------------------------ schema

    def schema_changed(self) -> None:
        self.schema.bump()
        self.schema.save(self.engine)
        self.executor.invalidate()

    def broadcast_schema_event(self, body: bytes) -> None:
        for c in list(self.connections):
            if "SCHEMA_CHANGE" in c.session.events:
                c.push_event(body)

    def describe(self, session, tree, params) -> Result:
        from server.describe import describe
        from server.statements import paging
        from storage import cqltypes

        keyspaces = []
        for name, rep, durable, tables, types in self.system_tables.all_keyspaces():
            keyspaces.append(_KsView(name, rep, durable, tables, types, name in self.system_tables.keyspaces))
        columns, rows = describe(
            tree,
            keyspaces,
            session.keyspace,
            self.config.cluster_name,
            address=str(self.advertised_address()),
        )
        types = [cqltypes.parse_type_string(t) for _, t in columns]
        specs = [msg.ColumnSpec("system", "describe", n, t.option()) for (n, _), t in zip(columns, types, strict=True)]
        start = 0
        if params.paging_state:
            start = paging.decode(self.paging_key, params.paging_state).partition_count
        end = len(rows) if not params.page_size or params.page_size <= 0 else start + params.page_size
        state = None
        if end < len(rows):
            state = paging.encode(self.paging_key, paging.State(0, b"describe", None, None, end))
        enc = [[None if v is None else t.serialize(v) for v, t in zip(r, types, strict=True)] for r in rows[start:end]]
        return Result(msg.rows_body(specs, enc, state))

    # ------------------------------------------------------------ replication

    def rf(self, keyspace: str) -> int:
        ks = self.schema.keyspaces.get(keyspace)
        if ks is None:
            return 1
        # Every request asks; the options are parsed again only when ALTER KEYSPACE replaced them.
        known = self._rf.get(keyspace)
        if known is not None and known[0] is ks.replication:
            return known[1]
        rf = max(1, min(ks.replication_factor(), self.config.replicas))
        self._rf[keyspace] = (ks.replication, rf)
        return rf

    def consistency_count(self, keyspace: str, cl: int, for_write: bool = False, token=None, check: bool = True) -> int:
        rf = self.rf(keyspace)
        name = CL_NAMES.get(cl)
        if name is None:
            raise InvalidRequest(f"Unknown consistency level {cl}")
        if name in ("ONE", "LOCAL_ONE", "ANY"):
            n = 1
        elif name == "TWO":
            n = 2
        elif name == "THREE":
            n = 3
        elif name == "ALL":
            n = rf
        else:
            n = rf // 2 + 1
        if check and n > rf:
            raise Unavailable(f"Cannot achieve consistency level {name}", cl, n, rf)
        return n

    async def set_shard_alive(self, shard: int, alive: bool) -> None:
        """Stop or start a replica shard. A started shard first catches up from its live peers (a
        repair of every partition it owns), so it counts toward quorums only once it is current."""
        replica = self.replicas.replicas[shard]
        if alive and not replica.alive:
            repaired = self.replicas.repair_shard(shard, [(t.id_bytes, self.rf(t.keyspace)) for t in self.all_tables()])
            log.info("replica shard %d caught up: %d partitions repaired", shard, repaired)
        replica.alive = alive
        self.lwt.set_alive(shard, alive)
        log.warning("replica shard %d is now %s", shard, "up" if alive else "down")

    async def sweep_tombstones_forever(self) -> None:
        from storage.tombstones import Sweeper

        self.sweeper = Sweeper(self.engine)
        while True:
            await asyncio.sleep(self.config.tombstone_gc_interval_s)
            self.sweep_tombstones()

    def sweep_tombstones(self) -> None:
        from storage.tombstones import Sweeper

        sweeper = getattr(self, "sweeper", None) or Sweeper(self.engine)
        self.sweeper = sweeper
        now_us = time.time_ns() // 1000
        gc_before = {
            t.id_bytes: now_us - int(t.options.get("gc_grace_seconds", 864000)) * 1_000_000 for t in self.all_tables()
        }
        down = frozenset(r.shard for r in self.replicas.replicas if not r.alive)
        before = (sweeper.rewritten, sweeper.deleted)
        sweeper.sweep(gc_before, down)
        if (sweeper.rewritten, sweeper.deleted) != before:
            log.info(
                "tombstone sweep: %d rows rewritten, %d removed",
                sweeper.rewritten - before[0],
                sweeper.deleted - before[1],
            )

    def all_tables(self):
        for ks in self.schema.keyspaces.values():
            yield from ks.tables.values()

    async def write(self, writes: list, required: int, consistency: int) -> None:
        """Apply mutations on their live replicas in one atomic engine write, then wait for the disk as
        commitlog_sync says (group commit)."""
        try:
            self.replicas.write(writes, required)
        except NotEnoughReplicas as e:
            raise unavailable(consistency, e.required, e.alive) from None
        await self.group_commit.wait()

    def read_partition(self, table, token, pk, required, rf, **slice_):
        return self.replicas.read_partition(table.id_bytes, token, pk, rf, required, **slice_)

    def read_current(self, table, token: int, pk: bytes, ck: bytes, rf: int) -> dict:
        """The current values of one row (and its partition's statics), merged from live replicas."""
        from server.statements.reads import live_rows
        from storage.token import split_partition_key

        try:
            if ck:
                header, rows = self.replicas.read_partition(
                    table.id_bytes, token, pk, rf, 1, start=ck, end=ck + b"\x00"
                )
            else:
                header, rows = self.replicas.read_partition(table.id_bytes, token, pk, rf, 1, limit=1)
        except NotEnoughReplicas:
            return {}
        live = live_rows(table, split_partition_key(pk, len(table.partition_key)), header, rows, int(time.time()))
        for r in live:
            if r.ck == ck or r.static_only or not ck:
                return r.values
        return {}

    def bind_values(self, stmt, params) -> list:
        values = params.values
        specs = getattr(stmt, "bind_specs", [])
        if params.names is not None:
            by_name = dict(zip(params.names, values, strict=True))
            out = []
            for s in specs:
                if s.name not in by_name:
                    raise InvalidRequest(f"No value for bind variable {s.name}")
                out.append(by_name[s.name])
            return out
        if len(values) != len(specs):
            raise InvalidRequest(f"There were {len(specs)} markers(?) in CQL but {len(values)} bound variables")
        return values

    async def serial_read_barrier(self, stmt, values, params) -> None:
        """SELECT at SERIAL: one Paxos round per partition so no in-progress proposal is missed."""
        parts = stmt.partitions(values)
        if parts is None or len(parts) != 1:
            raise InvalidRequest("SERIAL/LOCAL_SERIAL consistency may only be requested for one partition at a time")
        await self.lwt.read_barrier(stmt.table, parts[0][0], parts[0][1], params)


class _KsView:
    def __init__(self, name, replication, durable, tables, types, is_system) -> None:
        self.name = name
        self.replication = replication
        self.durable_writes = durable
        self.tables = tables
        self.types = types
        self.is_system = is_system
