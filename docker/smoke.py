"""End-to-end check of a running cqld container with the real cassandra-driver.

    python docker/smoke.py write  --host 127.0.0.1 --port 19042   # first start
    python docker/smoke.py verify --host 127.0.0.1 --port 19042   # after a restart on the same volume

`write` creates a keyspace and a table, inserts a row with INSERT ... IF NOT EXISTS (an LWT) and
checks [applied] is True and the row reads back. `verify` checks the row survived the restart and
that the same INSERT ... IF NOT EXISTS is now *not* applied (and returns the existing row).
Exit 0 on success, 1 on failure. Run by docker/docker-test.sh with /work/main/.venv's Python.
"""

from __future__ import annotations

import argparse
import sys
import time

KEYSPACE = "docker_smoke"
TABLE = f"{KEYSPACE}.kv"
KEY = "k1"  # overridden by --key (docker-test.sh passes a fresh one per run)
VALUE = "written-before-restart"


def connect(host: str, port: int, deadline: float):
    from cassandra import ConsistencyLevel
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy

    profile = ExecutionProfile(
        load_balancing_policy=RoundRobinPolicy(),
        consistency_level=ConsistencyLevel.QUORUM,
        serial_consistency_level=ConsistencyLevel.SERIAL,
        request_timeout=15,
    )
    last: Exception | None = None
    while time.monotonic() < deadline:
        cluster = Cluster(
            [host],
            port=port,
            protocol_version=4,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            connect_timeout=5,
            control_connection_timeout=5,
        )
        try:
            return cluster, cluster.connect()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
            cluster.shutdown()
            time.sleep(1)
    raise SystemExit(f"FAIL: could not connect to {host}:{port}: {last!r}")


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}")


def write(session, rf: int) -> None:
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
        f"WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
    )
    session.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (k text PRIMARY KEY, v text)")
    print(f"  ok: keyspace {KEYSPACE} (RF {rf}) and table {TABLE} exist")
    rs = session.execute(f"INSERT INTO {TABLE} (k, v) VALUES (%s, %s) IF NOT EXISTS", (KEY, VALUE))
    row = rs.one()
    check(row is not None and row[0] is True, f"INSERT ... IF NOT EXISTS applied (got {row!r})")
    row = session.execute(f"SELECT v FROM {TABLE} WHERE k = %s", (KEY,)).one()
    check(row is not None and row.v == VALUE, f"row reads back (got {row!r})")


def verify(session) -> None:
    row = session.execute(f"SELECT v FROM {TABLE} WHERE k = %s", (KEY,)).one()
    check(row is not None and row.v == VALUE, f"row survived the restart (got {row!r})")
    rs = session.execute(f"INSERT INTO {TABLE} (k, v) VALUES (%s, %s) IF NOT EXISTS", (KEY, "second-attempt"))
    row = rs.one()
    check(row is not None and row[0] is False, f"second INSERT ... IF NOT EXISTS not applied (got {row!r})")
    existing = row._asdict().get("v") if hasattr(row, "_asdict") else None
    check(existing in (None, VALUE), f"not-applied result carries the existing row (v={existing!r})")
    row = session.execute(f"SELECT v FROM {TABLE} WHERE k = %s", (KEY,)).one()
    check(row is not None and row.v == VALUE, "value unchanged after the rejected LWT")


def main() -> int:
    global KEY
    p = argparse.ArgumentParser()
    p.add_argument("phase", choices=["write", "verify"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9042)
    p.add_argument("--rf", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60, help="overall budget in seconds")
    p.add_argument("--key", default=KEY)
    args = p.parse_args()
    KEY = args.key
    deadline = time.monotonic() + args.timeout
    print(f"smoke {args.phase}: {args.host}:{args.port}")
    cluster, session = connect(args.host, args.port, deadline)
    try:
        write(session, args.rf) if args.phase == "write" else verify(session)
    except Exception as exc:  # noqa: BLE001 - report any driver or assertion failure the same way
        print(f"FAIL: smoke {args.phase}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        cluster.shutdown()
    print(f"smoke {args.phase}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
