"""Every CQL type written and read back through the real driver: literals, bound values, nulls, nesting."""

from __future__ import annotations

import datetime
import ipaddress
import uuid
from decimal import Decimal

import pytest
from cassandra import InvalidRequest
from cassandra.util import Date, Duration, OrderedMapSerializedKey, SortedSet, Time

VALUES = {
    "a_ascii": "plain ascii",
    "a_bigint": -(2**63),
    "a_blob": b"\x00\x01\xff",
    "a_boolean": True,
    "a_date": Date(datetime.date(1969, 7, 20)),
    "a_decimal": Decimal("-12345.678900"),
    "a_double": 1.5e300,
    "a_duration": Duration(1, 2, 3_000_000_000),
    "a_float": 0.5,
    "a_inet": "2001:db8::1",
    "a_int": -(2**31),
    "a_smallint": -32768,
    "a_text": "zß水🍌",
    "a_time": Time(datetime.time(23, 59, 59, 999999)),
    "a_timestamp": datetime.datetime(2024, 2, 29, 12, 30, 45, 123000),
    "a_timeuuid": uuid.UUID("a4a70900-24e1-11df-8924-001ff3591711"),
    "a_tinyint": -128,
    "a_uuid": uuid.UUID("5f7e2f7a-3f2e-4c1c-9b42-1f8d2f0f9a10"),
    "a_varchar": "",
    "a_varint": 2**100,
    "a_list": [3, 1, 3],
    "a_set": {"b", "a"},
    "a_map": {"x": 1, "y": 2},
    "a_tuple": (1, "two", None),
    "a_frozen": [{"k": [1, 2]}, {}],
    "a_nested": {1: {(1, "a")}},
    "a_udt": None,
}

TYPES = {
    "a_ascii": "ascii",
    "a_bigint": "bigint",
    "a_blob": "blob",
    "a_boolean": "boolean",
    "a_date": "date",
    "a_decimal": "decimal",
    "a_double": "double",
    "a_duration": "duration",
    "a_float": "float",
    "a_inet": "inet",
    "a_int": "int",
    "a_smallint": "smallint",
    "a_text": "text",
    "a_time": "time",
    "a_timestamp": "timestamp",
    "a_timeuuid": "timeuuid",
    "a_tinyint": "tinyint",
    "a_uuid": "uuid",
    "a_varchar": "varchar",
    "a_varint": "varint",
    "a_list": "list<int>",
    "a_set": "set<text>",
    "a_map": "map<text, int>",
    "a_tuple": "tuple<int, text, boolean>",
    "a_frozen": "frozen<list<map<text, frozen<list<int>>>>>",
    "a_nested": "map<int, frozen<set<frozen<tuple<int, text>>>>>",
    "a_udt": "frozen<address>",
}


def _norm(v):
    if isinstance(v, (SortedSet, set)):
        return {_norm(x) for x in v}
    if isinstance(v, (OrderedMapSerializedKey, dict)):
        return {_norm(k): _norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_norm(x) for x in v) if not isinstance(v, tuple) else tuple(_norm(x) for x in v)
    if isinstance(v, frozenset):
        return {_norm(x) for x in v}
    return v


@pytest.fixture
def all_types(session, keyspace):
    session.execute("CREATE TYPE address (street text, zip int, tags frozen<set<text>>)")
    cols = ", ".join(f"{n} {t}" for n, t in TYPES.items())
    session.execute(f"CREATE TABLE t (k int PRIMARY KEY, {cols})")
    return session


def test_every_type_round_trips_bound(cluster, all_types, keyspace):
    session = all_types

    class Address:
        def __init__(self, street=None, zip=None, tags=None):
            self.street, self.zip, self.tags = street, zip, tags

    cluster.register_user_type(keyspace, "address", Address)
    values = dict(VALUES, a_udt=Address("Main", 12345, {"a"}))
    names = list(TYPES)
    ins = session.prepare(f"INSERT INTO t (k, {', '.join(names)}) VALUES (1, {', '.join('?' for _ in names)})")
    session.execute(ins, [values[n] for n in names])
    row = session.execute("SELECT * FROM t WHERE k = 1").one()
    for n in names:
        got = getattr(row, n)
        if n == "a_udt":
            assert (got.street, got.zip, set(got.tags)) == ("Main", 12345, {"a"})
        elif n == "a_inet":
            assert ipaddress.ip_address(got) == ipaddress.ip_address(values[n])
        else:
            assert _norm(got) == _norm(values[n]), n


