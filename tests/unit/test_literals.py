"""Tests for server.literals: AST terms → python values, with Cassandra's error texts."""

from __future__ import annotations

import decimal
import ipaddress
import math
import uuid
from typing import Any

import pytest

from cql_grammar import ast
from server.literals import LiteralError, is_assignable, literal_to_value, term_text
from storage import cqltypes as ct
from storage.cqltypes import Duration


def S(v: str) -> ast.Literal:
    return ast.Literal("string", v)


def I(v: int) -> ast.Literal:  # noqa: E743
    return ast.Literal("int", v)


def F(v: float) -> ast.Literal:
    return ast.Literal("float", v)


NULL = ast.Literal("null", None)
ADDR = ct.UserType("ks", "addr", ["street", "zip"], [ct.TEXT, ct.INT], frozen=True)


def conv(term: Any, t: ct.CqlType, name: str = "c") -> Any:
    return literal_to_value(term, t, name, udt_lookup=lambda ks, n: ADDR if n == "addr" else None, keyspace="ks")


def err(term: Any, t: ct.CqlType, name: str = "c") -> str:
    with pytest.raises(LiteralError) as ei:
        conv(term, t, name)
    assert isinstance(ei.value, ValueError)
    return str(ei.value)


def test_constants() -> None:
    assert conv(I(5), ct.INT) == 5
    assert conv(I(5), ct.BIGINT) == 5
    assert conv(I(5), ct.VARINT) == 5
    assert conv(I(5), ct.DOUBLE) == 5.0
    assert conv(I(5), ct.DECIMAL) == decimal.Decimal(5)
    assert conv(F(1.5), ct.DECIMAL) == decimal.Decimal("1.5")
    assert conv(F(0.1), ct.FLOAT) == pytest.approx(0.1)
    assert math.isnan(conv(F(math.nan), ct.DOUBLE))
    assert conv(F(-math.inf), ct.FLOAT) == -math.inf
    assert conv(ast.Negate(I(3)), ct.SMALLINT) == -3
    assert conv(ast.Negate(F(2.5)), ct.DOUBLE) == -2.5
    assert conv(S("héllo"), ct.TEXT) == "héllo"
    assert conv(S("abc"), ct.ASCII) == "abc"
    assert conv(ast.Literal("bool", True), ct.BOOLEAN) is True
    assert conv(ast.Literal("hex", b"\x01\x02"), ct.BLOB) == b"\x01\x02"
    u1 = uuid.UUID("8a1d1a5e-0a6b-11ef-9262-0242ac120002")
    assert conv(ast.Literal("uuid", u1), ct.TIMEUUID) == u1
    assert conv(ast.Literal("uuid", u1), ct.UUID) == u1
    assert conv(S("127.0.0.1"), ct.INET) == ipaddress.ip_address("127.0.0.1")
    assert conv(S("::1"), ct.INET) == ipaddress.ip_address("::1")
    assert conv(ast.Literal("duration", "1h30m"), ct.DURATION) == Duration(0, 0, 5400 * 10**9)
    assert conv(ast.Literal("duration", "P1D"), ct.DURATION) == Duration(0, 1, 0)
    assert conv(NULL, ct.INT) is None
    assert conv(I(7), ct.COUNTER) == 7


def test_dates_and_times() -> None:
    assert conv(S("2011-02-03"), ct.TIMESTAMP) == 1296691200000
    assert conv(S("2011-02-03 04:05"), ct.TIMESTAMP) == 1296705900000
    assert conv(S("2011-02-03 04:05:00"), ct.TIMESTAMP) == 1296705900000
    assert conv(S("2011-02-03T04:05:00.000+0000"), ct.TIMESTAMP) == 1296705900000
    assert conv(I(1296705900000), ct.TIMESTAMP) == 1296705900000
    assert conv(S("2011-02-03"), ct.DATE) == 15008
    assert conv(I(2**31 + 1), ct.DATE) == 1
    assert conv(S("08:12:54.123456789"), ct.TIME) == 29574123456789
    assert conv(I(1000), ct.TIME) == 1000
    assert abs(conv(S("now"), ct.TIMESTAMP) - __import__("time").time() * 1000) < 60_000


