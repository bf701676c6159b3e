"""Native-protocol primitive encodings ([string], [bytes], [value], maps...) over bytes and memoryview.

Pure functions and a cursor-style Reader; no I/O. Big-endian throughout, as the spec says.
"""

from __future__ import annotations

import struct

_H = struct.Struct(">H")
_h = struct.Struct(">h")
_i = struct.Struct(">i")
_q = struct.Struct(">q")

NULL = None


class Unset:
    """The protocol's 'unset' value ([value] of length -2): leaves a column untouched."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()


class WireError(ValueError):
    """The body does not follow the layout its opcode promises."""


def short(n: int) -> bytes:
    return _H.pack(n & 0xFFFF)


def int_(n: int) -> bytes:
    return _i.pack(n)


def long_(n: int) -> bytes:
    return _q.pack(n)


def string(s: str) -> bytes:
    b = s.encode()
    return _H.pack(len(b)) + b


def long_string(s: str) -> bytes:
    b = s.encode()
    return _i.pack(len(b)) + b


def bytes_(b: bytes | None) -> bytes:
    if b is None:
        return b"\xff\xff\xff\xff"
    return _i.pack(len(b)) + b


def short_bytes(b: bytes) -> bytes:
    return _H.pack(len(b)) + b


def string_list(items: list[str]) -> bytes:
    return _H.pack(len(items)) + b"".join(string(s) for s in items)


def string_multimap(m: dict[str, list[str]]) -> bytes:
    return _H.pack(len(m)) + b"".join(string(k) + string_list(v) for k, v in m.items())


def inet(address: bytes, port: int) -> bytes:
    return bytes([len(address)]) + address + _i.pack(port)


class Reader:
    """Reads primitives from a body; every read checks bounds and raises WireError when short."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes | memoryview, pos: int = 0) -> None:
        self.buf = memoryview(buf) if not isinstance(buf, memoryview) else buf
        self.pos = pos

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise WireError(f"Not enough bytes to read: need {n} at offset {self.pos}, have {len(self.buf) - self.pos}")
        start = self.pos
        self.pos += n
        return self.buf[start : self.pos]

    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def byte(self) -> int:
        return self._take(1)[0]

    def short(self) -> int:
        return _H.unpack(self._take(2))[0]

    def int_(self) -> int:
        return _i.unpack(self._take(4))[0]

    def long_(self) -> int:
        return _q.unpack(self._take(8))[0]

    def string(self) -> str:
        return self._decode(self._take(self.short()))

    def long_string(self) -> str:
        n = self.int_()
        if n < 0:
            raise WireError("Negative length for a [long string]")
        return self._decode(self._take(n))

    @staticmethod
    def _decode(mv: memoryview) -> str:
        try:
            return bytes(mv).decode()
        except UnicodeDecodeError as e:
            raise WireError("Cannot decode string as UTF8") from e

    def bytes_(self) -> bytes | None:
        n = self.int_()
        if n < 0:
            return None
        return bytes(self._take(n))

    def value(self) -> bytes | None | Unset:
        n = self.int_()
        if n == -1:
            return None
        if n == -2:
            return UNSET
        if n < 0:
            raise WireError(f"Invalid value length {n}")
        return bytes(self._take(n))

    def short_bytes(self) -> bytes:
        return bytes(self._take(self.short()))

    def string_list(self) -> list[str]:
        return [self.string() for _ in range(self.short())]

    def string_map(self) -> dict[str, str]:
        return {self.string(): self.string() for _ in range(self.short())}

    def bytes_map(self) -> dict[str, bytes | None]:
        return {self.string(): self.bytes_() for _ in range(self.short())}
