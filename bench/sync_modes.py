"""commitlog_sync modes: plain writes and LWTs in `periodic` and `batch`, with fsyncs per acknowledged
operation read from system_views.group_commit (an LWT should wait on the disk no more than a write)."""

from __future__ import annotations

from pathlib import Path

from bench import workloads
from bench.load import Measurement, measure
from bench.server import BenchServer


def _fsyncs(session) -> int:
    return next(
        value
        for name, value in session.execute("SELECT name, value FROM system_views.group_commit")
        if name == "fsyncs"
    )


def run(tmp: Path, s: workloads.Settings, progress) -> list[Measurement]:
    out = []
    for mode in ("periodic", "batch"):
        srv = BenchServer(tmp / f"sync-{mode}", "--commitlog-sync", mode).start()
        cluster = workloads.make_cluster(srv.port)
        try:
            session = cluster.connect()
            workloads.create_schema(session)
            ins = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?)")
            lwt = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?) IF NOT EXISTS")
            for name, stmt, base in (
                (f"{mode}: prepared INSERT", ins, 0),
                (f"{mode}: LWT INSERT IF NOT EXISTS", lwt, 10**8),
            ):
                before = _fsyncs(session)
                base_ops = s.baseline() if s.baseline else None
                m = measure(
                    name,
                    session,
                    lambda i, _st=stmt, _b=base: [(_st, (_b + i, workloads.VALUE))],
                    duration=s.duration,
                    warmup=s.warmup,
                    window=s.window,
                    timeout=s.timeout,
                    note="",
                )
                done = m.extra.get("next") or max(1, len(m.latencies))
                m.note = f"{(_fsyncs(session) - before) / done:.3f} fsyncs per op"
                if base_ops:
                    m.extra["local_baseline"] = base_ops
                out.append(m)
                progress(m)
        finally:
            cluster.shutdown()
            srv.stop()
    return out
