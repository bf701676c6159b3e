"""Per-connection state: keyspace in use, compression, registered events."""

from __future__ import annotations

from server import frame as fr


class Session:
    __slots__ = ("keyspace", "compressor", "started", "events")

    def __init__(self) -> None:
        self.keyspace: str | None = None
        self.compressor: fr.Compressor | None = None
        self.started = False
        self.events: set[str] = set()

    def encode(self, stream: int, opcode: int, body: bytes, flags: int = 0) -> bytes:
        if self.compressor is not None and opcode != fr.OP_READY and body:
            body = self.compressor.compress(body)
            flags |= fr.FLAG_COMPRESSION
        return fr.encode_frame(stream, opcode, body, flags)
