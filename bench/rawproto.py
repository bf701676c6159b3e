"""Just enough native protocol v4 for the baseline: STARTUP, then OPTIONS frames pipelined on one connection.

The baseline is the cheapest request the server answers (no parsing, no storage), sent by a client much
lighter than the driver, so it measures the server's frame path and the machine's speed right now.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

HEADER = struct.Struct(">BBhBi")
VERSION = 0x04
OP_ERROR, OP_STARTUP, OP_READY, OP_OPTIONS, OP_SUPPORTED = 0x00, 0x01, 0x02, 0x05, 0x06


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


async def _options_pipeline(host: str, port: int, duration: float, window: int, timeout: float) -> dict:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(STARTUP)
        stream, opcode, body = await asyncio.wait_for(_read_frame(reader), timeout)
        if opcode != OP_READY:
            raise RuntimeError(f"STARTUP answered with opcode {opcode:#x}: {body[:200]!r}")
        sent_at = [0.0] * (window + 1)
        latencies: list[float] = []
        free: asyncio.Queue[int] = asyncio.Queue()
        for sid in range(1, window + 1):
            free.put_nowait(sid)
        stop = asyncio.Event()
        errors = 0

        async def send() -> None:
            deadline = time.perf_counter() + duration
            while time.perf_counter() < deadline:
                ids = [await free.get()]
                while not free.empty():  # everything that came back goes out again in one write
                    ids.append(free.get_nowait())
                now = time.perf_counter()
                for sid in ids:
                    sent_at[sid] = now
                writer.write(b"".join(frame(sid, OP_OPTIONS) for sid in ids))
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
                if opcode == OP_SUPPORTED:
                    latencies.append(now - sent_at[sid])
                else:
                    errors += 1
                free.put_nowait(sid)

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(send(), receive()), duration + timeout)
        elapsed = time.perf_counter() - t0
        return {"latencies": latencies, "elapsed": elapsed, "errors": errors}
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout)
        except (TimeoutError, OSError):
            pass


def options_pipeline(
    host: str, port: int, duration: float, window: int = 128, warmup: float = 0.5, timeout: float = 30.0
) -> dict:
    """Pipelined OPTIONS for `duration` seconds with `window` requests in flight; latencies in seconds."""
    try:
        import uvloop

        run = uvloop.run
    except ImportError:  # pragma: no cover
        run = asyncio.run
    if warmup > 0:
        run(_options_pipeline(host, port, warmup, window, timeout))
    return run(_options_pipeline(host, port, duration, window, timeout))
