"""Measurements that are not a request stream: start-up, parse time, bulk load (+ peak RSS, restart)."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.server import ROOT, BenchServer, free_port

# ~20 statements of the kinds applications send; every one must parse.
STATEMENTS = [
    "CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    "CREATE TABLE shop.orders (customer uuid, placed timeuuid, item text, qty int, tags set<text>, "
    "PRIMARY KEY ((customer), placed)) WITH CLUSTERING ORDER BY (placed DESC)",
    "CREATE TYPE shop.address (street text, city text, zip int)",
    "CREATE INDEX orders_item ON shop.orders (item)",
    "ALTER TABLE shop.orders ADD note text",
    "USE shop",
    "INSERT INTO kv (k, v) VALUES (?, ?)",
    "INSERT INTO kv (k, v) VALUES (42, 'hello world')",
    "INSERT INTO kv (k, v) VALUES (?, ?) IF NOT EXISTS USING TTL 86400",
    "UPDATE kv SET v = ? WHERE k = ? IF v = ?",
    "UPDATE shop.orders SET tags = tags + {'gift'}, qty = 3 WHERE customer = ? AND placed = ?",
    "DELETE FROM shop.orders WHERE customer = ? AND placed < ?",
    "SELECT k, v FROM kv WHERE k = ?",
    "SELECT * FROM shop.orders WHERE customer IN (?, ?) AND placed > ? ORDER BY placed ASC LIMIT 10",
    "SELECT count(*), max(qty) FROM shop.orders WHERE customer = ?",
    "SELECT JSON customer, item FROM shop.orders WHERE token(customer) > token(?) LIMIT 100",
    "SELECT key, release_version FROM system.local WHERE key = 'local'",
    "BEGIN BATCH INSERT INTO kv (k, v) VALUES (1, 'a'); INSERT INTO kv2 (k, v) VALUES (1, 'a'); APPLY BATCH",
    "TRUNCATE kv",
    "DROP TABLE IF EXISTS shop.orders",
]

_PARSE_SCRIPT = r"""
import json, statistics, sys, time
t0 = time.perf_counter()
from cql_grammar import parse
import_s = time.perf_counter() - t0
statements = json.loads(sys.stdin.read())
out = []
for text in statements:  # cold: the first time this process parses this text
    t = time.perf_counter(); parse(text); cold = time.perf_counter() - t
    out.append({"statement": text, "cold_us": cold * 1e6})
reps = int(sys.argv[1])
for row in out:
    times = []
    for _ in range(reps):
        t = time.perf_counter(); parse(row["statement"]); times.append(time.perf_counter() - t)
    row["warm_us"] = statistics.median(times) * 1e6
print(json.dumps({"import_s": import_s, "statements": out}))
"""


def parse_times(reps: int = 50, timeout: float = 120.0) -> dict:
    """Parse each statement once in a fresh interpreter (cold), then `reps` more times (median: warm)."""
    compile_packages()
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE_SCRIPT, str(reps)],
        input=json.dumps(STATEMENTS),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"parse benchmark failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def time_to_first_options(data_dir: Path, env: dict | None = None, timeout: float = 60.0) -> float:
    """Spawn cqld on a chosen free port; seconds until the first OPTIONS gets its SUPPORTED reply."""
    srv = BenchServer(data_dir, env=env)
    try:
        port = free_port()
        t0 = time.perf_counter()
        srv.spawn(port)
        srv.wait_ready(time.monotonic() + timeout)
        return time.perf_counter() - t0
    finally:
        srv.stop()


# cqld's own packages: their bytecode is what an installed server imports.
PACKAGES = ("server", "cql_grammar", "storage", "paxos")


def compile_packages() -> None:
    """Bytecode for PACKAGES, as pip writes it at install time and Python on a first import. Where
    PYTHONDONTWRITEBYTECODE is set (as on the benchmark machines) and nothing wrote it, every start
    compiled cqld's sources again: about 0.27 s of a 0.9 s start-up there."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=ROOT, check=True, timeout=120)


