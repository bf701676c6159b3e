"""Tests for storage.cqltypes: codecs, ordering, byte-comparable keys, type names and parsing."""

from __future__ import annotations

import decimal
import functools
import ipaddress
import json
import math
import random
import struct
import uuid
from typing import Any

import pytest
from cassandra import cqltypes as dct
from cassandra import util as dutil

from storage import cqltypes as ct
from storage.cqltypes import Duration, MarshalError

M = "org.apache.cassandra.db.marshal."
SEED = 20240601
N = 150

# ---------------------------------------------------------------- random values


def _rand_text(r: random.Random, ascii_only: bool = False) -> str:
    alphabet = "ab\x00zA" if ascii_only else "ab\x00zé€😀\u07ff\uffff"
    return "".join(r.choice(alphabet) for _ in range(r.randrange(0, 6)))


def _rand_uuid1(r: random.Random) -> uuid.UUID:
    b = bytearray(r.getrandbits(128).to_bytes(16, "big"))
    b[6] = (b[6] & 0x0F) | 0x10
    b[8] = (b[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(b))


def _rand_uuid(r: random.Random) -> uuid.UUID:
    b = bytearray(r.getrandbits(128).to_bytes(16, "big"))
    b[6] = (b[6] & 0x0F) | (r.choice([1, 2, 3, 4, 5]) << 4)
    return uuid.UUID(bytes=bytes(b))


def _rand_float(r: random.Random, single: bool) -> float:
    c = r.random()
    if c < 0.05:
        return math.nan
    if c < 0.1:
        return r.choice([math.inf, -math.inf, 0.0, -0.0])
    v = r.choice([-1, 1]) * r.random() * 10 ** r.randrange(-5, 6)
    if r.random() < 0.3:
        v = float(r.randrange(-5, 5))
    if single:
        v = struct.unpack(">f", struct.pack(">f", v))[0]
    return v


def _rand_duration(r: random.Random) -> Duration:
    sign = r.choice([1, -1])
    return Duration(
        sign * r.randrange(0, 2**31 if r.random() < 0.2 else 30),
        sign * r.randrange(0, 2**31 if r.random() < 0.2 else 40),
        sign * r.randrange(0, 2**63 if r.random() < 0.2 else 10**12),
    )


GEN = {
    "ascii": lambda r: _rand_text(r, True),
    "text": _rand_text,
    "bigint": lambda r: r.choice([r.randrange(-(2**63), 2**63), r.randrange(-3, 3)]),
    "counter": lambda r: r.randrange(-(2**63), 2**63),
    "int": lambda r: r.choice([r.randrange(-(2**31), 2**31), r.randrange(-3, 3)]),
    "smallint": lambda r: r.randrange(-(2**15), 2**15),
    "tinyint": lambda r: r.randrange(-128, 128),
    "varint": lambda r: r.choice([r.randrange(-(2**200), 2**200), r.randrange(-300, 300), -128, 128, 0]),
    "blob": lambda r: bytes(r.choice([0, 1, 255, 7]) for _ in range(r.randrange(0, 5))),
    "boolean": lambda r: r.random() < 0.5,
    "float": lambda r: _rand_float(r, True),
    "double": lambda r: _rand_float(r, False),
    "decimal": lambda r: decimal.Decimal(r.randrange(-(10**8), 10**8)).scaleb(r.randrange(-12, 12)),
    "uuid": _rand_uuid,
    "timeuuid": _rand_uuid1,
    "inet": lambda r: ipaddress.ip_address(r.getrandbits(32 if r.random() < 0.5 else 128)),
    "timestamp": lambda r: r.randrange(-(2**45), 2**45),
    "date": lambda r: r.randrange(-(2**31), 2**31),
    "time": lambda r: r.randrange(0, 86400 * 10**9),
    "duration": _rand_duration,
}

NATIVE_NAMES = sorted(GEN)

DRIVER_CLASS = {
    "ascii": "AsciiType",
    "text": "UTF8Type",
    "bigint": "LongType",
    "counter": "CounterColumnType",
    "int": "Int32Type",
    "smallint": "ShortType",
    "tinyint": "ByteType",
    "varint": "IntegerType",
    "blob": "BytesType",
    "boolean": "BooleanType",
    "float": "FloatType",
    "double": "DoubleType",
    "decimal": "DecimalType",
    "uuid": "UUIDType",
    "timeuuid": "TimeUUIDType",
    "inet": "InetAddressType",
    "timestamp": "TimestampType",
    "date": "SimpleDateType",
    "time": "TimeType",
    "duration": "DurationType",
}


def driver_class_string(t: ct.CqlType) -> str:
    if isinstance(t, ct.TupleType):  # UDTs too: same wire layout (the driver's UserType parsing is quirky)
        return f"{M}TupleType(" + ",".join(driver_class_string(x) for x in t.types) + ")"
    if isinstance(t, ct.MapType):
        inner = f"{M}MapType({driver_class_string(t.key)},{driver_class_string(t.value)})"
    elif isinstance(t, ct.SetType):
        inner = f"{M}SetType({driver_class_string(t.element)})"
    elif isinstance(t, ct.ListType):
        inner = f"{M}ListType({driver_class_string(t.element)})"
    else:
        return M + DRIVER_CLASS[t.cql_name()]
    return f"{M}FrozenType({inner})" if not t.is_multicell else inner


def driver_type(t: ct.CqlType) -> Any:
    return dct.lookup_casstype(driver_class_string(t))


def to_driver(v: Any, t: ct.CqlType) -> Any:
    if v is None:
        return None
    name = t.cql_name()
    if isinstance(t, ct.UserType):
        return tuple(to_driver(x, ft) for x, ft in zip(v, t.types, strict=False))
    if isinstance(t, ct.TupleType):
        return tuple(to_driver(x, et) for x, et in zip(v, t.types, strict=False))
    if isinstance(t, ct.MapType):
        return {to_driver(k, t.key): to_driver(x, t.value) for k, x in v.items()}
    if isinstance(t, ct.ListType):
        return [to_driver(x, t.element) for x in v]
    if name == "duration":
        return dutil.Duration(*v)
    if name == "inet":
        return str(v)
    if name == "date":
        return v + 2**31  # the driver takes ints as the raw (offset) wire value
    return v


def from_driver(v: Any, t: ct.CqlType) -> Any:
    """Normalize a driver-deserialized value to our representation."""
    if v is None:
        return None
    name = t.cql_name()
    if isinstance(t, ct.TupleType):
        return tuple(from_driver(x, et) for x, et in zip(v, t.types, strict=False))
    if isinstance(t, ct.MapType):
        return {ct.to_hashable(from_driver(k, t.key)): from_driver(x, t.value) for k, x in v.items()}
    if isinstance(t, ct.SetType):  # the driver sorts sets in python order, not Cassandra's
        return sorted((from_driver(x, t.element) for x in v), key=t.element.sort_key)
    if isinstance(t, ct.ListType):
        return [from_driver(x, t.element) for x in v]
    if name == "duration":
        return Duration(v.months, v.days, v.nanoseconds)
    if name == "inet":
        return ipaddress.ip_address(v)
    if name == "timestamp":
        # driver gives datetimes
        delta = v - __import__("datetime").datetime(1970, 1, 1)
        return (delta.days * 86400 + delta.seconds) * 1000 + round(delta.microseconds / 1000)
    if name == "date":
        return v.days_from_epoch
    if name == "time":
        return v.nanosecond_time
    return v


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b if not isinstance(a, decimal.Decimal) else a.as_tuple() == b.as_tuple()


def native(name: str) -> ct.NativeType:
    t = ct.lookup_native(name)
    assert t is not None
    return t


# ---------------------------------------------------------------- registry / names


def test_registry_and_aliases() -> None:
    assert ct.lookup_native("varchar") is ct.TEXT
    assert ct.lookup_native("TEXT") is ct.TEXT
    assert ct.lookup_native("nope") is None
    assert set(ct.native_types()) == set(NATIVE_NAMES)
    for name in NATIVE_NAMES:
        assert native(name).cql_name() == name


@pytest.mark.parametrize(
    "text,expected",
    [
        ("int", "int"),
        ("varchar", "text"),
        ("list<int>", "list<int>"),
        ("frozen<list<int>>", "frozen<list<int>>"),
        ("map<varchar, int>", "map<text, int>"),
        ("frozen<map<text, frozen<list<int>>>>", "frozen<map<text, frozen<list<int>>>>"),
        ("frozen<list<list<int>>>", "frozen<list<frozen<list<int>>>>"),
        ("tuple<int, text>", "frozen<tuple<int, text>>"),
        ("frozen<tuple<int, list<int>>>", "frozen<tuple<int, frozen<list<int>>>>"),
        ("list<frozen<tuple<int, text>>>", "list<frozen<tuple<int, text>>>"),
        ("set<frozen<set<bigint>>>", "set<frozen<set<bigint>>>"),
        ("'org.apache.cassandra.db.marshal.DurationType'", "duration"),
        ("'org.apache.cassandra.db.marshal.LexicalUUIDType'", "'org.apache.cassandra.db.marshal.LexicalUUIDType'"),
    ],
)
def test_parse_type_string_names(text: str, expected: str) -> None:
    assert ct.parse_type_string(text, None, "ks").cql_name() == expected


def _udts() -> dict[tuple[str, str], ct.UserType]:
    addr = ct.UserType("ks", "addr", ["street", "zip"], [ct.TEXT, ct.INT], frozen=False)
    my = ct.UserType("ks", "MyType", ["a"], [ct.INT], frozen=False)
    return {("ks", "addr"): addr, ("ks", "MyType"): my}


def _lookup(ks: str, name: str) -> ct.UserType | None:
    return _udts().get((ks, name))


def test_parse_udts() -> None:
    t = ct.parse_type_string("frozen<addr>", _lookup, "ks")
    assert isinstance(t, ct.UserType) and not t.is_multicell
    assert t.cql_name() == "frozen<addr>"
    assert ct.parse_type_string("addr", _lookup, "ks").cql_name() == "addr"
    assert ct.parse_type_string("addr", _lookup, "ks").is_multicell
    q = ct.parse_type_string('frozen<"MyType">', _lookup, "ks")
    assert q.cql_name() == 'frozen<"MyType">'
    assert ct.parse_type_string('list<frozen<"MyType">>', _lookup, "ks").cql_name() == 'list<frozen<"MyType">>'
    assert ct.parse_type_string("map<text, frozen<ks.addr>>", _lookup, "ks").cql_name() == "map<text, frozen<addr>>"
    with pytest.raises(ValueError, match=r"^Unknown type ks\.foo$"):
        ct.parse_type_string("foo", _lookup, "ks")
    with pytest.raises(ValueError, match=r"^Unknown type ks\.foo$"):
        ct.parse_type_string("list<frozen<foo>>", _lookup, "ks")


class Ref:
    def __init__(self, name: str, *args: Ref, keyspace: str | None = None, custom: str | None = None) -> None:
        self.name, self.args, self.keyspace, self.custom = name, args, keyspace, custom


@pytest.mark.parametrize(
    "ref,message",
    [
        (
            Ref("list", Ref("list", Ref("int"))),
            "Non-frozen collections are not allowed inside collections: list<list<int>>",
        ),
        (
            Ref("map", Ref("text"), Ref("set", Ref("int"))),
            "Non-frozen collections are not allowed inside collections: map<text, set<int>>",
        ),
        (Ref("list", Ref("addr")), "Non-frozen UDTs are not allowed inside collections: list<addr>"),
        (Ref("list", Ref("counter")), "Counters are not allowed inside collections: list<counter>"),
        (
            Ref("frozen", Ref("int")),
            "frozen<> is only allowed on collections, tuples, and user-defined types (got int)",
        ),
        (Ref("set", Ref("duration")), "Durations are not allowed inside sets: set<duration>"),
        (Ref("map", Ref("duration"), Ref("int")), "Durations are not allowed as map keys: map<duration, int>"),
        (Ref("tuple", Ref("int"), Ref("counter")), "Counters are not allowed inside tuples"),
        (Ref("nope"), "Unknown type ks.nope"),
    ],
)
def test_type_from_ref_errors(ref: Ref, message: str) -> None:
    with pytest.raises(ValueError) as ei:
        ct.type_from_ref(ref, _lookup, "ks")
    assert str(ei.value) == message


def test_type_from_ref_ok() -> None:
    t = ct.type_from_ref(Ref("frozen", Ref("list", Ref("list", Ref("int")))), _lookup, "ks")
    assert t.cql_name() == "frozen<list<frozen<list<int>>>>"
    t = ct.type_from_ref(Ref("list", Ref("frozen", Ref("addr"))), _lookup, "ks")
    assert t.cql_name() == "list<frozen<addr>>" and t.is_multicell and t.is_collection
    assert isinstance(t, ct.ListType) and isinstance(t.element, ct.UserType)
    assert t.element.field_names == ("street", "zip")
    t = ct.type_from_ref(Ref("tuple", Ref("int"), Ref("list", Ref("int"))), _lookup, "ks")
    assert t.cql_name() == "frozen<tuple<int, frozen<list<int>>>>"
    assert ct.type_from_ref(Ref("custom", custom=ct.DURATION_CLASS), _lookup, "ks") is ct.DURATION
    assert ct.type_from_ref(Ref("varchar"), _lookup, "ks") is ct.TEXT
    assert ct.type_from_ref(Ref("counter"), _lookup, "ks").is_counter
    m = ct.type_from_ref(Ref("map", Ref("text"), Ref("int")), _lookup, "ks")
    assert m.frozen().cql_name() == "frozen<map<text, int>>" and not m.frozen().is_multicell
    assert m.frozen().unfrozen() == m
    with pytest.raises(ValueError, match="cannot refer to a user type in keyspace other"):
        ct.type_from_ref(Ref("addr", keyspace="other"), _lookup, "ks")


def test_type_equality_and_hash() -> None:
    a = ct.parse_type_string("map<text, frozen<list<int>>>")
    b = ct.MapType(ct.TEXT, ct.ListType(ct.INT, True))
    assert a == b and hash(a) == hash(b)
    assert a != a.frozen()
    assert ct.ListType(ct.INT) != ct.SetType(ct.INT)


# ---------------------------------------------------------------- options


def _u16(n: int) -> bytes:
    return struct.pack(">H", n)


def _s(x: str) -> bytes:
    return _u16(len(x)) + x.encode()


def test_options() -> None:
    ids = {
        "ascii": 1,
        "bigint": 2,
        "blob": 3,
        "boolean": 4,
        "counter": 5,
        "decimal": 6,
        "double": 7,
        "float": 8,
        "int": 9,
        "timestamp": 0xB,
        "uuid": 0xC,
        "text": 0xD,
        "varint": 0xE,
        "timeuuid": 0xF,
        "inet": 0x10,
        "date": 0x11,
        "time": 0x12,
        "smallint": 0x13,
        "tinyint": 0x14,
    }
    for name, i in ids.items():
        assert native(name).option() == _u16(i)
    assert ct.DURATION.option() == _u16(0) + _s(ct.DURATION_CLASS)
    assert ct.parse_type_string("map<text, frozen<list<int>>>").option() == _u16(0x21) + _u16(0xD) + _u16(0x20) + _u16(
        9
    )
    assert ct.parse_type_string("set<int>").option() == _u16(0x22) + _u16(9)
    assert ct.parse_type_string("tuple<int, text>").option() == _u16(0x31) + _u16(2) + _u16(9) + _u16(0xD)
    addr = _udts()[("ks", "addr")]
    assert addr.option() == _u16(0x30) + _s("ks") + _s("addr") + _u16(2) + _s("street") + _u16(0xD) + _s("zip") + _u16(
        9
    )


# ---------------------------------------------------------------- round trips and differential vs the driver


@pytest.mark.parametrize("name", NATIVE_NAMES)
def test_native_roundtrip_and_driver(name: str) -> None:
    r = random.Random(f"{SEED}-{name}")
    t = native(name)
    dt = driver_type(t)
    for _ in range(N):
        v = GEN[name](r)
        data = t.serialize(v)
        t.validate(data)
        back = t.deserialize(data)
        assert same(back, v), (v, back)
        assert dt.serialize(to_driver(v, t), 4) == data, v
        assert same(from_driver(dt.deserialize(data, 4), t), back), v


COMPLEX = [
    "list<int>",
    "frozen<list<text>>",
    "set<int>",
    "set<text>",
    "set<timeuuid>",
    "map<text, int>",
    "map<int, frozen<list<text>>>",
    "frozen<map<bigint, frozen<set<double>>>>",
    "list<frozen<tuple<int, text, blob>>>",
    "tuple<int, text>",
    "tuple<int, frozen<list<int>>, frozen<map<text, decimal>>>",
    "map<frozen<list<int>>, text>",
    "list<duration>",
]


def _rand_value(t: ct.CqlType, r: random.Random, allow_null: bool = False) -> Any:
    if allow_null and r.random() < 0.15:
        return None
    if isinstance(t, ct.TupleType):
        return tuple(_rand_value(x, r, True) for x in t.types)
    if isinstance(t, ct.MapType):
        items = {}
        for _ in range(r.randrange(0, 4)):
            k = _rand_value(t.key, r)
            items[ct.to_hashable(k)] = _rand_value(t.value, r)
        return dict(sorted(items.items(), key=lambda kv: t.key.sort_key(kv[0])))
    if isinstance(t, ct.SetType):
        return t.deserialize(t.serialize([_rand_value(t.element, r) for _ in range(r.randrange(0, 4))]))
    if isinstance(t, ct.ListType):
        return [_rand_value(t.element, r) for _ in range(r.randrange(0, 4))]
    return GEN[t.cql_name()](r)


@pytest.mark.parametrize("text", COMPLEX)
def test_complex_roundtrip_and_driver(text: str) -> None:
    t = ct.parse_type_string(text)
    r = random.Random(f"{SEED}-{text}")
    dt = driver_type(t)
    for _ in range(60):
        v = _rand_value(t, r)
        data = t.serialize(v)
        t.validate(data)
        back = t.deserialize(data)
        assert same(back, v), (v, back)
        dv = dt.deserialize(data, 4)
        assert same(from_driver(dv, t), back), (v, dv)
        if not isinstance(t, ct.MapType) or not t.key.is_collection:
            assert dt.serialize(to_driver(v, t), 4) == data


def test_udt_roundtrip_and_driver() -> None:
    inner = _udts()[("ks", "addr")].frozen()
    t = ct.UserType("ks", "person", ["name", "addrs", "age"], [ct.TEXT, ct.ListType(inner, True), ct.INT])
    v = ("bob", [("main st", 1234), (None, 5)], None)
    data = t.serialize(v)
    assert t.deserialize(data) == v
    dt = driver_type(t)
    dv = dt.deserialize(data, 4)
    assert (dv[0], [tuple(a) for a in dv[1]], dv[2]) == ("bob", [("main st", 1234), (None, 5)], None)
    assert dt.serialize(("bob", [("main st", 1234), (None, 5)], None), 4) == data
    # missing trailing fields are allowed on the wire and read as None
    assert t.deserialize(t.serialize(("x",))) == ("x", None, None)
    assert t.serialize({"name": "x"}) == t.serialize(("x",)) + b"\xff\xff\xff\xff" * 2
    with pytest.raises(MarshalError):
        t.serialize(("a", [], 1, 2))


def test_set_and_map_canonical_order() -> None:
    s = ct.SetType(ct.INT)
    assert s.deserialize(s.serialize([3, -1, 3, 2])) == [-1, 2, 3]
    m = ct.MapType(ct.TEXT, ct.INT)
    out = m.deserialize(m.serialize({"b": 1, "a": 2, "é": 3}))
    assert list(out) == ["a", "b", "é"]
    tu = ct.SetType(ct.TIMEUUID)
    u_old = uuid.UUID("00000000-0000-1000-8000-000000000000")
    u_new = uuid.UUID("ffffffff-0000-1000-8000-000000000000")
    u_newer = uuid.UUID("00000000-0001-1000-8000-000000000000")
    assert tu.deserialize(tu.serialize([u_newer, u_new, u_old])) == [u_old, u_new, u_newer]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("int", b"\x00\x00\x01", "Expected 4 or 0 byte int (3)"),
        ("bigint", b"\x00" * 4, "Expected 8 or 0 byte long (4)"),
        ("counter", b"\x00" * 9, "Expected 8 or 0 byte long (9)"),
        ("smallint", b"\x00", "Expected 2 bytes for a smallint (1)"),
        ("smallint", b"", "Expected 2 bytes for a smallint (0)"),
        ("tinyint", b"\x00\x00", "Expected 1 byte for a tinyint (2)"),
        ("float", b"\x00" * 8, "Expected 4 or 0 byte value for a float (8)"),
        ("double", b"\x00" * 4, "Expected 8 or 0 byte value for a double (4)"),
        ("boolean", b"\x00\x01", "Expected 1 or 0 byte value (2)"),
        ("uuid", b"\x00" * 15, "UUID should be 16 or 0 bytes (15)"),
        ("timeuuid", b"\x00" * 16, "Invalid version for TimeUUID type."),
        ("timestamp", b"\x00" * 3, "Expected 8 or 0 byte long for date (3)"),
        ("date", b"\x00" * 8, "Expected 4 byte long for date (8)"),
        ("time", b"\x00" * 4, "Expected 8 byte long for time (4)"),
        ("text", b"\xff\xfe", "String didn't validate."),
        ("ascii", b"a\xc3\xa9", "Invalid byte for ascii: -61"),
        ("decimal", b"\x00\x00", "Expected 0 or at least 4 bytes (2)"),
        ("inet", b"\x01\x02\x03", "Expected 4 or 16 byte inetaddress; got 010203"),
        ("duration", b"\x00\x00", "Expected at least 3 bytes for a duration (2)"),
        (
            "duration",
            b"\x02\x01\x00",
            "The duration months, days and nanoseconds must be all of the same sign (1, -1, 0)",
        ),
    ],
)
def test_marshal_errors(name: str, data: bytes, message: str) -> None:
    t = native(name)
    with pytest.raises(MarshalError) as e1:
        t.deserialize(data)
    assert str(e1.value) == message
    with pytest.raises(MarshalError) as e2:
        t.validate(data)
    assert str(e2.value) == message
    assert isinstance(e2.value, ValueError)


