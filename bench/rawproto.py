"""Just enough native protocol v4 for the baseline: STARTUP, then OPTIONS frames pipelined on one connection.

The baseline is the cheapest request the server answers (no parsing, no storage), sent by a client much
lighter than the driver, so it measures the server's frame path and the machine's speed right now.
The same pipeline also sends EXECUTEs of one prepared statement (`execute_pipeline`): the server's cost
of a statement without the driver's cost around it.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

HEADER = struct.Struct(">BBhBi")
VERSION = 0x04
OP_ERROR, OP_STARTUP, OP_READY, OP_OPTIONS, OP_SUPPORTED = 0x00, 0x01, 0x02, 0x05, 0x06
OP_QUERY, OP_RESULT, OP_PREPARE, OP_EXECUTE = 0x07, 0x08, 0x09, 0x0A
ONE = 0x0001


def frame(stream: int, opcode: int, body: bytes = b"") -> bytes:
    return HEADER.pack(VERSION, 0, stream, opcode, len(body)) + body


def string_map(values: dict[str, str]) -> bytes:
    out = [struct.pack(">H", len(values))]
    for k, v in values.items():
        for s in (k, v):
            b = s.encode()
            out.append(struct.pack(">H", len(b)) + b)
    return b"".join(out)


STARTUP = frame(0, OP_STARTUP, string_map({"CQL_VERSION": "3.0.0"}))


def probe(host: str, port: int, timeout: float = 2.0) -> bool:
    """One OPTIONS on a new connection (no STARTUP needed); True once a SUPPORTED reply came back."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(frame(1, OP_OPTIONS))
            buf = b""
            while len(buf) < HEADER.size:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                buf += chunk
            return HEADER.unpack_from(buf)[3] == OP_SUPPORTED
    except OSError:
        return False


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    _version, _flags, stream, opcode, length = HEADER.unpack(await reader.readexactly(HEADER.size))
    body = await reader.readexactly(length) if length else b""
    return stream, opcode, body


async def _request(reader, writer, opcode: int, body: bytes, timeout: float) -> bytes:
    """One request on stream 0 before the pipeline starts; the RESULT body, or RuntimeError."""
    writer.write(frame(0, opcode, body))
    _stream, got, reply = await asyncio.wait_for(_read_frame(reader), timeout)
    if got != OP_RESULT:
        raise RuntimeError(f"opcode {opcode:#x} answered with {got:#x}: {reply[:200]!r}")
    return reply


@dataclass(frozen=True)
class Executes:
    """What the raw clients send: EXECUTEs of `query` at consistency ONE, prepared after running
    `setup_queries`, with two markers bound: an int key, new each time from `first_key`, and `value`."""

    setup_queries: list[str]
    query: str
    first_key: int
    value: str

    def frames(self, prepared: bytes) -> Callable[[int, int], bytes]:
        """From the PREPARE's RESULT body: (stream, key) -> the EXECUTE frame binding `key` and `value`."""
        kind, id_len = struct.unpack_from(">iH", prepared)
        if kind != 4:
            raise RuntimeError(f"PREPARE answered with result kind {kind}")
        head = struct.pack(">H", id_len) + prepared[6 : 6 + id_len] + struct.pack(">HBH", ONE, 0x01, 2)
        tail = _value(self.value.encode())

        def execute(stream: int, key: int) -> bytes:
            return frame(stream, OP_EXECUTE, head + _value(key.to_bytes(4, "big", signed=True)) + tail)

        return execute

    def setup_bodies(self) -> list[bytes]:
        return [_long_string(q) + struct.pack(">HB", ONE, 0) for q in self.setup_queries]


def _long_string(text: str) -> bytes:
    b = text.encode()
    return struct.pack(">i", len(b)) + b


def _value(v: bytes) -> bytes:
    return struct.pack(">i", len(v)) + v


async def _pipeline(host: str, port: int, duration: float, window: int, timeout: float, setup, make, ok) -> dict:
    """Keep `window` requests in flight for `duration`: `make(sid, i)` builds the i-th frame, `ok` is the
    reply opcode that counts as success; `setup(reader, writer)`, when given, runs once after STARTUP
    and returns `make`."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(STARTUP)
        stream, opcode, body = await asyncio.wait_for(_read_frame(reader), timeout)
        if opcode != OP_READY:
            raise RuntimeError(f"STARTUP answered with opcode {opcode:#x}: {body[:200]!r}")
        if setup is not None:
            make = await setup(reader, writer)
        sent_at = [0.0] * (window + 1)
        latencies: list[float] = []
        free: asyncio.Queue[int] = asyncio.Queue()
        for sid in range(1, window + 1):
            free.put_nowait(sid)
        stop = asyncio.Event()
        errors = 0
        count = 0

        async def send() -> None:
            nonlocal count
            deadline = time.perf_counter() + duration
            while time.perf_counter() < deadline:
                ids = [await free.get()]
                while not free.empty():  # everything that came back goes out again in one write
                    ids.append(free.get_nowait())
                now = time.perf_counter()
                frames = []
                for sid in ids:
                    sent_at[sid] = now
                    frames.append(make(sid, count))
                    count += 1
                writer.write(b"".join(frames))
                await writer.drain()
            stop.set()

        async def receive() -> None:
            nonlocal errors
            outstanding = 0
            while True:
                if stop.is_set():
                    outstanding = window - free.qsize()
                    if outstanding == 0:
                        return
                sid, opcode, _ = await _read_frame(reader)
                now = time.perf_counter()
                if opcode == ok:
                    latencies.append(now - sent_at[sid])
                else:
                    errors += 1
                free.put_nowait(sid)

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(send(), receive()), duration + timeout)
        elapsed = time.perf_counter() - t0
        return {"latencies": latencies, "elapsed": elapsed, "errors": errors, "sent": count}
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout)
        except (TimeoutError, OSError):
            pass


def _options_frame(sid: int, _i: int) -> bytes:
    return frame(sid, OP_OPTIONS)


async def _options_pipeline(host: str, port: int, duration: float, window: int, timeout: float) -> dict:
    return await _pipeline(host, port, duration, window, timeout, None, _options_frame, OP_SUPPORTED)


def _run():
    try:
        import uvloop

        return uvloop.run
    except ImportError:  # pragma: no cover
        return asyncio.run


def execute_pipeline(
    host: str,
    port: int,
    executes: Executes,
    duration: float,
    window: int = 128,
    warmup: float = 0.5,
    timeout: float = 30.0,
) -> dict:
    """Pipelined `executes`; latencies in seconds."""
    keys = iter(range(executes.first_key, 1 << 31))  # warm-up and measured run: every key once

    async def setup(reader, writer):
        for body in executes.setup_bodies():
            await _request(reader, writer, OP_QUERY, body, timeout)
        execute = executes.frames(await _request(reader, writer, OP_PREPARE, _long_string(executes.query), timeout))

        def make(sid: int, _i: int) -> bytes:
            return execute(sid, next(keys))

        return make

    async def go(seconds: float) -> dict:
        return await _pipeline(host, port, seconds, window, timeout, setup, None, OP_RESULT)

    run = _run()
    if warmup > 0:
        run(go(warmup))
    return run(go(duration))


def options_pipeline(
    host: str, port: int, duration: float, window: int = 128, warmup: float = 0.5, timeout: float = 30.0
) -> dict:
    """Pipelined OPTIONS for `duration` seconds with `window` requests in flight; latencies in seconds."""
    run = _run()
    if warmup > 0:
        run(_options_pipeline(host, port, warmup, window, timeout))
    return run(_options_pipeline(host, port, duration, window, timeout))