def startup_times(tmp: Path, runs: int = 3, cold_cache: bool = True) -> dict:
    """Median of `runs` start-ups on an empty data dir (grammar cache warm), plus one with a cold cache."""
    compile_packages()
    times = [time_to_first_options(tmp / f"startup-{i}") for i in range(runs)]
    out = {"median_s": statistics.median(times), "runs_s": times}
    if cold_cache:
        cache = tempfile.mkdtemp(prefix="cache-", dir=tmp)
        out["cold_cache_s"] = time_to_first_options(tmp / "startup-cold", env={"XDG_CACHE_HOME": cache})
    return out


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def bulk_load(tmp: Path, rows: int, window: int, timeout: float, baseline=None, progress=print) -> dict:
    """Load `rows` rows with prepared INSERTs into a fresh server; peak RSS; stop; restart on that data."""
    from bench.load import Measurement, run
    from bench.workloads import VALUE, create_schema, make_cluster

    data = tmp / "bulk"
    srv = BenchServer(data).start()
    cluster = None
    try:
        cluster = make_cluster(srv.port)
        session = cluster.connect()
        create_schema(session)
        rss_idle = srv.status("VmRSS")
        before = baseline(srv.port) if baseline else None
        insert = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?)")
        ops, elapsed, lat, errors, _ = run(
            session,
            lambda i: [(insert, (i, VALUE))],
            duration=float("inf"),
            window=window,
            max_ops=rows,
            timeout=timeout,
        )
        m = Measurement(f"bulk load, {rows:,} prepared INSERTs", ops, elapsed, lat, errors)
        hwm = srv.status("VmHWM")  # before the baseline burst below, which is not part of the load
        if baseline:
            m.extra["local_baseline"] = math.sqrt(before * baseline(srv.port))
        progress(m)
        cluster.shutdown()
        cluster = None
        t0 = time.perf_counter()
        code = srv.stop()
        stop_s = time.perf_counter() - t0
        on_disk = dir_bytes(data)
        restart_s = time_to_first_options(data, timeout=max(60.0, rows / 2000))
        return {
            "measurement": m,
            "rows": rows,
            "rss_idle_kib": rss_idle,
            "hwm_kib": hwm,
            "stop_s": stop_s,
            "stop_code": code,
            "restart_s": restart_s,
            "disk_bytes": on_disk,
        }
    finally:
        if cluster is not None:
            cluster.shutdown()
        srv.kill()


def paxos_state_size(
    tmp: Path, lwts: int, window: int, timeout: float, retention_s: int = 20, general: bool = False
) -> dict:
    """How big the Paxos state gets and that the purge takes it back: `lwts` LWT INSERTs on distinct keys,
    then as many LWT UPDATEs of the same keys (state per partition, not per LWT), then wait for the purge
    of state older than `retention_s` (one pass a second). `general`: every round a general one
    (`paxos_faults` without faults), as under contention or with a replica down; one-pass rounds (the
    default, docs/lwt.md "One pass") leave no state."""
    from bench.load import run
    from bench.workloads import VALUE, create_schema, make_cluster

    env = {"CQLD_PAXOS_STATE_RETENTION_S": str(retention_s), "CQLD_PAXOS_PURGE_INTERVAL_S": "1"}
    if general:
        env["CQLD_PAXOS_FAULTS"] = "seed=1"
    srv = BenchServer(tmp / ("paxos-general" if general else "paxos"), env=env).start()
    cluster = None
    try:
        cluster = make_cluster(srv.port)
        session = cluster.connect()
        create_schema(session)

        def size() -> dict:
            return dict(session.execute("SELECT name, value FROM system_views.paxos_state"))

        out: dict = {"lwts": lwts, "retention_s": retention_s}
        insert = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?) IF NOT EXISTS")
        update = session.prepare("UPDATE kv SET v = ? WHERE k = ? IF v = ?")
        for label, make_op in (
            ("after_inserts", lambda i: [(insert, (i, VALUE))]),
            ("after_updates", lambda i: [(update, ("w", i, VALUE))]),
        ):
            _ops, elapsed, _lat, errors, _ = run(
                session, make_op, duration=float("inf"), window=window, max_ops=lwts, timeout=timeout
            )
            out[label] = {**size(), "elapsed_s": elapsed, "errors": sum(errors.values())}
        last = time.perf_counter()
        deadline = last + retention_s + 60
        while True:
            now = size()
            if not now["partitions_with_state"] or time.perf_counter() > deadline:
                break
            time.sleep(0.25)
        out["after_purge"] = {**now, "seconds_after_last_lwt": time.perf_counter() - last}
        return out
    finally:
        if cluster is not None:
            cluster.shutdown()
        srv.kill()
