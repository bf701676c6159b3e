"""`python -m bench`: run everything against fresh servers and print the tables (see docs/bench.md)."""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import os
import platform
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import oneoff, rawproto, rawrate
from bench.load import Measurement
from bench.server import ROOT, BenchServer


@dataclass
class Profile:
    duration: float  # seconds measured per workload
    warmup: float  # seconds of discarded warm-up per workload
    burst: float  # seconds of each baseline burst between workloads
    rows: int  # bulk-load rows
    cold_cache_start: bool  # also time one start-up with an empty grammar cache


PROFILES = {
    "quick": Profile(0.5, 0.15, 0.2, 5_000, False),
    "default": Profile(4.0, 1.0, 0.5, 50_000, True),
    "full": Profile(8.0, 2.0, 1.0, 1_000_000, True),
}

RAW_INSERT = "raw EXECUTE: prepared INSERT"
RAW_LWT = "raw EXECUTE: LWT INSERT IF NOT EXISTS"
# Without the driver: the client costs a few µs per request, so these measure the server's share.
RAW_WORKLOADS = [
    (RAW_INSERT, "INSERT INTO bench.kv (k, v) VALUES (?, ?)", 1_200_000_000),
    (RAW_LWT, "INSERT INTO bench.kv (k, v) VALUES (?, ?) IF NOT EXISTS", 1_600_000_000),
]
# The same two in turns (A B B A …): both meet the same machine, so their ratio needs no baseline.
RAW_TURNS = [
    ("raw EXECUTE in turns: prepared INSERT", RAW_WORKLOADS[0][1], 1_300_000_000),
    ("raw EXECUTE in turns: LWT INSERT", RAW_WORKLOADS[1][1], 1_700_000_000),
]
# The same two once more, offered the rate the driver's fixed-rate pair was (workloads.FIXED_RATE_*):
# the server's latency at that load, without the driver's share of it.
RAW_AT_RATE = [
    ("raw EXECUTE at that fixed rate: INSERT", RAW_WORKLOADS[0][1], 1_400_000_000),
    ("raw EXECUTE at that fixed rate: LWT INSERT", RAW_WORKLOADS[1][1], 1_800_000_000),
]
RAW_SCHEMA = [
    "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    "CREATE TABLE IF NOT EXISTS bench.kv (k int PRIMARY KEY, v text)",
]

