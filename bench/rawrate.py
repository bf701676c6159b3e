"""EXECUTEs offered at a fixed rate over one raw connection, without the driver: the server's latency at a
given load.

The pipelined client (`rawproto`) keeps a window full, so its p50 is mostly queueing behind the window. Here
request n is due at start + n / rate whatever the replies do (an open loop), and its latency counts from
when it was due, so a late sender is charged for its lateness. Two threads on blocking sockets, not asyncio:
an event loop's timers wake in whole milliseconds (epoll's timeout), which would add up to a millisecond to
every request of a load that is due every half millisecond; `time.sleep` wakes within about 0.1 ms.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from bench.rawproto import (
    HEADER,
    OP_PREPARE,
    OP_QUERY,
    OP_READY,
    OP_RESULT,
    STARTUP,
    Executes,
    _long_string,
    frame,
)

STREAMS = 32_768  # stream ids of protocol v4: at most this many requests unanswered on one connection


class _Conn:
    """A blocking connection, read frame by frame."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def read_frame(self) -> tuple[int, int, bytes]:
        while len(self.buf) < HEADER.size:
            self._more()
        _version, _flags, stream, opcode, length = HEADER.unpack_from(self.buf)
        end = HEADER.size + length
        while len(self.buf) < end:
            self._more()
        body, self.buf = self.buf[HEADER.size : end], self.buf[end:]
        return stream, opcode, body

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def request(self, opcode: int, body: bytes) -> bytes:
        self.sock.sendall(frame(0, opcode, body))
        _stream, got, reply = self.read_frame()
        if got != OP_RESULT:
            raise RuntimeError(f"opcode {opcode:#x} answered with {got:#x}: {reply[:200]!r}")
        return reply


def execute_at_rate(host: str, port: int, executes: Executes, duration: float, rate: float,
                    timeout: float = 30.0) -> dict:  # fmt: skip
    """`executes` offered at `rate` per second for `duration` seconds. Returns latencies in seconds (from
    each request's due time), elapsed, errors (replies other than RESULT) and sent."""
    conn = _Conn(host, port, timeout)
    try:
        conn.sock.sendall(STARTUP)
        if conn.read_frame()[1] != OP_READY:
            raise RuntimeError("STARTUP was not answered with READY")
        for body in executes.setup_bodies():
            conn.request(OP_QUERY, body)
        execute = executes.frames(conn.request(OP_PREPARE, _long_string(executes.query)))
        return _open_loop(conn, execute, executes.first_key, duration, rate, timeout)
    finally:
        conn.sock.close()


def _open_loop(conn: _Conn, execute: Callable[[int, int], bytes], first_key: int, duration: float, rate: float,
               timeout: float) -> dict:  # fmt: skip
    perf = time.perf_counter
    count = int(duration * rate)
    due_at = [0.0] * STREAMS
    latencies: list[float] = []
    errors = 0
    free = threading.Semaphore(STREAMS - 1)  # stream 0 stays for the set-up requests
    failure: list[BaseException] = []

    def receive() -> None:
        nonlocal errors
        try:
            for _ in range(count):
                stream, opcode, _body = conn.read_frame()
                if opcode == OP_RESULT:
                    latencies.append(perf() - due_at[stream])
                else:
                    errors += 1
                free.release()
        except BaseException as e:  # noqa: BLE001 - reported by the sending thread
            failure.append(e)

    reader = threading.Thread(target=receive, name="rawrate-receive", daemon=True)
    reader.start()
    t0 = perf()
    for i in range(count):
        due = t0 + i / rate
        ahead = due - perf()
        if ahead > 0:
            time.sleep(ahead)
        if not free.acquire(timeout=timeout):
            raise RuntimeError(f"{STREAMS - 1} requests unanswered after {timeout:.0f} s")
        stream = 1 + i % (STREAMS - 1)
        due_at[stream] = due
        conn.sock.sendall(execute(stream, first_key + i))
    reader.join(timeout)
    if failure:
        raise failure[0]
    if reader.is_alive():
        raise RuntimeError(f"replies still missing {timeout:.0f} s after the last request")
    return {"latencies": latencies, "elapsed": perf() - t0, "errors": errors, "sent": count}
