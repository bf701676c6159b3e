"""Every setting with its default, in one place. Precedence: defaults < config file < environment < flags."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 9042
    data_dir: str = "./data"
    replicas: int = 3
    log_level: str = "INFO"
    cluster_name: str = "cqld"
    datacenter: str = "datacenter1"
    rack: str = "rack1"
    # periodic: the commit log reaches the OS before the ack (survives kill -9); batch: fsync before the ack.
    commitlog_sync: str = "periodic"
    commitlog_sync_period_ms: int = 10000
    # cassandra: [applied] plus current values only when not applied; scylla: always the old row.
    lwt_result_shape: str = "cassandra"
    lwt_cross_partition_batches: bool = False
    cas_contention_timeout_ms: int = 1000
    write_request_timeout_ms: int = 2000
    read_request_timeout_ms: int = 5000
    batch_size_warn_threshold_kb: int = 5
    batch_size_fail_threshold_kb: int = 50
    paxos_queue_limit: int = 1024
    # Fault injection between the Paxos coordinator and the replica shards, to watch an application meet
    # contention and timeouts: "seed=1,drop=0.05,delay_ms=2,duplicate=0.01" (empty: a perfect network).
    paxos_faults: str = ""
    # Settled Paxos state older than the retention is purged every interval (it would grow forever),
    # judged this many states at a time so that requests are served in between (8-15 µs a state:
    # 2,000 at a time stalled every request for 25-40 ms, and bench baselines fell to a tenth; 64 holds
    # a request up at most about half a millisecond, for the same total work).
    paxos_state_retention_s: int = 60
    paxos_purge_interval_s: int = 30
    paxos_purge_batch: int = 64
    # How often deletions older than each table's gc_grace_seconds (and what they shadow) are swept.
    tombstone_gc_interval_s: int = 600
    max_pending_reply_bytes: int = 8 * 1024 * 1024
    statement_cache_size: int = 4096

    def apply(self, values: dict) -> None:
        known = {f.name: f for f in fields(self)}
        for key, value in values.items():
            key = key.replace("-", "_")
            if key not in known or value is None:
                continue
            current = getattr(self, key)
            if isinstance(current, bool) and isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(current, int) and not isinstance(current, bool):
                value = int(value)
            setattr(self, key, value)


ENV_PREFIX = "CQLD_"


def load(config_file: str | None, flags: dict) -> Config:
    cfg = Config()
    path = config_file or os.environ.get(ENV_PREFIX + "CONFIG")
    if path:
        with open(path, "rb") as fh:
            cfg.apply(tomllib.load(fh))
    cfg.apply({f.name: os.environ.get(ENV_PREFIX + f.name.upper()) for f in fields(cfg)})
    cfg.apply(flags)
    return cfg
