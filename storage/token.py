"""Murmur3Partitioner tokens and partition-key byte layout (Cassandra-compatible).

``murmur3_token(key)`` is Cassandra's token for a serialized partition key: the first 64-bit half of its
MurmurHash3 x64_128 variant (whose tail bytes are sign-extended, a Java quirk), as a signed int, with
Long.MIN_VALUE mapped to Long.MAX_VALUE. An empty key maps to the minimum token (Long.MIN_VALUE).

``partition_key_bytes(components)`` builds the partition key: one component as is; several as CompositeType
(for each: u16 length, bytes, 0x00). ``split_partition_key(data, n)`` is its inverse.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

__all__ = [
    "MIN_TOKEN",
    "MAX_TOKEN",
    "murmur3_token",
    "murmur3_token_py",
    "murmur3_h1",
    "murmur3_h1_py",
    "partition_key_bytes",
    "split_partition_key",
]

MIN_TOKEN = -(2**63)
MAX_TOKEN = 2**63 - 1

_M64 = 0xFFFFFFFFFFFFFFFF
_C1 = 0x87C37B91114253D5
_C2 = 0x4CF5AD432745937F
_BLOCK = struct.Struct("<QQ")
_U16 = struct.Struct(">H")


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _M64
    k ^= k >> 33
    return k


def murmur3_h1_py(data: bytes) -> int:
    """Pure-Python first half of Cassandra's MurmurHash.hash3_x64_128(data, seed=0), as a signed 64-bit int."""
    length = len(data)
    nblocks = length >> 4
    h1 = h2 = 0
    for i in range(nblocks):
        k1, k2 = _BLOCK.unpack_from(data, i << 4)
        k1 = (k1 * _C1) & _M64
        k1 = _rotl(k1, 31)
        k1 = (k1 * _C2) & _M64
        h1 ^= k1
        h1 = _rotl(h1, 27)
        h1 = (h1 + h2) & _M64
        h1 = (h1 * 5 + 0x52DCE729) & _M64
        k2 = (k2 * _C2) & _M64
        k2 = _rotl(k2, 33)
        k2 = (k2 * _C1) & _M64
        h2 ^= k2
        h2 = _rotl(h2, 31)
        h2 = (h2 + h1) & _M64
        h2 = (h2 * 5 + 0x38495AB5) & _M64

    tail = data[nblocks << 4 :]
    n = len(tail)
    if n:
        k1 = k2 = 0
        # Java reads tail bytes as signed bytes and sign-extends them to long before shifting.
        for i in range(n - 1, 7, -1):
            b = tail[i]
            if b >= 128:
                b -= 256
            k2 ^= (b << ((i - 8) * 8)) & _M64
        if n > 8:
            k2 = (k2 * _C2) & _M64
            k2 = _rotl(k2, 33)
            k2 = (k2 * _C1) & _M64
            h2 ^= k2
        for i in range(min(n, 8) - 1, -1, -1):
            b = tail[i]
            if b >= 128:
                b -= 256
            k1 ^= (b << (i * 8)) & _M64
        k1 = (k1 * _C1) & _M64
        k1 = _rotl(k1, 31)
        k1 = (k1 * _C2) & _M64
        h1 ^= k1

    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & _M64
    h2 = (h2 + h1) & _M64
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 = (h1 + h2) & _M64
    return h1 - (1 << 64) if h1 >= (1 << 63) else h1


murmur3_h1: Callable[[bytes], int]
try:  # the driver's C implementation of the same function
    from cassandra.cmurmur3 import murmur3 as _c_murmur3

    def _murmur3_h1_c(data: bytes) -> int:
        return _c_murmur3(bytes(data))

    murmur3_h1 = _murmur3_h1_c
    HAVE_C_MURMUR3 = True
except ImportError:  # pragma: no cover - depends on the environment
    murmur3_h1 = murmur3_h1_py
    HAVE_C_MURMUR3 = False


def _normalize(h: int) -> int:
    return MAX_TOKEN if h == MIN_TOKEN else h


def murmur3_token(key: bytes) -> int:
    """Cassandra's Murmur3Partitioner token of a serialized partition key."""
    if not key:
        return MIN_TOKEN
    return _normalize(murmur3_h1(key))


def murmur3_token_py(key: bytes) -> int:
    """Same as murmur3_token, always using the pure-Python hash."""
    if not key:
        return MIN_TOKEN
    return _normalize(murmur3_h1_py(key))


def partition_key_bytes(components: list[bytes]) -> bytes:
    """The partition key of a row: a single component as is, several as CompositeType."""
    if len(components) == 1:
        return bytes(components[0])
    out = bytearray()
    for c in components:
        if len(c) > 0xFFFF:
            raise ValueError(f"Partition key component too long ({len(c)} bytes)")
        out += _U16.pack(len(c))
        out += c
        out += b"\x00"
    return bytes(out)


def split_partition_key(data: bytes, n: int) -> list[bytes]:
    """Inverse of partition_key_bytes for a key made of `n` components."""
    if n == 1:
        return [bytes(data)]
    out: list[bytes] = []
    pos = 0
    for _ in range(n):
        if pos + 2 > len(data):
            raise ValueError("Not enough bytes to read a composite key component")
        size = _U16.unpack_from(data, pos)[0]
        pos += 2
        if pos + size + 1 > len(data):
            raise ValueError("Not enough bytes to read a composite key component")
        out.append(bytes(data[pos : pos + size]))
        pos += size + 1  # end-of-component byte
    if pos != len(data):
        raise ValueError("Invalid remaining data after end of composite key")
    return out