def test_empty_values() -> None:
    for name in ("int", "bigint", "float", "double", "boolean", "uuid", "timeuuid", "timestamp", "decimal", "varint"):
        t = native(name)
        t.validate(b"")
        assert t.deserialize(b"") is None
        assert t.comparable(b"") < t.comparable(t.serialize(GEN[name](random.Random(1))))
    assert ct.TEXT.deserialize(b"") == "" and ct.BLOB.deserialize(b"") == b""


def test_collection_errors() -> None:
    lt = ct.ListType(ct.INT)
    good = lt.serialize([1, 2])
    with pytest.raises(MarshalError, match="Not enough bytes to read a list"):
        lt.deserialize(good[:-1])
    with pytest.raises(MarshalError, match="Unexpected extraneous bytes after list value"):
        lt.deserialize(good + b"\x00")
    with pytest.raises(MarshalError, match=r"Expected 4 or 0 byte int \(3\)"):
        lt.validate(b"\x00\x00\x00\x01\x00\x00\x00\x03\x00\x00\x01")
    with pytest.raises(MarshalError, match="null is not supported inside collections"):
        lt.serialize([1, None])
    with pytest.raises(MarshalError, match="Not enough bytes to read a map"):
        ct.MapType(ct.INT, ct.INT).validate(b"\x00\x00\x00\x01")
    # A bound collection always carries its element count (Cassandra's CollectionSerializer), and a
    # count the remaining bytes cannot hold is refused before any element is read.
    for coll in (lt, ct.SetType(ct.TEXT), ct.MapType(ct.TEXT, ct.TEXT)):
        for raw in (b"", b"test", struct.pack(">q", 2**63 - 1), struct.pack(">i", -1)):
            with pytest.raises(MarshalError, match=f"Not enough bytes to read a {coll.what}"):
                coll.validate(raw)
        coll.validate(b"\x00\x00\x00\x00")  # empty
    tt = ct.TupleType([ct.INT, ct.TEXT])
    with pytest.raises(MarshalError, match="Invalid remaining data after end of tuple value"):
        tt.validate(tt.serialize((1, "a")) + b"\x00\x00\x00\x00")
    with pytest.raises(MarshalError):
        ct.INT.serialize(2**31)
    with pytest.raises(MarshalError):
        ct.TINYINT.serialize(128)