DERIVED = [
    ("LWT INSERT IF NOT EXISTS / prepared INSERT", "LWT INSERT IF NOT EXISTS (distinct keys)", "prepared INSERT"),
    (
        "LWT INSERT / INSERT, measured in turns",
        "LWT INSERT IF NOT EXISTS, in turns",
        "prepared INSERT, in turns with LWT",
    ),
    (
        "LWT UPDATE IF (distinct) / plain UPDATE (distinct)",
        "LWT UPDATE IF v = ? (distinct keys)",
        "plain UPDATE (distinct keys)",
    ),
    ("LWT UPDATE IF (hot) / plain UPDATE (hot)", "LWT UPDATE IF v = ? (4 hot keys)", "plain UPDATE (4 hot keys)"),
    # Contention at the full window: 128 in flight on 4 keys against 128 in flight on rows of their own.
    (
        "LWT UPDATE IF, 4 hot keys / distinct keys",
        "LWT UPDATE IF v = ? (4 hot keys)",
        "LWT UPDATE IF v = ? (distinct keys)",
    ),
    (
        "LWT, 8 clients on 1 key / uncontended LWT",
        "LWT UPDATE IF, 8 clients on 1 key",
        "LWT INSERT IF NOT EXISTS (distinct keys)",
    ),
    (
        "LWT, 8 clients on 1 key / on own rows, in turns",
        "LWT UPDATE IF, 8 clients on 1 key",
        "LWT UPDATE IF, 8 clients on own rows",
    ),
    ("SERIAL SELECT / prepared SELECT", "SERIAL SELECT by key", "prepared SELECT by key"),
    ("unprepared INSERT same text / prepared", "unprepared INSERT, same text", "prepared INSERT"),
    ("unprepared INSERT %s values / prepared", "unprepared INSERT, %s values", "prepared INSERT"),
    ("unprepared SELECT same text / prepared", "unprepared SELECT, same text", "prepared SELECT by key"),
    ("unprepared SELECT %s values / prepared", "unprepared SELECT, %s values", "prepared SELECT by key"),
    ("LOGGED / UNLOGGED batch", "LOGGED BATCH of 10 (2 tables)", "UNLOGGED BATCH of 10 (2 tables)"),
    ("LOGGED batch / 10 singles", "LOGGED BATCH of 10 (2 tables)", "10 single INSERTs (2 tables)"),
    ("UNLOGGED batch / 10 singles", "UNLOGGED BATCH of 10 (2 tables)", "10 single INSERTs (2 tables)"),
    ("INSERT QUORUM / ONE", "prepared INSERT at QUORUM", "prepared INSERT at ONE"),
    ("INSERT ALL / ONE", "prepared INSERT at ALL", "prepared INSERT at ONE"),
    ("SELECT QUORUM / ONE", "prepared SELECT at QUORUM", "prepared SELECT at ONE"),
    ("SELECT ALL / ONE", "prepared SELECT at ALL", "prepared SELECT at ONE"),
    ("INSERT, commitlog_sync batch / periodic", "batch: prepared INSERT", "periodic: prepared INSERT"),
    ("LWT, commitlog_sync batch / periodic", "batch: LWT INSERT IF NOT EXISTS", "periodic: LWT INSERT IF NOT EXISTS"),
    ("LWT / INSERT, commitlog_sync batch", "batch: LWT INSERT IF NOT EXISTS", "batch: prepared INSERT"),
    ("raw EXECUTE: LWT INSERT / INSERT", RAW_LWT, RAW_INSERT),
    ("raw EXECUTE: LWT INSERT / INSERT, in turns", RAW_TURNS[1][0], RAW_TURNS[0][0]),
]