@pytest.mark.parametrize(
    "term,t,message",
    [
        (S("foo"), ct.INT, 'Invalid STRING constant (foo) for "c" of type int'),
        (I(1), ct.TEXT, 'Invalid INTEGER constant (1) for "c" of type text'),
        (F(1.5), ct.INT, 'Invalid FLOAT constant (1.5) for "c" of type int'),
        (S("abc"), ct.BLOB, 'Invalid STRING constant (abc) for "c" of type blob'),
        (ast.Literal("hex", b"\xab"), ct.TEXT, 'Invalid HEX constant (0xab) for "c" of type text'),
        (ast.Literal("bool", True), ct.INT, 'Invalid BOOLEAN constant (true) for "c" of type int'),
        (
            ast.Literal("uuid", uuid.UUID(int=5)),
            ct.TEXT,
            'Invalid UUID constant (00000000-0000-0000-0000-000000000005) for "c" of type text',
        ),
        (ast.Literal("duration", "1h"), ct.INT, 'Invalid DURATION constant (1h) for "c" of type int'),
        (S("x"), ct.ListType(ct.INT), 'Invalid STRING constant (x) for "c" of type list<int>'),
        (I(2**31), ct.INT, "Unable to make int from '2147483648'"),
        (I(2**63), ct.BIGINT, "Unable to make long from '9223372036854775808'"),
        (I(40000), ct.SMALLINT, "Unable to make short from '40000'"),
        (I(200), ct.TINYINT, "Unable to make byte from '200'"),
        (S("bad date"), ct.TIMESTAMP, "Unable to parse a date/time from 'bad date'"),
        (S("2011-02-30"), ct.DATE, "Unable to coerce '2011-02-30' to a formatted date (long)"),
        (I(-1), ct.DATE, "Unable to make unsigned int (for date) from: '-1'"),
        (S("25:00:00"), ct.TIME, "(TimeType) Unable to coerce '25:00:00' to a formatted time (long)"),
        (S("not-an-ip"), ct.INET, "Unable to make inet address from 'not-an-ip'"),
        (ast.Literal("uuid", uuid.UUID(int=5)), ct.TIMEUUID, "TimeUUID supports only version 1 UUIDs"),
        (
            S("é"),
            ct.ASCII,
            "Invalid ASCII character in string literal: "
            "java.nio.charset.UnmappableCharacterException: Input length = 1",
        ),
        (NULL, ct.COUNTER, "Invalid null value for counter increment/decrement"),
        (F(math.nan), ct.DECIMAL, "unable to make BigDecimal from 'NaN'"),
    ],
)
def test_constant_errors(term: Any, t: ct.CqlType, message: str) -> None:
    assert err(term, t) == message


def test_collections() -> None:
    lst = ct.ListType(ct.INT)
    assert conv(ast.CollectionLiteral("list", (I(3), I(1), I(3))), lst) == [3, 1, 3]
    st = ct.SetType(ct.TEXT)
    assert conv(ast.CollectionLiteral("set", (S("b"), S("a"), S("b"))), st) == ["a", "b"]
    assert conv(ast.CollectionLiteral("map", ()), st) == []
    mp = ct.MapType(ct.TEXT, ct.INT)
    assert conv(ast.CollectionLiteral("map", ((S("b"), I(1)), (S("a"), I(2)))), mp) == {"a": 2, "b": 1}
    assert list(conv(ast.CollectionLiteral("map", ((S("b"), I(1)), (S("a"), I(2)))), mp)) == ["a", "b"]
    assert conv(ast.CollectionLiteral("map", ()), mp) == {}
    nested = ct.MapType(ct.INT, ct.ListType(ct.TEXT, True))
    value = conv(ast.CollectionLiteral("map", ((I(1), ast.CollectionLiteral("list", (S("x"),))),)), nested)
    assert value == {1: ["x"]}
    fk = ct.SetType(ct.ListType(ct.INT, True))
    v = conv(
        ast.CollectionLiteral("set", (ast.CollectionLiteral("list", (I(2),)), ast.CollectionLiteral("list", (I(1),)))),
        fk,
    )
    assert v == [[1], [2]]


def test_collection_errors() -> None:
    mp = ct.MapType(ct.TEXT, ct.INT)
    assert err(ast.CollectionLiteral("list", (I(1),)), mp, "m") == "Invalid list literal for m of type map<text, int>"
    assert err(ast.CollectionLiteral("set", (I(1),)), mp, "m") == "Invalid set literal for m of type map<text, int>"
    assert (
        err(ast.CollectionLiteral("map", ((S("a"), I(1)),)), ct.ListType(ct.INT), "l")
        == "Invalid map literal for l of type list<int>"
    )
    assert (
        err(ast.CollectionLiteral("list", (S("x"),)), ct.ListType(ct.INT), "l")
        == "Invalid list literal for l: value 'x' is not of type int"
    )
    assert (
        err(ast.CollectionLiteral("set", (I(1),)), ct.SetType(ct.TEXT), "s")
        == "Invalid set literal for s: value 1 is not of type text"
    )
    assert (
        err(ast.CollectionLiteral("map", ((I(1), I(1)),)), mp, "m")
        == "Invalid map literal for m: key 1 is not of type text"
    )
    assert (
        err(ast.CollectionLiteral("map", ((S("a"), S("b")),)), mp, "m")
        == "Invalid map literal for m: value 'b' is not of type int"
    )
    assert err(ast.CollectionLiteral("list", (I(1), NULL)), ct.ListType(ct.INT), "l") == (
        "null is not supported inside collections"
    )
    assert err(ast.CollectionLiteral("list", (I(2**40),)), ct.ListType(ct.INT), "l") == (
        "Unable to make int from '1099511627776'"
    )


