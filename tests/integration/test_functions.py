"""Native functions in terms and selections, and arithmetic."""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from cassandra import FunctionFailure, InvalidRequest
from cassandra.protocol import SyntaxException
from cassandra.util import Date, datetime_from_uuid1


def test_time_functions_and_arithmetic(session, keyspace):
    s = session
    s.execute("CREATE TABLE f (k int, t timeuuid, d date, ts timestamp, b blob, PRIMARY KEY (k, t))")
    s.execute("INSERT INTO f (k, t, d, ts, b) VALUES (1, now(), toDate(now()), toTimestamp(now()), intAsBlob(3))")
    s.execute("INSERT INTO f (k, t, d, ts) VALUES (1 + 1, currentTimeUUID(), currentDate(), '2020-05-06 07:08:09')")
    today = Date(datetime.datetime.now(datetime.UTC).date())
    row = s.execute("SELECT d, blobAsInt(b), toDate(t), k * 10 + 1 FROM f WHERE k = 1").one()
    assert tuple(row) == (today, 3, today, 11)
    row = s.execute("SELECT toTimestamp(d), toUnixTimestamp(ts), toDate(ts) FROM f WHERE k = 2").one()
    assert row[0] == datetime.datetime.combine(today.date(), datetime.time())
    assert row[1] == 1588748889000 and row[2] == Date(datetime.date(2020, 5, 6))
    inside = "t > maxTimeuuid('2013-01-01 00:05+0000') AND t < minTimeuuid('2099-02-02 10:00+0000')"
    assert len(list(s.execute(f"SELECT k FROM f WHERE k = 1 AND {inside}"))) == 1
    assert list(s.execute("SELECT k FROM f WHERE k = 1 AND t < minTimeuuid('2013-01-01 00:05+0000')")) == []


def test_casts_follow_cassandras_cast_functions(session, keyspace):
    s = session
    s.execute(
        "CREATE TABLE casts (k int PRIMARY KEY, vi varint, dc decimal, fl float, db double, ti timeuuid, ts timestamp,"
        " dt date, c text, b blob)"
    )
    big = 32767456456456456456545678943512357658768763546575675
    s.execute(
        f"INSERT INTO casts (k, vi, dc, fl, db, ti, ts, dt, c, b) VALUES (1, {big}, 7.9, 5.2, 1e16,"
        " 6b1b3620-33fd-11eb-8080-808080808080, '2015-05-21 11:03:02+0000', '2015-05-21', 'x', 0x01)"
    )

    def one(selector):
        return s.execute(f"SELECT {selector} FROM casts WHERE k = 1").one()[0]

    def signed(n, bits):
        n &= (1 << bits) - 1
        return n - (1 << bits) if n >> (bits - 1) else n

    # Narrowing wraps around (Java's byteValue, intValue, ...), even into varint (through a long).
    assert one("CAST(vi AS tinyint)") == signed(big, 8)
    assert one("CAST(vi AS int)") == signed(big, 32)
    assert one("CAST(vi AS varint)") == big  # a cast to its own type is left out
    assert one("CAST(dc AS int)") == 7  # toward zero
    assert one("CAST(db AS varint)") == 10**16
    assert one("CAST(vi AS float)") == float("inf")
    assert one("CAST(fl AS decimal)") == Decimal("5.2")  # the float's own digits, not its double's
    assert one("CAST(db AS text)") == "1.0E16" and one("CAST(fl AS text)") == "5.2"
    # Time: a timeuuid's instant, a timestamp's day, a date's midnight; text in ISO 8601.
    instant = datetime_from_uuid1(uuid.UUID("6b1b3620-33fd-11eb-8080-808080808080"))
    assert one("CAST(ti AS timestamp)") == instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    assert one("CAST(ti AS date)") == Date(datetime.date(2020, 12, 1))
    assert one("CAST(ts AS date)") == Date(datetime.date(2015, 5, 21))
    assert one("CAST(dt AS timestamp)") == datetime.datetime(2015, 5, 21)
    assert one("CAST(ts AS text)") == "2015-05-21T11:03:02.000Z"
    # The column keeps its name when the cast is left out.
    assert s.execute("SELECT CAST(k AS int) FROM casts WHERE k = 1").column_names == ["k"]
    # Casts Cassandra has no function for: its two messages.
    with pytest.raises(InvalidRequest, match="c cannot be cast to blob"):
        s.execute("SELECT CAST(c AS blob) FROM casts")
    with pytest.raises(InvalidRequest, match="b cannot be cast to boolean"):
        s.execute("SELECT CAST(b AS boolean) FROM casts")
    with pytest.raises(
        InvalidRequest, match=r"Invalid call to function cast_as_timestamp, none of its type signatures"
    ):
        s.execute("SELECT CAST(c AS timestamp) FROM casts")
    with pytest.raises(InvalidRequest, match=r"function cast_as_ascii"):
        s.execute("SELECT CAST(c AS ascii) FROM casts")  # text does not cast to ascii