# (label, workload, baseline workload): p50 latency of the first ÷ p50 of the second.
LATENCY = [
    (
        "LWT INSERT / INSERT, 1 in flight",
        "LWT INSERT IF NOT EXISTS, 1 in flight",
        "prepared INSERT, 1 in flight",
    ),
    (
        "LWT INSERT / INSERT, same fixed rate",
        "LWT INSERT IF NOT EXISTS, fixed rate",
        "prepared INSERT, fixed rate",
    ),
    ("LWT INSERT / INSERT, full window", "LWT INSERT IF NOT EXISTS (distinct keys)", "prepared INSERT"),
    ("LWT INSERT / INSERT, in turns", "LWT INSERT IF NOT EXISTS, in turns", "prepared INSERT, in turns with LWT"),
    ("raw EXECUTE: LWT INSERT / INSERT", RAW_LWT, RAW_INSERT),
    ("raw EXECUTE: LWT INSERT / INSERT, in turns", RAW_TURNS[1][0], RAW_TURNS[0][0]),
    ("raw EXECUTE: LWT INSERT / INSERT, same fixed rate", RAW_AT_RATE[1][0], RAW_AT_RATE[0][0]),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="cqld throughput and latency benchmarks.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="short run (~30 s): smoke-test the numbers")
    g.add_argument("--full", action="store_true", help="long run: 1,000,000-row bulk load, longer workloads")
    p.add_argument("--duration", type=float, help="seconds measured per workload (overrides the profile)")
    p.add_argument("--warmup", type=float, help="seconds of discarded warm-up per workload")
    p.add_argument("--window", type=int, default=128, help="requests in flight (default 128)")
    p.add_argument(
        "--rows", type=int, help="bulk-load rows (default 50,000; 5,000 with --quick; 1,000,000 with --full)"
    )
    p.add_argument("--timeout", type=float, default=30.0, help="per-request and stall timeout, seconds (default 30)")
    p.add_argument("--only", help="run only the driver workloads whose name contains this text")
    p.add_argument(
        "--skip", default="", help="comma list of sections to skip: driver,raw,sync,startup,parse,paxos,bulk"
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument(
        "--row-factory",
        choices=("tuple", "named"),
        default="tuple",
        help="how the driver builds rows: plain tuples (default) or its default named tuples",
    )
    return p.parse_args(argv)


def _sigterm(signum, frame):  # turn SIGTERM into an exception so the `finally` blocks kill the servers
    raise SystemExit(128 + signum)


def fmt_ratio(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def fmt_ms(x: float) -> str:
    return "-" if not math.isfinite(x) else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def pipelined(name: str, r: dict, error: str, note: str) -> Measurement:
    """A raw client's result (rawproto, rawrate) as a table row; replies of another kind count as `error`."""
    m = Measurement(name, len(r["latencies"]) + r["errors"], r["elapsed"], r["latencies"], note=note)
    if r["errors"]:
        m.errors[error] = r["errors"]
    return m


def raw_in_turns(port: int, base, duration: float, warmup: float, window: int, timeout: float,
                 rate: float | None = None) -> list[Measurement]:  # fmt: skip
    """RAW_TURNS measured in turns (`load.turns`), each segment on a fresh connection (a few ms each);
    with `rate`, RAW_AT_RATE offered that many requests a second instead of a full window."""
    from bench.load import FIXED_RATE_SEGMENTS, SEGMENTS, turns
    from bench.workloads import VALUE

    before = base.burst(port)
    workloads = RAW_TURNS if rate is None else RAW_AT_RATE
    queries = {name: query for name, query, _k in workloads}
    keys = {name: first for name, _q, first in workloads}
    totals = {name: {"latencies": [], "elapsed": 0.0, "errors": 0} for name in queries}

    def segment(name: str, seconds: float) -> dict:
        executes = rawproto.Executes(RAW_SCHEMA, queries[name], keys[name], VALUE)
        if rate is None:
            r = rawproto.execute_pipeline("127.0.0.1", port, executes, seconds, window, 0, timeout)
        else:
            r = rawrate.execute_at_rate("127.0.0.1", port, executes, seconds, rate, timeout)
        keys[name] += r["sent"]  # every key sent is used: the next segment starts after them
        return r

    for name in queries:
        segment(name, warmup)
    segments = SEGMENTS if rate is None else FIXED_RATE_SEGMENTS
    for name in turns(list(queries), segments):
        r = segment(name, duration / segments)
        t = totals[name]
        t["latencies"] += r["latencies"]
        t["elapsed"] += r["elapsed"]
        t["errors"] += r["errors"]
    after = base.burst(port)
    note = "in turns, pipelined, no driver" if rate is None else f"{rate:,.0f} ops/s offered, in turns, no driver"
    out = []
    for name, t in totals.items():
        m = pipelined(name, t, "not RESULT", note)
        m.extra["local_baseline"] = math.sqrt(before * after)
        out.append(m)
    return out


class Baseline:
    """OPTIONS over a raw pipelined socket: one long run at the start, short bursts between the workloads."""

    def __init__(self, window: int, timeout: float, burst: float) -> None:
        self.window = window
        self.timeout = timeout
        self.burst_s = burst
        self.samples: list[float] = []  # ops/s of every run and burst, in order

    def measure(self, port: int, duration: float, warmup: float, name: str) -> Measurement:
        r = rawproto.options_pipeline("127.0.0.1", port, duration, window=self.window, warmup=warmup,
                                      timeout=self.timeout)  # fmt: skip
        m = pipelined(name, r, "not SUPPORTED", "1 connection, pipelined")
        m.extra["baseline"] = True
        self.samples.append(m.ops_per_s)
        return m

    def burst(self, port: int) -> float:
        return self.measure(port, self.burst_s, min(0.1, self.burst_s / 4), "burst").ops_per_s

    @property
    def typical(self) -> float:
        return statistics.median(self.samples)


class Table:
    def __init__(self) -> None:
        self.driver_norm = float("nan")  # the driver baseline's ratio to its own local baseline

    @staticmethod
    def header() -> str:
        cols = f"{'workload':<44} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'×base':>7} {'×drv':>7} {'ops':>9}  notes"
        return cols + "\n" + "-" * len(cols)

    @staticmethod
    def ratio(m: Measurement) -> float:
        base = m.extra.get("local_baseline", float("nan"))
        return m.ops_per_s / base if base else float("nan")

    def line(self, m: Measurement) -> str:
        notes = [m.note] if m.note else []
        notes += [f"{k}×{v}" for k, v in m.errors.items()]
        if "applied" in m.extra:
            notes.append(f"applied {m.extra['applied']:.0%}")
        r = self.ratio(m)
        drv = float("nan") if m.extra.get("baseline") else r / self.driver_norm
        return (
            f"{m.name:<44} {m.ops_per_s:>9,.0f} {fmt_ms(m.percentile_ms(50)):>8} {fmt_ms(m.percentile_ms(99)):>8} "
            f"{fmt_ratio(r):>7} {fmt_ratio(drv):>7} {m.ops:>9,}  {'; '.join(notes)}"
        )


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "server", "storage", "paxos", "cql_grammar"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return head.stdout.strip() + (" + uncommitted server changes" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


def to_json(m: Measurement) -> dict:
    return {
        "name": m.name,
        "ops": m.ops,
        "seconds": m.elapsed,
        "ops_per_s": m.ops_per_s,
        "p50_ms": m.percentile_ms(50),
        "p99_ms": m.percentile_ms(99),
        "ratio_to_baseline": Table.ratio(m),
        "errors": dict(m.errors),
        "requests_per_op": m.requests_per_op,
        **{k: v for k, v in m.extra.items() if k != "next"},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    name = "quick" if args.quick else "full" if args.full else "default"
    prof = PROFILES[name]
    duration = args.duration if args.duration is not None else prof.duration
    warmup = args.warmup if args.warmup is not None else prof.warmup
    rows = args.rows if args.rows is not None else prof.rows
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    from bench import workloads as _workloads

    _workloads.ROW_FACTORY = args.row_factory
    logging.basicConfig(level=logging.ERROR)  # the driver's protocol-downgrade and reconnect chatter
    signal.signal(signal.SIGTERM, _sigterm)

    import cassandra

    started = time.perf_counter()
    now = datetime.datetime.now().astimezone()
    print(f"cqld benchmarks, {now:%Y-%m-%d %H:%M %Z}, commit {git_commit()}, profile {name}")
    print(
        f"python {platform.python_version()}, cassandra-driver {cassandra.__version__}, {os.cpu_count()} CPUs, "
        f"load average before the run {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"each workload: {warmup:g} s warm-up + {duration:g} s measured, {args.window} requests in flight; "
        f"a {prof.burst:g} s baseline burst between workloads; driver rows as "
        f"{'plain' if args.row_factory == 'tuple' else 'named'} tuples"
    )
    print("×base = ops/s ÷ baseline ops/s measured around that workload; ×drv = ×base ÷ ×base of the driver baseline")
    print(flush=True)

    table = Table()
    base = Baseline(args.window, args.timeout, prof.burst)
    results: dict = {
        "date": now.isoformat(),
        "profile": name,
        "duration": duration,
        "warmup": warmup,
        "window": args.window,
        "workloads": [],
        "derived": {},
    }
    measured: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="cqld-bench-") as tmpdir:
        tmp = Path(tmpdir)
        srv = BenchServer(tmp / "data").start()
        cluster = None
        try:
            b1 = base.measure(srv.port, duration, warmup, "baseline: OPTIONS, raw socket")
            b1.extra["local_baseline"] = b1.ops_per_s
            print(Table.header())
            print(table.line(b1), flush=True)
            measured.append(b1)
            if "driver" not in skip:
                from bench import workloads

                cluster = workloads.make_cluster(srv.port)
                session = cluster.connect()
                print(f"{'':<44} (driver negotiated protocol v{cluster.protocol_version})", flush=True)
                workloads.create_schema(session)
                settings = workloads.Settings(
                    duration, warmup, args.window, args.timeout, baseline=lambda: base.burst(srv.port)
                )

                def progress(m: Measurement) -> None:
                    if m.name.startswith("driver:"):
                        table.driver_norm = Table.ratio(m)
                    print(table.line(m), flush=True)

                measured += workloads.run_all(session, settings, progress, only=args.only)
                cluster.shutdown()
                cluster = None
            if "raw" not in skip:
                from bench.workloads import VALUE

                for name, query, first_key in RAW_WORKLOADS:
                    if args.only and args.only.lower() not in name.lower():
                        continue
                    before = base.burst(srv.port)
                    executes = rawproto.Executes(RAW_SCHEMA, query, first_key, VALUE)
                    r = rawproto.execute_pipeline("127.0.0.1", srv.port, executes, duration, args.window, warmup,
                                                  args.timeout)  # fmt: skip
                    after = base.burst(srv.port)
                    m = pipelined(name, r, "not RESULT", "1 connection, pipelined, no driver")
                    m.extra["local_baseline"] = math.sqrt(before * after)
                    measured.append(m)
                    print(table.line(m), flush=True)
                if not args.only or any(args.only.lower() in name.lower() for name, _q, _k in RAW_TURNS):
                    for m in raw_in_turns(srv.port, base, duration, warmup, args.window, args.timeout):
                        measured.append(m)
                        print(table.line(m), flush=True)
                rate = next((m.extra["rate"] for m in measured if "rate" in m.extra), None)
                if rate and (not args.only or any(args.only.lower() in n.lower() for n, _q, _k in RAW_AT_RATE)):
                    for m in raw_in_turns(srv.port, base, duration, warmup, args.window, args.timeout, rate):
                        measured.append(m)
                        print(table.line(m), flush=True)
            if "sync" not in skip and not args.only:
                from bench import sync_modes, workloads

                sync_settings = workloads.Settings(
                    duration, warmup, args.window, args.timeout, baseline=lambda: base.burst(srv.port)
                )
                measured += sync_modes.run(tmp, sync_settings, lambda m: print(table.line(m), flush=True))
            b2 = base.measure(srv.port, duration, warmup, "baseline again (end of run)")
            b2.extra["local_baseline"] = b1.ops_per_s
            print(table.line(b2), flush=True)
            measured.append(b2)
            lo, hi = min(base.samples) / b1.ops_per_s, max(base.samples) / b1.ops_per_s
            print(f"(baseline over the run: {lo:.2f}–{hi:.2f} × the first; its ×base column is relative to the first)")
            results["baseline_samples"] = base.samples
            print(f"server peak RSS (VmHWM) after these workloads: {(srv.status('VmHWM') or 0) / 1024:.0f} MiB")
            code = srv.stop()
            if code != 0:
                print(f"warning: cqld exited with {code}\n{srv.log()}")
        finally:
            if cluster is not None:
                cluster.shutdown()
            srv.kill()

        by_name = {m.name: m for m in measured}
        print("\nderived ratios (×base of the first ÷ ×base of the second)")
        for label, a, b in DERIVED:
            if a in by_name and b in by_name:
                r = Table.ratio(by_name[a]) / Table.ratio(by_name[b])
                results["derived"][label] = r
                print(f"  {label:<44} {fmt_ratio(r):>7}")

        print("\np50 latency ratios (p50 of the first ÷ p50 of the second; goal for LWT: under 2)")
        results["latency"] = {}
        for label, a, b in LATENCY:
            if a in by_name and b in by_name:
                r = by_name[a].percentile_ms(50) / by_name[b].percentile_ms(50)
                results["latency"][label] = r
                print(f"  {label:<44} {fmt_ratio(r):>7}")

        base_us = 1e6 / base.typical  # the server's time per OPTIONS at full pipelined load
        print(f"\none-off timings (×base = time ÷ the baseline's time per op: {base_us:.1f} µs, median of the run)")
        if "startup" not in skip:
            st = oneoff.startup_times(tmp, cold_cache=prof.cold_cache_start)
            results["startup"] = st
            print(
                f"  start-up to first OPTIONS answered, empty data dir: median {st['median_s'] * 1000:.0f} ms of "
                f"{', '.join(f'{x * 1000:.0f}' for x in st['runs_s'])} ms (goal < 1 s) "
                f"= {st['median_s'] * 1e6 / base_us:,.0f} ×base"
            )
            if "cold_cache_s" in st:
                print(
                    f"  same, grammar cache cold (first start after a grammar change): {st['cold_cache_s'] * 1000:.0f} ms"
                )
        if "parse" not in skip:
            pt = oneoff.parse_times()
            results["parse"] = pt
            cold = [r["cold_us"] for r in pt["statements"]]
            warm = [r["warm_us"] for r in pt["statements"]]
            print(f"  import cql_grammar (parser tables from the cache): {pt['import_s'] * 1000:.0f} ms")
            print(
                f"  parse {len(cold)} statements: cold mean {statistics.mean(cold):,.0f} µs "
                f"(the very first {cold[0]:,.0f} µs) = {statistics.mean(cold) / base_us:.0f} ×base; "
                f"warm mean {statistics.mean(warm):.0f} µs = {statistics.mean(warm) / base_us:.1f} ×base"
            )
            print(f"    {'cold µs':>8} {'warm µs':>8}  statement")
            for r in pt["statements"]:
                text = r["statement"] if len(r["statement"]) <= 80 else r["statement"][:77] + "..."
                print(f"    {r['cold_us']:>8,.0f} {r['warm_us']:>8,.0f}  {text}")
        if "paxos" not in skip:
            lwts = min(10_000, max(1_000, rows // 5))  # both rounds well inside the retention
            # Default: one-pass rounds, which leave no state. Then every round a general one (a network
            # without faults that is not a direct call), whose state the purge must take back.
            for key, general, label in (
                ("paxos_state", False, "one-pass rounds (the default)"),
                ("paxos_state_general", True, "general rounds (paxos_faults = seed=1, no faults)"),
            ):
                ps = oneoff.paxos_state_size(tmp, lwts, args.window, args.timeout, general=general)
                results[key] = ps
                ins, upd, gone = ps["after_inserts"], ps["after_updates"], ps["after_purge"]
                print(f"  {label}:")
                print(
                    f"    Paxos state after {lwts:,} LWT INSERTs on distinct keys: {ins['partitions_with_state']:,} "
                    f"partitions, {ins['bytes'] / 1024:,.0f} KiB "
                    f"({ins['bytes'] / max(1, ins['partitions_with_state']):.0f} B each); after {lwts:,} LWT "
                    f"UPDATEs of the same keys: {upd['partitions_with_state']:,} partitions, "
                    f"{upd['bytes'] / 1024:,.0f} KiB ({ins['elapsed_s']:.1f} s and {upd['elapsed_s']:.1f} s; "
                    f"{ins['errors'] + upd['errors']} errors)"
                )
                print(
                    f"    purged (retention {ps['retention_s']} s, a pass a second): "
                    f"{gone['partitions_with_state']:,} partitions, {gone['bytes']:,} B left "
                    f"{gone['seconds_after_last_lwt']:.1f} s after the last LWT"
                )
        if "bulk" not in skip and rows > 0:
            bl = oneoff.bulk_load(
                tmp,
                rows,
                args.window,
                args.timeout,
                baseline=base.burst,
                progress=lambda m: print("  " + table.line(m)),
            )
            m = bl.pop("measurement")
            results["bulk"] = {**bl, **to_json(m)}
            print(
                f"  bulk load {rows:,} rows: {m.ops_per_s:,.0f} rows/s = {fmt_ratio(Table.ratio(m))} ×base; server RSS "
                f"{(bl['rss_idle_kib'] or 0) / 1024:.0f} MiB idle, peak (VmHWM) {(bl['hwm_kib'] or 0) / 1024:.0f} MiB; "
                f"data dir {bl['disk_bytes'] / 2**20:.0f} MiB"
            )
            print(
                f"  SIGTERM stop after the load: {bl['stop_s'] * 1000:.0f} ms (exit {bl['stop_code']}); "
                f"restart to first OPTIONS answered: {bl['restart_s'] * 1000:.0f} ms "
                f"= {bl['restart_s'] * 1e6 / base_us:,.0f} ×base"
            )

    results["workloads"] = [to_json(m) for m in measured]
    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f} s")
    results["total_s"] = total
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0
