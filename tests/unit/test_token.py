"""Tests for storage.token: Murmur3Partitioner tokens and composite partition keys."""

from __future__ import annotations

import random

import pytest

from storage import token
from storage.token import (
    MAX_TOKEN,
    MIN_TOKEN,
    murmur3_h1_py,
    murmur3_token,
    murmur3_token_py,
    partition_key_bytes,
    split_partition_key,
)


def test_c_and_python_agree_on_random_inputs() -> None:
    pytest.importorskip("cassandra.cmurmur3")
    from cassandra.cmurmur3 import murmur3

    r = random.Random(12345)
    for _ in range(2000):
        n = r.choice([r.randrange(0, 40), r.randrange(0, 300)])
        # bias towards high bytes to exercise the sign-extension quirk of the tail
        data = bytes(r.choice([r.randrange(256), r.randrange(128, 256)]) for _ in range(n))
        assert murmur3(data) == murmur3_h1_py(data), data
        assert murmur3_token(data) == murmur3_token_py(data)


def test_tail_lengths() -> None:
    for n in range(0, 40):
        data = bytes((0x80 + i) % 256 for i in range(n))
        assert murmur3_token(data) == murmur3_token_py(data)


def test_token_range_and_empty() -> None:
    assert murmur3_token(b"") == MIN_TOKEN
    r = random.Random(7)
    for _ in range(200):
        t = murmur3_token(r.randbytes(8))
        assert MIN_TOKEN < t <= MAX_TOKEN


def test_driver_token_agrees() -> None:
    metadata = pytest.importorskip("cassandra.metadata")
    for key in (b"hello", b"\x00\x00\x00\x01", b"a" * 17, bytes(range(200, 256))):
        assert metadata.Murmur3Token.from_key(key).value == murmur3_token(key)


def test_min_maps_to_max(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token, "murmur3_h1", lambda data: MIN_TOKEN)
    assert token.murmur3_token(b"x") == MAX_TOKEN


def test_partition_key_bytes() -> None:
    assert partition_key_bytes([b"abc"]) == b"abc"
    composite = partition_key_bytes([b"\x00\x00\x00\x01", b"xy"])
    assert composite == b"\x00\x04\x00\x00\x00\x01\x00" + b"\x00\x02xy\x00"
    assert split_partition_key(composite, 2) == [b"\x00\x00\x00\x01", b"xy"]
    assert split_partition_key(b"abc", 1) == [b"abc"]
    r = random.Random(3)
    for _ in range(100):
        comps = [r.randbytes(r.randrange(0, 10)) for _ in range(r.randrange(2, 5))]
        assert split_partition_key(partition_key_bytes(comps), len(comps)) == comps
    with pytest.raises(ValueError):
        split_partition_key(composite[:-1], 2)
    with pytest.raises(ValueError):
        split_partition_key(composite + b"\x00", 2)
