#!/usr/bin/env python3
"""Container health check for cqld: one real CQL round trip over native protocol v4.

OPTIONS -> SUPPORTED, STARTUP {"CQL_VERSION": "3.4.7"} -> READY,
QUERY "SELECT release_version FROM system.local" at ONE -> RESULT.
Exit 0 when all three answer as expected, 1 otherwise (with the reason on stderr).
Stdlib only. Target: 127.0.0.1:$CQLD_PORT (default 9042); override the host with
CQLD_HEALTHCHECK_HOST and the time budget (seconds) with CQLD_HEALTHCHECK_TIMEOUT.
"""

from __future__ import annotations

import os
import socket
import struct
import sys

VERSION_REQUEST = 0x04
VERSION_RESPONSE = 0x84
OP_ERROR, OP_STARTUP, OP_READY, OP_OPTIONS, OP_SUPPORTED, OP_QUERY, OP_RESULT = 0x00, 0x01, 0x02, 0x05, 0x06, 0x07, 0x08
CONSISTENCY_ONE = 0x0001
HEADER = struct.Struct(">BBhBi")  # version, flags, stream, opcode, body length


class CheckFailed(Exception):
    pass


def _string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack(">H", len(b)) + b


def _long_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack(">i", len(b)) + b


def _string_map(m: dict[str, str]) -> bytes:
    return struct.pack(">H", len(m)) + b"".join(_string(k) + _string(v) for k, v in m.items())


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise CheckFailed(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def _request(sock: socket.socket, stream: int, opcode: int, body: bytes, expect: int) -> bytes:
    sock.sendall(HEADER.pack(VERSION_REQUEST, 0, stream, opcode, len(body)) + body)
    version, _flags, rstream, ropcode, length = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if version != VERSION_RESPONSE:
        raise CheckFailed(f"response version byte 0x{version:02x}, expected 0x{VERSION_RESPONSE:02x}")
    if length < 0 or length > 16 * 1024 * 1024:
        raise CheckFailed(f"implausible body length {length}")
    rbody = _recv_exact(sock, length)
    if rstream != stream:
        raise CheckFailed(f"response on stream {rstream}, expected {stream}")
    if ropcode == OP_ERROR and ropcode != expect:
        code = struct.unpack(">i", rbody[:4])[0] if len(rbody) >= 4 else -1
        msg = ""
        if len(rbody) >= 6:
            (n,) = struct.unpack(">H", rbody[4:6])
            msg = rbody[6 : 6 + n].decode("utf-8", "replace")
        raise CheckFailed(f"ERROR 0x{code:04x} for opcode 0x{opcode:02x}: {msg}")
    if ropcode != expect:
        raise CheckFailed(f"opcode 0x{ropcode:02x} for request 0x{opcode:02x}, expected 0x{expect:02x}")
    return rbody


def check(host: str, port: int, timeout: float) -> None:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        _request(sock, 1, OP_OPTIONS, b"", OP_SUPPORTED)
        _request(sock, 2, OP_STARTUP, _string_map({"CQL_VERSION": "3.4.7"}), OP_READY)
        query = _long_string("SELECT release_version FROM system.local")
        query += struct.pack(">HB", CONSISTENCY_ONE, 0)  # consistency, no query flags
        _request(sock, 3, OP_QUERY, query, OP_RESULT)


def main() -> int:
    host = os.environ.get("CQLD_HEALTHCHECK_HOST", "127.0.0.1")
    try:
        port = int(os.environ.get("CQLD_PORT") or 9042)
        timeout = float(os.environ.get("CQLD_HEALTHCHECK_TIMEOUT") or 3)
        check(host, port, timeout)
    except (OSError, ValueError, struct.error, CheckFailed) as exc:
        print(f"cqld unhealthy ({host}): {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