def test_tuple_nulls() -> None:
    tt = ct.TupleType([ct.INT, ct.TEXT, ct.BOOLEAN])
    assert tt.serialize((1, None, True)) == b"\x00\x00\x00\x04\x00\x00\x00\x01\xff\xff\xff\xff\x00\x00\x00\x01\x01"
    assert tt.deserialize(tt.serialize((1,))) == (1, None, None)
    assert tt.compare((1,), (1, None)) == 0
    assert tt.comparable(tt.serialize((1,))) == tt.comparable(tt.serialize((1, None, None)))
    assert tt.compare((1, None), (1, "")) < 0
    assert tt.compare((1, "a", None), (1,)) > 0


# ---------------------------------------------------------------- ordering


def _java_float_key(v: float) -> tuple:
    if math.isnan(v):
        return (2, 0.0)
    return (1, v, math.copysign(1, v))


def _ref_compare(name: str, a: Any, b: Any) -> int:
    """Independent reference orders (what Cassandra does)."""

    def c(x: Any, y: Any) -> int:
        return (x > y) - (x < y)

    if name in ("text", "ascii"):
        return c(a.encode(), b.encode())
    if name in ("float", "double"):
        return c(_java_float_key(a), _java_float_key(b))
    if name == "uuid":
        va, vb = (a.int >> 76) & 0xF, (b.int >> 76) & 0xF
        if va != vb:
            return c(va, vb)
        if va == 1:
            return c((a.time, a.bytes[8:]), (b.time, b.bytes[8:]))
        return c(a.bytes, b.bytes)
    if name == "timeuuid":
        sa = tuple(x - 256 if x > 127 else x for x in a.bytes[8:])
        sb = tuple(x - 256 if x > 127 else x for x in b.bytes[8:])
        return c((a.time, sa), (b.time, sb))
    if name == "inet":
        return c(a.packed, b.packed)
    if name == "duration":
        return c(ct.DURATION.serialize(a), ct.DURATION.serialize(b))
    return c(a, b)


