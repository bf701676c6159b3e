"""Per-connection behaviour on a raw socket: events, out-of-order replies, backpressure."""

from __future__ import annotations

import socket
import struct
import threading
import time

from tests.conftest import ServerProcess, create_keyspace, make_cluster
from tests.integration.test_wire_faults import frame, query_body, read_frame, startup_body


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(frame(0x01, startup_body(), stream=0))
    assert read_frame(s)[2] == 0x02
    return s


def string_list(items: list[str]) -> bytes:
    out = struct.pack(">H", len(items))
    for i in items:
        out += struct.pack(">H", len(i)) + i.encode()
    return out


def read_string(body: bytes, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from(">H", body, pos)
    return body[pos + 2 : pos + 2 + n].decode(), pos + 2 + n


def test_registered_connections_get_schema_change_events(server, session):
    s = connect(server.port)
    s.sendall(frame(0x0B, string_list(["SCHEMA_CHANGE"]), stream=1))
    assert read_frame(s)[1:3] == (1, 0x02)
    session.execute(
        "CREATE KEYSPACE IF NOT EXISTS evks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute("CREATE TABLE evks.t (k int PRIMARY KEY)")
    events = []
    for _ in range(2):
        _v, stream, opcode, body = read_frame(s)
        assert (stream, opcode) == (-1, 0x0C)
        kind, pos = read_string(body, 0)
        change, pos = read_string(body, pos)
        target, pos = read_string(body, pos)
        ks, pos = read_string(body, pos)
        name = read_string(body, pos)[0] if target == "TABLE" else None
        events.append((kind, change, target, ks, name))
    assert events == [
        ("SCHEMA_CHANGE", "CREATED", "KEYSPACE", "evks", None),
        ("SCHEMA_CHANGE", "CREATED", "TABLE", "evks", "t"),
    ]
    s.close()


def test_a_slow_request_does_not_hold_up_the_others(tmp_path):
    # Slow LWTs (a lossy, slow Paxos network) and fast OPTIONS share one connection.
    server = ServerProcess(tmp_path / "data", env={"CQLD_PAXOS_FAULTS": "seed=3,delay_ms=40"}).start()
    c = make_cluster(server.port)
    setup = c.connect()
    create_keyspace(setup, "sl")
    setup.execute("CREATE TABLE sl.t (k int PRIMARY KEY, v int)")
    c.shutdown()
    s = connect(server.port)
    try:
        s.sendall(frame(0x07, query_body("INSERT INTO sl.t (k, v) VALUES (1, 1) IF NOT EXISTS"), stream=5))
        s.sendall(frame(0x05, stream=6))
        order = [read_frame(s)[1], read_frame(s)[1]]
        assert order == [6, 5]
    finally:
        s.close()
        server.stop()


def test_backpressure_keeps_every_reply_and_other_connections(server, session):
    session.execute(
        "CREATE KEYSPACE IF NOT EXISTS bp WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute("CREATE TABLE IF NOT EXISTS bp.t (k int PRIMARY KEY, v text)")
    session.execute("INSERT INTO bp.t (k, v) VALUES (1, %s)", ("x" * 20000,))
    s = connect(server.port)
    n = 2000  # 40 MB of replies, far past the pending-reply bound, while the client does not read
    payload = b"".join(frame(0x07, query_body("SELECT v FROM bp.t WHERE k = 1"), stream=i) for i in range(n))
    sender = threading.Thread(target=s.sendall, args=(payload,), daemon=True)
    sender.start()
    time.sleep(1.0)
    # The server has stopped reading this connection; other connections are served meanwhile.
    assert session.execute("SELECT key FROM system.local").one().key == "local"
    streams = set()
    for _ in range(n):
        _v, stream, opcode, body = read_frame(s)
        assert opcode == 0x08 and len(body) > 20000
        streams.add(stream)
    sender.join(10)
    assert streams == set(range(n))
    s.close()
