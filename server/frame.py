"""Sans-IO framing for native protocol v4: bytes in, frames out; frames in, bytes out.

No sockets, no event loop. `FrameDecoder.feed()` returns whole frames; a header with another protocol
version raises `UnsupportedVersion` as soon as enough bytes arrived to know its stream id.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct(">BBhBi")
HEADER_V2 = struct.Struct(">BBbBi")
MAX_BODY = 256 * 1024 * 1024
VERSION = 4
RESPONSE_VERSION = 0x84

FLAG_COMPRESSION = 0x01
FLAG_TRACING = 0x02
FLAG_CUSTOM_PAYLOAD = 0x04
FLAG_WARNING = 0x08

OP_ERROR = 0x00
OP_STARTUP = 0x01
OP_READY = 0x02
OP_AUTHENTICATE = 0x03
OP_OPTIONS = 0x05
OP_SUPPORTED = 0x06
OP_QUERY = 0x07
OP_RESULT = 0x08
OP_PREPARE = 0x09
OP_EXECUTE = 0x0A
OP_REGISTER = 0x0B
OP_EVENT = 0x0C
OP_BATCH = 0x0D
OP_AUTH_CHALLENGE = 0x0E
OP_AUTH_RESPONSE = 0x0F
OP_AUTH_SUCCESS = 0x10


@dataclass(slots=True)
class Frame:
    version: int
    flags: int
    stream: int
    opcode: int
    body: bytes


class FramingError(Exception):
    """The byte stream cannot be split into frames any more; the connection must close."""


class UnsupportedVersion(Exception):
    """A header carried a protocol version other than 4; answer on `stream` with a header of `reply_version`."""

    def __init__(self, version: int, stream: int) -> None:
        super().__init__(version_message(version))
        self.version = version
        self.stream = stream
        # Cassandra answers v1/v2 (whose 8-byte header a client could not parse otherwise) with that old version,
        # and any other version, v3 included, with its highest one.
        self.reply_version = 0x80 | version if version in (1, 2) else RESPONSE_VERSION


def version_message(version: int) -> str:
    # The drivers match this text to step down to v4: keep its wording.
    return f"Invalid or unsupported protocol version ({version}); supported versions are (4/v4)"


class Compressor:
    """lz4 or snappy body compression as negotiated in STARTUP."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "lz4":
            import lz4.block

            self._lz4 = lz4.block
        elif name == "snappy":
            import snappy

            self._snappy = snappy
        else:
            raise ValueError(name)

    def compress(self, body: bytes) -> bytes:
        if self.name == "lz4":
            return struct.pack(">i", len(body)) + self._lz4.compress(body, store_size=False)
        return self._snappy.compress(body)

    def decompress(self, body: bytes) -> bytes:
        if self.name == "lz4":
            if len(body) < 4:
                raise ValueError("lz4 body too short")
            (n,) = struct.unpack_from(">i", body)
            return self._lz4.decompress(body[4:], uncompressed_size=n) if n else b""
        return self._snappy.decompress(body)


SUPPORTED_COMPRESSION = ("lz4", "snappy")


class FrameDecoder:
    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        """Append bytes; return every complete frame. Raises UnsupportedVersion or FramingError."""
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        pos = 0
        n = len(buf)
        while n - pos >= 1:
            version = buf[pos] & 0x7F
            if version != VERSION:
                # Old headers are 8 bytes with a one-byte stream; answer without waiting for 9 bytes.
                if version < 3:
                    if n - pos < 3:
                        break
                    stream = struct.unpack_from(">b", buf, pos + 2)[0]
                else:
                    if n - pos < 4:
                        break
                    stream = struct.unpack_from(">h", buf, pos + 2)[0]
                del buf[:pos]
                raise UnsupportedVersion(version, stream)
            if n - pos < 9:
                break
            _, flags, stream, opcode, length = HEADER.unpack_from(buf, pos)
            if length < 0 or length > MAX_BODY:
                raise FramingError(f"Invalid frame body length {length}")
            if n - pos - 9 < length:
                break
            body = bytes(buf[pos + 9 : pos + 9 + length])
            frames.append(Frame(version, flags, stream, opcode, body))
            pos += 9 + length
        if pos:
            del buf[:pos]
        return frames


def encode_frame(stream: int, opcode: int, body: bytes, flags: int = 0, version: int = RESPONSE_VERSION) -> bytes:
    if version & 0x7F < 3:
        return HEADER_V2.pack(version, flags, stream, opcode, len(body)) + body
    return HEADER.pack(version, flags, stream, opcode, len(body)) + body
