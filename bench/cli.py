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
import subprocess
import tempfile
import time
from pathlib import Path

from bench import oneoff, rawproto
from bench.load import Measurement
from bench.server import ROOT, BenchServer

PROFILES = {
    # duration and warm-up per workload (s), bulk rows
    "quick": (0.7, 0.2, 5_000),
    "default": (4.0, 1.0, 50_000),
    "full": (8.0, 2.0, 1_000_000),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="cqld throughput and latency benchmarks.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="short run (~30 s): smoke-test the numbers")
    g.add_argument("--full", action="store_true", help="long run: 1,000,000-row bulk load, longer workloads")
    p.add_argument("--duration", type=float, help="seconds measured per workload (overrides the profile)")
    p.add_argument("--warmup", type=float, help="seconds of discarded warm-up per workload")
    p.add_argument("--window", type=int, default=128, help="requests in flight (default 128)")
    p.add_argument("--rows", type=int, help="bulk-load rows (default 50,000; 1,000,000 with --full)")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request and stall timeout, seconds")
    p.add_argument("--only", help="run only the driver workloads whose name contains this text")
    p.add_argument("--skip", default="", help="comma list of sections to skip: startup,parse,bulk,driver")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return p.parse_args(argv)


def _sigterm(signum, frame):  # turn SIGTERM into an exception so `finally` kills the servers
    raise SystemExit(128 + signum)


def fmt_ratio(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def fmt_ms(x: float) -> str:
    return "-" if not math.isfinite(x) else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


class Report:
    def __init__(self) -> None:
        self.rows: list[Measurement] = []
        self.baseline_ops = float("nan")
        self.driver_ops = float("nan")

    def line(self, m: Measurement) -> str:
        ops = m.ops_per_s
        errs = ", ".join(f"{k}×{v}" for k, v in m.errors.items())
        note = "; ".join(x for x in (m.note, errs) if x)
        if "applied" in m.extra:
            note = "; ".join(x for x in (note, f"applied {m.extra['applied']:.0%}") if x)
        return (
            f"{m.name:<44} {ops:>9,.0f} {fmt_ms(m.percentile_ms(50)):>8} {fmt_ms(m.percentile_ms(99)):>8} "
            f"{fmt_ratio(ops / self.baseline_ops):>8} {fmt_ratio(ops / self.driver_ops):>8} {m.ops:>9,}  {note}"
        )

    @staticmethod
    def header() -> str:
        cols = f"{'workload':<44} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'×base':>8} {'×drv':>8} {'ops':>9}  notes"
        return cols + "\n" + "-" * len(cols)


def ratio(rows: dict[str, Measurement], a: str, b: str) -> float:
    if a in rows and b in rows and rows[b].ops_per_s > 0:
        return rows[a].ops_per_s / rows[b].ops_per_s
    return float("nan")


DERIVED = [
    ("LWT INSERT IF NOT EXISTS / prepared INSERT", "LWT INSERT IF NOT EXISTS (distinct keys)", "prepared INSERT"),
    ("LWT UPDATE IF (hot) / plain UPDATE (hot)", "LWT UPDATE IF v = ? (4 hot keys)", "plain UPDATE (4 hot keys)"),
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
]


def baseline(port: int, duration: float, warmup: float, window: int, timeout: float) -> Measurement:
    r = rawproto.options_pipeline("127.0.0.1", port, duration, window=window, warmup=warmup, timeout=timeout)
    m = Measurement("baseline: OPTIONS, raw socket", len(r["latencies"]) + r["errors"], r["elapsed"], r["latencies"])
    if r["errors"]:
        m.errors["not SUPPORTED"] = r["errors"]
    m.note = "1 connection, pipelined"
    return m


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "server", "storage", "paxos", "cql_grammar"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() + ("+local changes" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = "quick" if args.quick else "full" if args.full else "default"
    duration, warmup, rows = PROFILES[profile]
    duration = args.duration if args.duration is not None else duration
    warmup = args.warmup if args.warmup is not None else warmup
    rows = args.rows if args.rows is not None else rows
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    logging.basicConfig(level=logging.ERROR)  # the driver's protocol-downgrade and reconnect chatter
    signal.signal(signal.SIGTERM, _sigterm)

    import cassandra

    started = time.perf_counter()
    now = datetime.datetime.now().astimezone()
    print(f"cqld benchmarks, {now:%Y-%m-%d %H:%M %Z}, commit {git_commit()}, profile {profile}")
    print(
        f"python {platform.python_version()}, cassandra-driver {cassandra.__version__}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"each workload: {warmup:g} s warm-up + {duration:g} s measured, window {args.window} requests in flight")
    print(flush=True)

    report = Report()
    results: dict = {
        "date": now.isoformat(),
        "profile": profile,
        "duration": duration,
        "warmup": warmup,
        "window": args.window,
        "workloads": [],
        "derived": {},
    }
    with tempfile.TemporaryDirectory(prefix="cqld-bench-") as tmpdir:
        tmp = Path(tmpdir)
        srv = BenchServer(tmp / "data").start()
        cluster = None
        try:
            b1 = baseline(srv.port, duration, warmup, args.window, args.timeout)
            report.baseline_ops = b1.ops_per_s
            print(Report.header())
            print(report.line(b1), flush=True)
            measured = [b1]
            if "driver" not in skip:
                from bench import workloads

                cluster = workloads.make_cluster(srv.port)
                session = cluster.connect()
                print(f"{'':<44} (driver negotiated protocol v{cluster.protocol_version})", flush=True)
                workloads.create_schema(session)
                settings = workloads.Settings(duration, warmup, args.window, args.timeout)

                def progress(m: Measurement) -> None:
                    if m.name.startswith("driver:"):
                        report.driver_ops = m.ops_per_s
                    print(report.line(m), flush=True)

                measured += workloads.run_all(session, settings, progress, only=args.only)
                cluster.shutdown()
                cluster = None
            b2 = baseline(srv.port, duration, warmup, args.window, args.timeout)
            b2.name = "baseline again (end of run)"
            print(report.line(b2), flush=True)
            measured.append(b2)
            drift = b2.ops_per_s / b1.ops_per_s - 1
            print(f"(baseline drift over the run: {drift:+.1%}; ratios use the first baseline)")
            results["baseline_drift"] = drift
            print(f"server peak RSS after the workloads: {(srv.status('VmHWM') or 0) / 1024:.0f} MiB")
            code = srv.stop()
            if code != 0:
                print(f"warning: cqld exited with {code}\n{srv.log()}")
        finally:
            if cluster is not None:
                cluster.shutdown()
            srv.kill()

        by_name = {m.name: m for m in measured}
        print("\nderived ratios (ops/s of the first over ops/s of the second)")
        for label, a, b in DERIVED:
            r = ratio(by_name, a, b)
            if math.isfinite(r):
                results["derived"][label] = r
                print(f"  {label:<44} {fmt_ratio(r):>8}")

        for m in measured:
            results["workloads"].append(
                {
                    "name": m.name,
                    "ops": m.ops,
                    "seconds": m.elapsed,
                    "ops_per_s": m.ops_per_s,
                    "p50_ms": m.percentile_ms(50),
                    "p99_ms": m.percentile_ms(99),
                    "ratio_to_baseline": m.ops_per_s / report.baseline_ops,
                    "errors": dict(m.errors),
                    "requests_per_op": m.requests_per_op,
                    **{k: v for k, v in m.extra.items() if k != "next"},
                }
            )

        base_us = 1e6 / report.baseline_ops  # one baseline op: the server's time per OPTIONS at full load
        print(f"\none-off timings (×base = time / the baseline's time per op, {base_us:.1f} µs this run)")
        if "startup" not in skip:
            st = oneoff.startup_times(tmp)
            results["startup"] = st
            print(
                f"  start-up to first OPTIONS answered, empty data dir: median {st['median_s'] * 1000:.0f} ms of "
                f"{', '.join(f'{x * 1000:.0f}' for x in st['runs_s'])} ms (goal < 1 s) "
                f"= {st['median_s'] * 1e6 / base_us:,.0f} ×base"
            )
            print(f"  same, grammar cache cold: {st['cold_cache_s'] * 1000:.0f} ms")
        if "parse" not in skip:
            pt = oneoff.parse_times()
            results["parse"] = pt
            cold = [r["cold_us"] for r in pt["statements"]]
            warm = [r["warm_us"] for r in pt["statements"]]
            print(f"  import cql_grammar: {pt['import_s'] * 1000:.0f} ms")
            print(
                f"  parse, {len(cold)} statements: cold mean {sum(cold) / len(cold):.0f} µs "
                f"(first ever {cold[0]:.0f} µs), warm mean {sum(warm) / len(warm):.0f} µs "
                f"= {sum(warm) / len(warm) / base_us:.1f} ×base"
            )
            for r in pt["statements"]:
                text = r["statement"] if len(r["statement"]) <= 70 else r["statement"][:67] + "..."
                print(f"    {r['cold_us']:>7.0f} {r['warm_us']:>7.0f} µs  {text}")
        if "bulk" not in skip and rows > 0:
            bl = oneoff.bulk_load(tmp, rows, args.window, args.timeout, progress=lambda m: print("  " + report.line(m)))
            m = bl.pop("measurement")
            results["bulk"] = {
                **bl,
                "rows_per_s": m.ops_per_s,
                "ratio_to_baseline": m.ops_per_s / report.baseline_ops,
                "p50_ms": m.percentile_ms(50),
                "p99_ms": m.percentile_ms(99),
                "errors": dict(m.errors),
            }
            print(
                f"  bulk load {rows:,} rows: {m.ops_per_s:,.0f} rows/s ({fmt_ratio(m.ops_per_s / report.baseline_ops)} "
                f"×base), server RSS idle {(bl['rss_idle_kib'] or 0) / 1024:.0f} MiB, peak (VmHWM) "
                f"{(bl['hwm_kib'] or 0) / 1024:.0f} MiB, data dir {bl['disk_bytes'] / 2**20:.0f} MiB"
            )
            print(
                f"  SIGTERM stop after the load: {bl['stop_s'] * 1000:.0f} ms (exit {bl['stop_code']}); "
                f"restart to first OPTIONS answered: {bl['restart_s'] * 1000:.0f} ms "
                f"= {bl['restart_s'] * 1e6 / base_us:,.0f} ×base"
            )

    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f} s")
    results["total_s"] = total
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0
