"""Malformed frames on a raw socket: answered as Cassandra does, while other connections keep working."""

from __future__ import annotations

import socket
import struct

import pytest

from tests.conftest import make_cluster


def frame(opcode: int, body: bytes = b"", stream: int = 1, version: int = 4, flags: int = 0, length=None) -> bytes:
    n = len(body) if length is None else length
    return struct.pack(">BBhBi", version, flags, stream, opcode, n) + body


def read_frame(sock: socket.socket) -> tuple[int, int, int, bytes]:
    head = b""
    while len(head) < 9:
        chunk = sock.recv(9 - len(head))
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    version, _flags, stream, opcode, length = struct.unpack(">BBhBi", head)
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    return version, stream, opcode, body


def error_of(body: bytes) -> tuple[int, str]:
    code, n = struct.unpack_from(">iH", body)
    return code, body[6 : 6 + n].decode()


def startup_body() -> bytes:
    k, v = b"CQL_VERSION", b"3.4.7"
    return struct.pack(">H", 1) + struct.pack(">H", len(k)) + k + struct.pack(">H", len(v)) + v


def query_body(q: str) -> bytes:
    b = q.encode()
    return struct.pack(">i", len(b)) + b + struct.pack(">HB", 1, 0)


@pytest.fixture
def conn(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(frame(0x01, startup_body(), stream=0))
    assert read_frame(s)[2] == 0x02  # READY
    yield s
    s.close()


@pytest.mark.parametrize("version", [0x42, 0x41, 5, 3])
def test_other_versions_get_the_negotiation_error(server, version):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(frame(0x05, stream=7, version=version))
        v, stream, opcode, body = read_frame(s)
    assert (v, stream, opcode) == (0x84, 7, 0x00)
    assert error_of(body) == (
        0x000A,
        f"Invalid or unsupported protocol version ({version}); supported versions are (4/v4)",
    )


def test_v2_header_is_refused_without_waiting_for_nine_bytes(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(bytes([0x02, 0x00, 0x05]))  # an 8-byte v2 header, cut after its stream byte
        head = s.recv(8)
        assert head[0] == 0x82 and head[2] == 0x05 and head[3] == 0x00
        length = struct.unpack(">i", head[4:8])[0]
        body = s.recv(length)
    assert error_of(body)[0] == 0x000A


def test_unknown_opcode_is_a_protocol_error_on_that_stream(conn):
    conn.sendall(frame(0x3F, b"", stream=9))
    _v, stream, opcode, body = read_frame(conn)
    assert (stream, opcode) == (9, 0x00)
    assert error_of(body)[0] == 0x000A
    conn.sendall(frame(0x07, query_body("SELECT key FROM system.local"), stream=10))
    assert read_frame(conn)[1:3] == (10, 0x08)


def test_truncated_body_is_a_protocol_error_and_the_connection_stays(conn):
    body = query_body("SELECT key FROM system.local")[:-2]
    conn.sendall(frame(0x07, body, stream=3))
    _v, stream, opcode, resp = read_frame(conn)
    assert (stream, opcode) == (3, 0x00) and error_of(resp)[0] == 0x000A
    conn.sendall(frame(0x05, stream=4))
    assert read_frame(conn)[1:3] == (4, 0x06)


def test_bad_length_closes_only_that_connection(server, conn):
    other = make_cluster(server.port)
    s = other.connect()
    try:
        conn.sendall(frame(0x07, b"", stream=5, length=-5))
        _v, _stream, opcode, body = read_frame(conn)
        assert opcode == 0x00 and error_of(body)[0] == 0x000A
        with pytest.raises((ConnectionError, OSError)):
            conn.sendall(frame(0x05, stream=6))
            read_frame(conn)
        assert s.execute("SELECT key FROM system.local").one().key == "local"
    finally:
        other.shutdown()


def test_query_before_startup_is_refused(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(frame(0x07, query_body("SELECT key FROM system.local"), stream=2))
        _v, stream, opcode, body = read_frame(s)
    assert (stream, opcode) == (2, 0x00) and error_of(body)[0] == 0x000A


def test_forged_paging_state_is_an_error_not_a_crash(conn):
    # Cassandra answers an undecodable paging state with a Protocol error; the connection stays.
    q = b"SELECT keyspace_name FROM system_schema.keyspaces"
    forged = b"\x00forged-state-bytes-here"
    body = (
        struct.pack(">i", len(q)) + q + struct.pack(">HBi", 1, 0x04 | 0x08, 2) + struct.pack(">i", len(forged)) + forged
    )
    conn.sendall(frame(0x07, body, stream=11))
    _v, stream, opcode, resp = read_frame(conn)
    assert (stream, opcode) == (11, 0x00)
    assert error_of(resp) == (0x000A, "Invalid value for the paging state")
    conn.sendall(frame(0x07, query_body("SELECT key FROM system.local"), stream=12))
    assert read_frame(conn)[1:3] == (12, 0x08)