def test_nulls_round_trip(all_types):
    session = all_types
    names = list(TYPES)
    ins = session.prepare(f"INSERT INTO t (k, {', '.join(names)}) VALUES (2, {', '.join('?' for _ in names)})")
    session.execute(ins, [None] * len(names))
    row = session.execute("SELECT * FROM t WHERE k = 2").one()
    assert all(getattr(row, n) in (None, [], {}, set()) for n in names)


def test_literals_round_trip(all_types):
    session = all_types
    session.execute(
        "INSERT INTO t (k, a_int, a_text, a_blob, a_uuid, a_timestamp, a_date, a_time, a_duration, a_list, a_map, "
        "a_set, a_tuple, a_udt, a_double, a_inet) VALUES (3, -5, 'it''s', 0xcafe, 5f7e2f7a-3f2e-4c1c-9b42-1f8d2f0f9a10, "
        "'2011-02-03 04:05:06+0000', '2011-02-03', '08:12:54.123', 1h30m, [1, 2], {'a': 1}, {'z', 'y'}, (1, 'x', true), "
        "{street: 'Elm', zip: 1}, NaN, '10.0.0.1')"
    )
    row = session.execute("SELECT * FROM t WHERE k = 3").one()
    assert row.a_int == -5 and row.a_text == "it's" and row.a_blob == b"\xca\xfe"
    assert row.a_timestamp == datetime.datetime(2011, 2, 3, 4, 5, 6)
    assert row.a_date == Date(datetime.date(2011, 2, 3))
    assert row.a_time == Time(datetime.time(8, 12, 54, 123000))
    assert row.a_duration == Duration(0, 0, 5400 * 10**9)
    assert row.a_list == [1, 2] and dict(row.a_map) == {"a": 1} and set(row.a_set) == {"y", "z"}
    assert row.a_tuple == (1, "x", True)
    assert row.a_udt.street == "Elm" and row.a_udt.zip == 1 and row.a_udt.tags is None
    assert row.a_double != row.a_double  # NaN
    assert row.a_inet == "10.0.0.1"


def test_wrong_size_value_is_invalid_request_naming_the_column(session, keyspace):
    session.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    from cassandra.query import BoundStatement

    p = session.prepare("INSERT INTO t (k, v) VALUES (?, ?)")
    b = BoundStatement(p)
    b.values = [b"\x00\x00\x00\x01", b"\x00\x01\x02"]
    with pytest.raises(InvalidRequest, match=r"v.*Expected 4 or 0 byte int \(3\)"):
        session.execute(b)
    with pytest.raises(InvalidRequest, match="Invalid STRING constant"):
        session.execute("INSERT INTO t (k, v) VALUES (1, 'nope')")


def test_json_insert_and_select(session, keyspace):
    s = session
    s.execute('CREATE TABLE j (k int, c int, v text, m map<text, int>, "Cap" int, PRIMARY KEY (k, c))')
    s.execute("""INSERT INTO j JSON '{"k": 1, "c": 2, "v": "x", "m": {"a": 1}, "\\"Cap\\"": 7}'""")
    assert (
        s.execute('SELECT JSON k, c, v, m, "Cap" FROM j').one()[0]
        == '{"k": 1, "c": 2, "v": "x", "m": {"a": 1}, "\\"Cap\\"": 7}'
    )
    s.execute("""INSERT INTO j JSON '{"k": 1, "c": 2}' DEFAULT UNSET""")
    assert s.execute("SELECT v FROM j WHERE k = 1").one().v == "x"
    s.execute("""INSERT INTO j JSON '{"k": 1, "c": 2}'""")
    assert s.execute("SELECT v FROM j WHERE k = 1").one().v is None
    p = s.prepare("INSERT INTO j JSON ?")
    s.execute(p, ['{"k": 2, "c": 3, "v": "p"}'])
    assert s.execute("SELECT toJson(v) FROM j WHERE k = 2").one()[0] == '"p"'
    with pytest.raises(InvalidRequest, match="Could not decode JSON string as a map"):
        s.execute("INSERT INTO j JSON '{\"k\": 1, '")
    with pytest.raises(InvalidRequest, match="unrecognized column: nope"):
        s.execute("""INSERT INTO j JSON '{"k": 1, "c": 1, "nope": 1}'""")
