"""Jepsen-style: real-driver clients run SERIAL reads and CAS updates on a few keys while the server is
kill -9'ed and restarted; each key's history, with cut-off requests as unknown outcomes, must be
linearizable (Wing & Gong search, tests/paxos/paxos_linearizability.py)."""

from __future__ import annotations

import math
import random
import socket
import threading
import time

from cassandra import ConsistencyLevel
from cassandra.cluster import NoHostAvailable
from cassandra.connection import ConnectionException
from cassandra.policies import ConstantReconnectionPolicy, FallthroughRetryPolicy

from tests.conftest import ServerProcess, create_keyspace, make_cluster
from tests.paxos.paxos_linearizability import Op, cas_register_step, check_linearizable

KEYS = 3
CLIENTS = 3
KILLS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def never_sent(exc: Exception) -> bool:
    """The request cannot have reached the server: no host was tried, or the connection pool was
    already down when the driver tried to borrow a connection."""
    if not isinstance(exc, NoHostAvailable):
        return False
    return all(isinstance(e, ConnectionException) and "Pool" in str(e) for e in exc.errors.values())


def client(port: int, seed: int, history: dict, stop: threading.Event, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    # No driver retries: a retried CAS whose first attempt applied would look like a lost update.
    cluster = make_cluster(
        port,
        reconnection_policy=ConstantReconnectionPolicy(0.1),
        default_retry_policy=FallthroughRetryPolicy(),
        connect_timeout=5,
    )
    session = None
    while session is None and not stop.is_set():
        try:
            session = cluster.connect("jep")
        except Exception:
            time.sleep(0.1)
    read = session.prepare("SELECT v FROM reg WHERE k = ?")
    read.consistency_level = ConsistencyLevel.SERIAL
    cas = session.prepare("UPDATE reg SET v = ? WHERE k = ? IF v = ?")
    try:
        while not stop.is_set():
            k = rng.randrange(KEYS)
            if rng.random() < 0.4:
                inp, stmt, args = ("read",), read, (k,)
            else:
                expected, new = rng.randrange(4), rng.randrange(4)
                inp, stmt, args = ("cas", expected, new), cas, (new, k, expected)
            call = time.monotonic()
            try:
                rs = session.execute(stmt, args, timeout=5)
                row = rs.one()
                if inp[0] == "read":
                    out = ("ok", row.v)
                else:
                    out = ("applied",) if row[0] else ("failed", row.v)
                ret = time.monotonic()
            except Exception as e:
                if never_sent(e):
                    time.sleep(0.05)
                    continue
                out, ret = ("unknown",), math.inf
            with lock:
                history[k].append(Op(call, ret, inp, out, seed))
            time.sleep(0.01)  # keep histories small enough for the exhaustive checker
    finally:
        cluster.shutdown()


def test_cas_and_serial_reads_stay_linearizable_across_kill_9(tmp_path):
    port = free_port()
    server = ServerProcess(tmp_path / "data", "--port", str(port)).start()
    setup = make_cluster(port)
    s = setup.connect()
    create_keyspace(s, "jep")
    s.execute("CREATE TABLE jep.reg (k int PRIMARY KEY, v int)")
    for k in range(KEYS):
        s.execute("INSERT INTO jep.reg (k, v) VALUES (%s, 0)", (k,))
    setup.shutdown()

    history: dict[int, list[Op]] = {k: [] for k in range(KEYS)}
    stop = threading.Event()
    lock = threading.Lock()
    threads = [threading.Thread(target=client, args=(port, i, history, stop, lock)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        for _ in range(KILLS):
            time.sleep(1.5)
            server.kill9()
            time.sleep(0.3)
            server.start()
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        server.stop()
    completed = sum(1 for ops in history.values() for op in ops if op.ret != math.inf)
    unknown = sum(1 for ops in history.values() for op in ops if op.ret == math.inf)
    print(f"history: {completed} completed, {unknown} unknown")
    assert completed > 100, (completed, unknown)
    for k, ops in history.items():
        unknown_k = sum(1 for op in ops if op.ret == math.inf)
        assert check_linearizable(ops, 0, cas_register_step), (
            f"key {k}: history of {len(ops)} operations ({unknown_k} unknown) is not linearizable"
        )
