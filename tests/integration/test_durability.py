"""kill -9 during a load: every acknowledged write (and batch) is there after restart, in both
commitlog_sync modes; an unacknowledged batch is all there or not at all."""

from __future__ import annotations

import threading
import time

import pytest
from cassandra.query import BatchStatement, BatchType

from tests.conftest import ServerProcess, connected, create_keyspace


def started_with_schema(tmp_path, keyspace: str, rf: int, tables: list[str], args: tuple = ()) -> ServerProcess:
    """A server of its own with a keyspace and tables created, and no client left connected."""
    server = ServerProcess(tmp_path / "data", *args).start()
    with connected(server) as s:
        create_keyspace(s, keyspace, rf)
        for statement in tables:
            s.execute(statement)
    return server


def settle(futures, acked: list, applied_only: bool = False) -> bool:
    """Wait for each (key, future), recording the keys acknowledged (and applied); False once one fails."""
    for key, f in futures:
        try:
            result = f.result()
        except Exception:
            return False
        if not applied_only or result.was_applied:
            acked.append(key)
    return True


def load_until_killed(server: ServerProcess, work, seconds: float = 1.5):
    """Run `work(session, acked, stop)` in a thread, kill -9 the server mid-way, return what was acked."""
    acked: list = []
    stop = threading.Event()
    with connected(server) as s:
        t = threading.Thread(target=work, args=(s, acked, stop), daemon=True)
        t.start()
        time.sleep(seconds)
        server.kill9()
        stop.set()
        t.join(30)
    return list(acked)


@pytest.mark.parametrize("mode", ["periodic", "batch"])
def test_acknowledged_writes_survive_kill_9_under_load(tmp_path, mode):
    server = started_with_schema(
        tmp_path,
        "d",
        rf=3,
        tables=["CREATE TABLE d.t (k int PRIMARY KEY, v text)"],
        args=(
            "--commitlog-sync",
            mode,
        ),
    )

    def work(session, acked, stop):
        ins = session.prepare("INSERT INTO d.t (k, v) VALUES (?, ?)")
        k = 0
        while not stop.is_set():
            futures = [(k + i, session.execute_async(ins, (k + i, f"v{k + i}"))) for i in range(64)]
            k += 64
            if not settle(futures, acked):
                return

    acked = load_until_killed(server, work)
    assert len(acked) > 100
    with connected(server.start()) as s:
        sel = s.prepare("SELECT v FROM d.t WHERE k = ?")
        missing = [k for k in acked if (row := s.execute(sel, (k,)).one()) is None or row.v != f"v{k}"]
    assert server.stop() == 0
    assert missing == []


def test_logged_batches_are_all_or_nothing_across_kill_9(tmp_path):
    server = started_with_schema(
        tmp_path,
        "b",
        rf=3,
        tables=[
            "CREATE TABLE b.by_id (id int PRIMARY KEY, customer text)",
            "CREATE TABLE b.by_customer (customer text, id int, PRIMARY KEY (customer, id))",
        ],
    )

    def work(session, acked, stop):
        a = session.prepare("INSERT INTO b.by_id (id, customer) VALUES (?, ?)")
        b = session.prepare("INSERT INTO b.by_customer (customer, id) VALUES (?, ?)")
        n = 0
        while not stop.is_set():
            futures = []
            for _ in range(16):
                batch = BatchStatement(batch_type=BatchType.LOGGED)
                for j in range(3):
                    batch.add(a, (n * 3 + j, f"c{n % 5}"))
                    batch.add(b, (f"c{n % 5}", n * 3 + j))
                futures.append((n, session.execute_async(batch)))
                n += 1
            if not settle(futures, acked):
                return

    acked = load_until_killed(server, work)
    assert len(acked) > 20
    with connected(server.start()) as s:
        ids = {r.id for r in s.execute("SELECT id FROM b.by_id")}
        pairs = {(r.customer, r.id) for r in s.execute("SELECT customer, id FROM b.by_customer")}
    server.stop()
    batches = {i // 3 for i in ids} | {i // 3 for _, i in pairs}
    for n in batches:
        expected_ids = {n * 3 + j for j in range(3)}
        present = (expected_ids <= ids) and all((f"c{n % 5}", i) in pairs for i in expected_ids)
        absent = not (expected_ids & ids) and not any((f"c{n % 5}", i) in pairs for i in expected_ids)
        assert present or absent, f"batch {n} is half applied"
    assert set(acked) <= batches


def test_acknowledged_lwts_survive_kill_9(tmp_path):
    server = started_with_schema(
        tmp_path,
        "l",
        rf=3,
        tables=["CREATE TABLE l.t (k int PRIMARY KEY, v int)"],
    )

    def work(session, acked, stop):
        ins = session.prepare("INSERT INTO l.t (k, v) VALUES (?, ?) IF NOT EXISTS")
        k = 0
        while not stop.is_set():
            futures = [(k + i, session.execute_async(ins, (k + i, k + i))) for i in range(32)]
            k += 32
            if not settle(futures, acked, applied_only=True):
                return

    acked = load_until_killed(server, work)
    assert len(acked) > 50
    with connected(server.start()) as s:
        ins = s.prepare("INSERT INTO l.t (k, v) VALUES (?, ?) IF NOT EXISTS")
        lost = [k for k in acked if s.execute(ins, (k, -1)).was_applied]
    server.stop()
    assert lost == []


@pytest.mark.parametrize("damage", ["torn", "flipped"])
def test_damaged_log_tail_is_dropped_not_read(tmp_path, damage):
    """A torn or corrupt tail of the write-ahead log is detected by its checksum and dropped."""
    server = ServerProcess(tmp_path / "data").start()
    with connected(server) as s:
        s.execute("CREATE KEYSPACE w WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        s.execute("CREATE TABLE w.t (k int PRIMARY KEY, v text)")
        ins = s.prepare("INSERT INTO w.t (k, v) VALUES (?, ?)")
        for k in range(200):
            s.execute(ins, (k, f"v{k}"))
    server.kill9()
    log = max((tmp_path / "data" / "db").glob("*.log"), key=lambda p: p.stat().st_mtime)
    data = bytearray(log.read_bytes())
    if damage == "torn":
        data += b"\x5a" * 100  # half a record
    else:
        data[-20] ^= 0xFF  # inside the last record: its checksum no longer matches
    log.write_bytes(bytes(data))
    with connected(server.start()) as s:
        rows = {r.k: r.v for r in s.execute("SELECT k, v FROM w.t")}
    assert server.stop() == 0
    # Nothing was read from the damaged bytes; at most the last record is gone, never a wrong value.
    assert all(rows[k] == f"v{k}" for k in rows)
    assert len(rows) >= 199
    assert "recovery done" in server.log()