def test_selection_arithmetic_errors_and_decimals(session, keyspace):
    s = session
    s.execute("CREATE TABLE arith (k int PRIMARY KEY, t tinyint, v varint, d decimal, f double, flag boolean)")
    s.execute("INSERT INTO arith (k, t, v, d, f, flag) VALUES (1, 0, 7, 8.5, 6.5, true)")

    def one(selector):
        return s.execute(f"SELECT {selector} FROM arith WHERE k = 1").one()[0]

    # Integers, varints and decimals divided by zero: Cassandra's FUNCTION_FAILURE and text.
    for expr, message in (
        ("k / t", "the operation 'int / tinyint' failed: / by zero"),
        ("k % t", "the operation 'int % tinyint' failed: / by zero"),
        ("v / t", "the operation 'varint / tinyint' failed: BigInteger divide by zero"),
        ("d / t", "the operation 'decimal / tinyint' failed: BigInteger divide by zero"),
    ):
        with pytest.raises(FunctionFailure, match=re.escape(message)):
            s.execute(f"SELECT {expr} FROM arith WHERE k = 1")
    assert one("f / t") == float("inf")  # floating point: IEEE 754, no error
    assert one("d + f") == Decimal("15.0")  # a decimal with a double is computed in decimal
    assert one("d / 3") == Decimal("2.833333333333333333333333333333333")  # 34 digits
    assert one("-7 % 2") == -1 and one("-7 / 2") == -3  # Java's: toward zero
    assert one("f % -4") == 2.5  # the dividend's sign
    assert one("d % 3") == Decimal("2.5")
    s.execute("INSERT INTO arith (k, d) VALUES (2, 123456789112345678921234567893123456)")
    assert s.execute("SELECT d % 7 FROM arith WHERE k = 2").one()[0] == 123456789112345678921234567893123456 % 7
    s.execute("INSERT INTO arith (k, d) VALUES (3, 1E+20000)")  # a decimal no double holds
    assert s.execute("SELECT d FROM arith WHERE k = 3").one()[0] == Decimal("1E+20000")
    with pytest.raises(InvalidRequest, match="failed"):
        s.execute("SELECT d % 7 FROM arith WHERE k = 3")
    with pytest.raises(InvalidRequest, match="the '\\+' operation is not supported between flag and 1"):
        s.execute("SELECT flag + 1 FROM arith")
    with pytest.raises(FunctionFailure, match=re.escape("the operation 'int / int' failed: / by zero")):
        s.execute("SELECT k FROM arith WHERE k = 1 / 0")


def test_functions_of_aggregates(session, keyspace):
    s = session
    s.execute("CREATE TABLE agg (k int, c int, v int, t timeuuid, PRIMARY KEY (k, c))")
    for c in range(5):
        s.execute(f"INSERT INTO agg (k, c, v, t) VALUES (1, {c}, {c * 10}, now())")
    row = s.execute("SELECT max(v) + 1, CAST(count(*) AS text), min(v) * max(v), toDate(max(t)) FROM agg WHERE k = 1")
    assert tuple(row.one()) == (41, "5", 0, Date(datetime.datetime.now(datetime.UTC).date()))
    grouped = s.execute("SELECT c, max(v) * 2 FROM agg WHERE k = 1 GROUP BY k, c")
    assert [tuple(r) for r in grouped] == [(c, c * 20) for c in range(5)]
    with pytest.raises(InvalidRequest, match="Column c must be inside an aggregate"):
        s.execute("SELECT max(v) + c FROM agg WHERE k = 1")
    with pytest.raises(InvalidRequest, match="Aggregation function are not supported in the where clause"):
        s.execute("SELECT * FROM agg WHERE k = sum((int)4)")
    with pytest.raises(SyntaxException):
        s.execute("SELECT sum(*) FROM agg WHERE k = 1")


def test_blob_conversions_check_the_bytes(session, keyspace):
    """blobAs<type> refuses bytes that are no value of the type: sent on, they made the driver drop the
    connection (a counter of 4 bytes)."""
    s = session
    s.execute("CREATE TABLE blobs (k int PRIMARY KEY, v int)")
    s.execute("INSERT INTO blobs (k, v) VALUES (1, 1000)")
    text = "In call to function system.blobascounter, value 0x000003e8 is not a valid binary representation for type counter"
    with pytest.raises(InvalidRequest, match=re.escape(text)):
        s.execute("SELECT blobAsCounter(intAsBlob(v)) FROM blobs WHERE k = 1")
    with pytest.raises(InvalidRequest, match="system.blobasint, value 0x01 is not"):
        s.execute("INSERT INTO blobs (k, v) VALUES (2, blobAsInt(0x01))")
    assert s.execute("SELECT blobAsInt(intAsBlob(v)) FROM blobs WHERE k = 1").one()[0] == 1000
    assert s.execute("SELECT v FROM blobs WHERE k = 1").one()[0] == 1000  # the connection is still up