@pytest.mark.parametrize("name", NATIVE_NAMES)
def test_comparable_matches_compare_native(name: str) -> None:
    r = random.Random(f"{SEED}-cmp-{name}")
    t = native(name)
    vals = [GEN[name](r) for _ in range(N)]
    for _ in range(3 * N):
        a, b = r.choice(vals), r.choice(vals)
        expected = _ref_compare(name, a, b)
        assert t.compare(a, b) == expected, (a, b)
        ka, kb = t.comparable(t.serialize(a)), t.comparable(t.serialize(b))
        assert (ka > kb) - (ka < kb) == expected, (a, b)
        da, db = t.comparable_desc(t.serialize(a)), t.comparable_desc(t.serialize(b))
        assert (da > db) - (da < db) == -expected
    _assert_prefix_free(t, vals)


def _assert_prefix_free(t: ct.CqlType, vals: list[Any]) -> None:
    datas = {t.serialize(v) for v in vals}
    if t.empty_ok:
        datas.add(b"")
    for encode in (t.comparable, t.comparable_desc):
        ordered = sorted({encode(d) for d in datas})
        # in a sorted list, a key that is a prefix of another is immediately followed by one it prefixes
        for x, y in zip(ordered, ordered[1:], strict=False):
            assert not y.startswith(x), (x, y)


