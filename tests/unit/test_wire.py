"""Tests for server.wire: primitive encoders and the bounds-checked Reader, checked against the driver's codecs."""

from __future__ import annotations

import io
import socket

import pytest
from cassandra import protocol as dp

from server import wire
from server.wire import UNSET, Reader, Unset, WireError


def test_fixed_width_encoders():
    assert wire.short(0) == b"\x00\x00"
    assert wire.short(0xABCD) == b"\xab\xcd"
    assert wire.short(-1) == b"\xff\xff"
    assert wire.int_(-2) == b"\xff\xff\xff\xfe"
    assert wire.int_(0x01020304) == b"\x01\x02\x03\x04"
    assert wire.long_(-1) == b"\xff" * 8
    assert wire.long_(1 << 40) == b"\x00\x00\x01\x00\x00\x00\x00\x00"


def test_string_encoders_count_utf8_bytes():
    assert wire.string("") == b"\x00\x00"
    assert wire.string("é€") == b"\x00\x05" + "é€".encode()
    assert wire.long_string("abc") == b"\x00\x00\x00\x03abc"
    assert wire.long_string("😀") == b"\x00\x00\x00\x04" + "😀".encode()


def test_bytes_encoders():
    assert wire.bytes_(None) == b"\xff\xff\xff\xff"
    assert wire.bytes_(b"") == b"\x00\x00\x00\x00"
    assert wire.bytes_(b"ab") == b"\x00\x00\x00\x02ab"
    assert wire.short_bytes(b"\x01\x02\x03") == b"\x00\x03\x01\x02\x03"


def test_encoders_match_driver():
    cases = [
        (wire.string, dp.write_string, "naïve"),
        (wire.long_string, dp.write_longstring, "x" * 70000),
        (wire.string_list, dp.write_stringlist, ["a", "", "ü"]),
        (wire.int_, dp.write_int, -123456),
        (wire.long_, dp.write_long, 2**62),
        (wire.short, dp.write_short, 65535),
    ]
    for ours, theirs, value in cases:
        f = io.BytesIO()
        theirs(f, value)
        assert ours(value) == f.getvalue(), ours.__name__


def test_string_multimap_read_by_driver():
    m = {"CQL_VERSION": ["3.4.7"], "COMPRESSION": ["lz4", "snappy"], "EMPTY": []}
    data = wire.string_multimap(m)
    assert dp.read_stringmultimap(io.BytesIO(data)) == m


@pytest.mark.parametrize(
    "addr, port",
    [("127.0.0.1", 9042), ("10.1.2.3", 1), ("::1", 9043), ("2001:db8::7", 65535)],
)
def test_inet_read_by_driver(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    raw = socket.inet_pton(fam, addr)
    data = wire.inet(raw, port)
    assert data[0] == len(raw)
    assert dp.read_inet(io.BytesIO(data)) == (addr, port)


# ---------------------------------------------------------------- Reader


def test_reader_sequence():
    data = (
        b"\x07"
        + wire.short(65535)
        + wire.int_(-5)
        + wire.long_(-(2**63))
        + wire.string("héllo")
        + wire.long_string("long")
        + wire.bytes_(b"\x00\x01")
        + wire.bytes_(None)
        + wire.short_bytes(b"id")
    )
    r = Reader(data)
    assert r.byte() == 7
    assert r.short() == 65535
    assert r.int_() == -5
    assert r.long_() == -(2**63)
    assert r.string() == "héllo"
    assert r.long_string() == "long"
    assert r.bytes_() == b"\x00\x01"
    assert r.bytes_() is None
    assert r.short_bytes() == b"id"
    assert r.remaining() == 0


def test_reader_accepts_memoryview_and_offset():
    data = b"junk" + wire.string("ok")
    r = Reader(memoryview(data), 4)
    assert r.string() == "ok"
    assert r.remaining() == 0


def test_reader_values():
    data = wire.bytes_(b"v") + wire.int_(-1) + wire.int_(-2) + wire.int_(0)
    r = Reader(data)
    assert r.value() == b"v"
    assert r.value() is None
    assert r.value() is UNSET
    assert r.value() == b""
    assert isinstance(UNSET, Unset) and Unset() is UNSET
    assert repr(UNSET) == "UNSET"


@pytest.mark.parametrize("n", [-3, -100, -(2**31)])
def test_reader_value_below_minus_two_is_an_error(n):
    with pytest.raises(WireError):
        Reader(wire.int_(n)).value()


def test_reader_negative_bytes_is_null():
    # [bytes]: any negative length means null.
    assert Reader(wire.int_(-7)).bytes_() is None


def test_reader_negative_long_string():
    with pytest.raises(WireError):
        Reader(wire.int_(-1)).long_string()


def test_reader_maps_and_lists():
    data = (
        wire.short(2)
        + wire.string("CQL_VERSION")
        + wire.string("3.0.0")
        + wire.string("COMPRESSION")
        + wire.string("lz4")
        + wire.string_list(["SCHEMA_CHANGE", "STATUS_CHANGE"])
        + wire.short(2)
        + wire.string("k")
        + wire.bytes_(b"v")
        + wire.string("n")
        + wire.bytes_(None)
    )
    r = Reader(data)
    assert r.string_map() == {"CQL_VERSION": "3.0.0", "COMPRESSION": "lz4"}
    assert r.string_list() == ["SCHEMA_CHANGE", "STATUS_CHANGE"]
    assert r.bytes_map() == {"k": b"v", "n": None}
    assert r.remaining() == 0


def test_reader_reads_driver_maps():
    f = io.BytesIO()
    dp.write_stringmap(f, {"a": "1", "ü": "ß"})
    dp.write_bytesmap(f, {"p": b"\x00\xff"})
    r = Reader(f.getvalue())
    assert r.string_map() == {"a": "1", "ü": "ß"}
    assert r.bytes_map() == {"p": b"\x00\xff"}


@pytest.mark.parametrize(
    "method, data",
    [
        ("byte", b""),
        ("short", b"\x00"),
        ("int_", b"\x00\x00\x00"),
        ("long_", b"\x00" * 7),
        ("string", b"\x00\x05abcd"),
        ("string", b"\x00"),
        ("long_string", b"\x00\x00\x00\x09abc"),
        ("bytes_", b"\x00\x00\x00\x02a"),
        ("bytes_", b"\x7f\xff\xff\xff"),
        ("value", b"\x00\x00\x00\x04abc"),
        ("short_bytes", b"\x00\x02a"),
        ("string_list", b"\x00\x02\x00\x01a"),
        ("string_map", b"\x00\x01\x00\x01k"),
        ("bytes_map", b"\x00\x01\x00\x01k\x00\x00"),
    ],
)
def test_reader_short_input(method, data):
    r = Reader(data)
    with pytest.raises(WireError):
        getattr(r, method)()


def test_reader_refuses_negative_take():
    r = Reader(b"abc", 2)
    with pytest.raises(WireError):
        r._take(-1)
    assert r.pos == 2


def test_reader_bounds_error_does_not_overrun_next_field():
    r = Reader(wire.short(3) + b"ab")
    with pytest.raises(WireError, match="Not enough bytes"):
        r.string()


@pytest.mark.parametrize("raw", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"a\x80b"])
def test_reader_invalid_utf8(raw):
    with pytest.raises(WireError, match="UTF8"):
        Reader(wire.short_bytes(raw)).string()
    with pytest.raises(WireError, match="UTF8"):
        Reader(wire.int_(len(raw)) + raw).long_string()


def test_wire_error_is_value_error():
    assert issubclass(WireError, ValueError)