def test_tuples_and_udts() -> None:
    tt = ct.TupleType([ct.INT, ct.TEXT, ct.BOOLEAN])
    assert conv(ast.TupleLiteral((I(1), S("a"))), tt) == (1, "a", None)
    assert conv(ast.TupleLiteral((I(1), NULL, ast.Literal("bool", False))), tt) == (1, None, False)
    assert err(ast.TupleLiteral((I(1), I(2))), tt, "t") == (
        "Invalid tuple literal for t: component 1 is not of type text"
    )
    assert err(ast.TupleLiteral((I(1), S("a"), NULL, NULL)), tt, "t") == (
        "Invalid tuple literal for t: too many elements. Type frozen<tuple<int, text, boolean>> expects 3 but got 4"
    )
    assert err(ast.TupleLiteral((I(1),)), ct.INT, "t") == "Invalid tuple type literal for t of type int"
    assert conv(ast.UdtLiteral((("zip", I(5)),)), ADDR) == (None, 5)
    assert conv(ast.UdtLiteral((("street", S("x")), ("zip", NULL))), ADDR) == ("x", None)
    assert (
        err(ast.UdtLiteral((("nope", I(5)),)), ADDR, "u") == "Unknown field 'nope' in value of user defined type addr"
    )
    assert err(ast.UdtLiteral((("zip", S("x")),)), ADDR, "u") == (
        "Invalid user type literal for u: field zip is not of type int"
    )
    assert err(ast.UdtLiteral((("zip", I(1)),)), ct.INT, "u") == "Invalid user type literal for u of type int"
    lu = ct.ListType(ADDR)
    assert conv(ast.CollectionLiteral("list", (ast.UdtLiteral((("street", S("s")),)),)), lu) == [("s", None)]


def test_type_hints() -> None:
    assert conv(ast.TypeHint(ast.TypeRef("int"), I(5)), ct.INT) == 5
    assert conv(ast.TypeHint(ast.TypeRef("int"), I(5)), ct.VARINT) == 5
    assert conv(ast.TypeHint(ast.TypeRef("text"), S("a")), ct.TEXT) == "a"
    assert err(ast.TypeHint(ast.TypeRef("int"), S("a")), ct.INT, "k") == "Cannot cast value 'a' to type int"
    assert err(ast.TypeHint(ast.TypeRef("text"), S("a")), ct.INT, "k") == (
        "Cannot assign value (text)'a' to k of type int"
    )
    ft = ct.ListType(ct.INT, True)
    hint = ast.TypeHint(
        ast.TypeRef("frozen", (ast.TypeRef("list", (ast.TypeRef("int"),)),)), ast.CollectionLiteral("list", (I(1),))
    )
    assert conv(hint, ft) == [1]


def test_bind_markers_need_resolver() -> None:
    with pytest.raises(LiteralError):
        conv(ast.BindMarker(0), ct.INT)
    got = literal_to_value(
        ast.CollectionLiteral("list", (ast.BindMarker(0),)),
        ct.ListType(ct.INT),
        "l",
        resolve=lambda term, t, name: 42,
    )
    assert got == [42]


def test_term_text_and_assignable() -> None:
    term = ast.CollectionLiteral("map", ((S("a"), ast.CollectionLiteral("list", (I(1), F(2.5)))),))
    assert term_text(term) == "{'a': [1, 2.5]}"
    assert term_text(ast.TupleLiteral((I(1), NULL))) == "(1, NULL)"
    assert is_assignable(I(1), ct.TIMESTAMP)
    assert not is_assignable(S("a"), ct.INT)
    assert is_assignable(ast.CollectionLiteral("map", ()), ct.SetType(ct.INT))
    assert not is_assignable(ast.CollectionLiteral("list", ()), ct.SetType(ct.INT))