@pytest.mark.parametrize("text", COMPLEX[:-1])
def test_comparable_matches_compare_complex(text: str) -> None:
    t = ct.parse_type_string(text)
    r = random.Random(f"{SEED}-cmpx-{text}")
    vals = [_rand_value(t, r) for _ in range(80)]

    def ref(a: Any, b: Any) -> int:
        return _ref_compare_typed(t, a, b)

    for _ in range(300):
        a, b = r.choice(vals), r.choice(vals)
        ka, kb = t.comparable(t.serialize(a)), t.comparable(t.serialize(b))
        assert (ka > kb) - (ka < kb) == ref(a, b) == t.compare(a, b), (a, b)
    _assert_prefix_free(t, vals)


def _ref_compare_typed(t: ct.CqlType, a: Any, b: Any) -> int:
    """Element-wise reference comparison for collections/tuples (Cassandra's compareListOrSet/TupleType)."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    if isinstance(t, ct.TupleType):
        la = list(a) + [None] * (len(t.types) - len(a))
        lb = list(b) + [None] * (len(t.types) - len(b))
        for et, x, y in zip(t.types, la, lb, strict=False):
            c = _ref_compare_typed(et, x, y)
            if c:
                return c
        return 0
    if isinstance(t, ct.MapType):
        ia, ib = list(a.items()), list(b.items())
        for (k1, v1), (k2, v2) in zip(ia, ib, strict=False):
            c = _ref_compare_typed(t.key, k1, k2) or _ref_compare_typed(t.value, v1, v2)
            if c:
                return c
        return (len(ia) > len(ib)) - (len(ia) < len(ib))
    if isinstance(t, ct.ListType):
        if isinstance(a, tuple) or isinstance(b, tuple):
            a, b = list(a), list(b)
        for x, y in zip(a, b, strict=False):
            c = _ref_compare_typed(t.element, x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    return _ref_compare(t.cql_name(), a, b)


def test_composite_concatenation_order() -> None:
    """Concatenated comparables of (text ASC, int DESC) sort like the tuple order."""
    r = random.Random(SEED)
    rows = [(_rand_text(r), r.randrange(-5, 5)) for _ in range(200)]

    def key(row: tuple[str, int]) -> bytes:
        return ct.TEXT.comparable(ct.TEXT.serialize(row[0])) + ct.INT.comparable_desc(ct.INT.serialize(row[1]))

    def cmp(x: tuple[str, int], y: tuple[str, int]) -> int:
        return ct.TEXT.compare(x[0], y[0]) or -ct.INT.compare(x[1], y[1])

    assert sorted(rows, key=key) == sorted(rows, key=functools.cmp_to_key(cmp))


def test_decimal_equal_values_same_key() -> None:
    d = ct.DECIMAL
    assert d.comparable(d.serialize(decimal.Decimal("1.0"))) == d.comparable(d.serialize(decimal.Decimal("1.00")))
    assert d.compare(decimal.Decimal("1.0"), decimal.Decimal("1")) == 0
    assert d.compare(decimal.Decimal("-0.5"), decimal.Decimal("0")) < 0


# ---------------------------------------------------------------- duration and vints


def test_duration_vint_boundaries() -> None:
    dt = driver_type(ct.DURATION)
    for n in [0, 1, -1, 63, 64, -64, -65, 2**13, 2**20, 2**31 - 1, -(2**31), 2**62, 2**63 - 1, -(2**63)]:
        sign = 1 if n >= 0 else -1
        small = max(-(2**31), min(2**31 - 1, n))
        v = Duration(small if sign > 0 else -abs(small), small if sign > 0 else -abs(small), n)
        if v.months and (v.months > 0) != (n > 0):
            continue
        data = ct.DURATION.serialize(v)
        assert ct.DURATION.deserialize(data) == v
        assert dt.serialize(dutil.Duration(*v), 4) == data


# ---------------------------------------------------------------- literal text / JSON


def test_value_to_cql_literal() -> None:
    lit = ct.value_to_cql_literal
    assert lit("it's", ct.TEXT) == "'it''s'"
    assert lit(b"\x01\xab", ct.BLOB) == "0x01ab"
    assert lit(5, ct.INT) == "5"
    assert lit(1.5, ct.DOUBLE) == "1.5"
    assert lit(math.nan, ct.DOUBLE) == "NaN"
    assert lit(-math.inf, ct.FLOAT) == "-Infinity"
    assert lit(0.1, ct.FLOAT) == "0.1"
    assert lit(uuid.UUID(int=1), ct.UUID) == "00000000-0000-0000-0000-000000000001"
    assert lit(1704067200000, ct.TIMESTAMP) == "'2024-01-01 00:00:00.000000+0000'"
    assert lit(0, ct.DATE) == "'1970-01-01'"
    assert lit(-1, ct.DATE) == "'1969-12-31'"
    assert lit(29574123456789, ct.TIME) == "'08:12:54.123456789'"
    assert lit(Duration(14, 3, 3_600_000_000_001), ct.DURATION) == "1y2mo3d1h1ns"
    assert lit(True, ct.BOOLEAN) == "true"
    assert lit(ipaddress.ip_address("127.0.0.1"), ct.INET) == "'127.0.0.1'"
    assert lit(decimal.Decimal("1.50"), ct.DECIMAL) == "1.50"
    assert lit([1, 2], ct.ListType(ct.INT)) == "[1, 2]"
    assert lit(["a"], ct.SetType(ct.TEXT)) == "{'a'}"
    assert lit({"a": 1}, ct.MapType(ct.TEXT, ct.INT)) == "{'a': 1}"
    assert lit((1, None), ct.TupleType([ct.INT, ct.TEXT])) == "(1, null)"
    addr = _udts()[("ks", "addr")]
    assert lit(("x", 1), addr) == "{street: 'x', zip: 1}"


def test_json_roundtrip() -> None:
    addr = _udts()[("ks", "addr")].frozen()
    cases: list[tuple[ct.CqlType, Any, str]] = [
        (ct.INT, 5, "5"),
        (ct.TEXT, 'a"b', '"a\\"b"'),
        (ct.BLOB, b"\x01", '"0x01"'),
        (ct.BOOLEAN, False, "false"),
        (ct.UUID, uuid.UUID(int=1), '"00000000-0000-0000-0000-000000000001"'),
        (ct.TIMESTAMP, 1296705900000, '"2011-02-03 04:05:00.000Z"'),
        (ct.DATE, 15008, '"2011-02-03"'),
        (ct.TIME, 29574123456789, '"08:12:54.123456789"'),
        (ct.DECIMAL, decimal.Decimal("1.25"), "1.25"),
        (ct.DOUBLE, 2.5, "2.5"),
        (ct.INET, ipaddress.ip_address("::1"), '"::1"'),
        (ct.DURATION, Duration(0, 1, 5), '"1d5ns"'),
        (ct.ListType(ct.INT), [1, 2], "[1, 2]"),
        (ct.SetType(ct.TEXT), ["a", "b"], '["a", "b"]'),
        (ct.MapType(ct.TEXT, ct.INT), {"a": 1}, '{"a": 1}'),
        (ct.MapType(ct.INT, ct.TEXT), {1: "a", 2: "b"}, '{"1": "a", "2": "b"}'),
        (ct.TupleType([ct.INT, ct.TEXT]), (1, None), "[1, null]"),
        (addr, ("s", 1), '{"street": "s", "zip": 1}'),
    ]
    for t, v, text in cases:
        assert ct.value_to_json(v, t) == text, t
        back = ct.json_to_value(json.loads(text, parse_float=decimal.Decimal), t)
        assert back == v, (t, back)
    assert ct.json_to_value("2011-02-03T04:05:00+0100", ct.TIMESTAMP) == 1296705900000 - 3600_000
    assert ct.json_to_value("42", ct.BIGINT) == 42
    with pytest.raises(MarshalError, match="Expected a UTF-8 string"):
        ct.json_to_value(5, ct.TEXT)
    with pytest.raises(MarshalError, match="Unknown field 'nope'"):
        ct.json_to_value({"nope": 1}, addr)


# ---------------------------------------------------------------- text parsing helpers


@pytest.mark.parametrize(
    "text,ms",
    [
        ("2011-02-03", 1296691200000),
        ("2011-02-03 04:05", 1296705900000),
        ("2011-02-03 04:05:00", 1296705900000),
        ("2011-02-03T04:05:00", 1296705900000),
        ("2011-02-03 04:05:00.123", 1296705900123),
        ("2011-02-03T04:05:00.000+0000", 1296705900000),
        ("2011-02-03 04:05:00+0000", 1296705900000),
        ("2011-02-03 04:05:00Z", 1296705900000),
        ("2011-02-03 04:05+02:00", 1296705900000 - 7200_000),
        ("2011-02-03T04:05:00.1-0130", 1296705900100 + 5400_000),
        ("1296705900000", 1296705900000),
        ("-5", -5),
        ("1969-12-31 23:59:59.999", -1),
    ],
)
def test_parse_timestamp(text: str, ms: int) -> None:
    assert ct.parse_timestamp(text) == ms


def test_parse_date_time_duration() -> None:
    assert ct.parse_date("2011-02-03") == 15008
    assert ct.parse_date("1969-12-31") == -1
    assert ct.parse_date(str(2**31)) == 0
    with pytest.raises(MarshalError, match="Unable to coerce '2011-02-30' to a formatted date"):
        ct.parse_date("2011-02-30")
    assert ct.parse_time("08:12:54.123456789") == 29574123456789
    assert ct.parse_time("08:12:54") == 29574 * 10**9
    assert ct.parse_time("08:12:54.1") == 29574 * 10**9 + 100_000_000
    with pytest.raises(MarshalError, match="Unable to coerce '25:00:00' to a formatted time"):
        ct.parse_time("25:00:00")
    assert ct.parse_duration("1h30m") == Duration(0, 0, 90 * 60 * 10**9)
    assert ct.parse_duration("-2d10ms") == Duration(0, -2, -10 * 10**6)
    assert ct.parse_duration("1y2mo3w4d5h6m7s8ms9us10ns") == Duration(
        14, 25, ((5 * 60 + 6) * 60 + 7) * 10**9 + 8 * 10**6 + 9000 + 10
    )
    assert ct.parse_duration("P1Y2M3DT4H5M6S") == Duration(14, 3, (4 * 3600 + 5 * 60 + 6) * 10**9)
    assert ct.parse_duration("P2W") == Duration(0, 14, 0)
    assert ct.parse_duration("P0001-02-03T04:05:06") == Duration(14, 3, (4 * 3600 + 5 * 60 + 6) * 10**9)
    with pytest.raises(MarshalError, match="Unable to convert 'abc' to a duration"):
        ct.parse_duration("abc")
    # Cassandra's Duration.Builder texts (InvalidRequest), and case-sensitive ISO 8601 forms
    with pytest.raises(MarshalError, match="The hours are specified multiple times"):
        ct.parse_duration("1h1h")
    with pytest.raises(MarshalError, match="The minutes should be after hours"):
        ct.parse_duration("1m1h")
    with pytest.raises(MarshalError, match="Unable to convert 'p1d' to a duration"):
        ct.parse_duration("p1d")
    for d in [Duration(14, 3, 3_600_000_000_001), Duration(-1, -2, -3), Duration(0, 0, 0)]:
        assert ct.parse_duration(ct.format_duration(d)) == d


def test_maybe_quote() -> None:
    assert ct.maybe_quote("abc_1") == "abc_1"
    assert ct.maybe_quote("MyType") == '"MyType"'
    assert ct.maybe_quote("select") == '"select"'
    assert ct.maybe_quote('a"b') == '"a""b"'
