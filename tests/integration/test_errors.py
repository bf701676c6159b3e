"""Invalid statements of every family get Cassandra's error class and text, and apply nothing."""

from __future__ import annotations

import pytest
from cassandra import AlreadyExists, InvalidRequest
from cassandra.protocol import ConfigurationException, SyntaxException

CASES = [
    # (statement, error class, text)
    ("SELECT * FROM nosuch", InvalidRequest, "table nosuch does not exist"),
    ("SELECT * FROM nokeyspace.t", InvalidRequest, "keyspace nokeyspace does not exist"),
    ("SELECT nope FROM t", InvalidRequest, "Undefined column name nope in table"),
    ("SELECT * FROM t WHERE v = 'x'", InvalidRequest, "use ALLOW FILTERING"),
    ("SELECT * FROM t WHERE c = 1", InvalidRequest, "use ALLOW FILTERING"),
    ("SELECT * FROM t WHERE k > 1", InvalidRequest, "use ALLOW FILTERING"),
    (
        "SELECT * FROM t WHERE k = 1 ORDER BY v",
        InvalidRequest,
        "Order by is currently only supported on the clustered columns",
    ),
    (
        "SELECT * FROM t WHERE k = 1 AND k = 2",
        InvalidRequest,
        "k cannot be restricted by more than one relation if it includes an Equal",
    ),
    (
        "SELECT DISTINCT v FROM t",
        InvalidRequest,
        "SELECT DISTINCT queries must only request partition key columns and/or static columns",
    ),
    ("SELECT * FROM t LIMIT 0", InvalidRequest, "LIMIT must be strictly positive"),
    ("SELECT * FROM t WHERE k = 'x'", InvalidRequest, 'Invalid STRING constant (x) for "k" of type int'),
    ("INSERT INTO t (v) VALUES ('a')", InvalidRequest, "Some partition key parts are missing: k"),
    ("INSERT INTO t (k, v) VALUES (1, 'a')", InvalidRequest, "Some clustering keys are missing: c"),
    ("INSERT INTO t (k, c, v) VALUES (1, 2)", InvalidRequest, "Unmatched column names/values"),
    ("INSERT INTO t (k, c, v, v) VALUES (1, 2, 'a', 'b')", InvalidRequest, "Multiple definitions found for column v"),
    ("INSERT INTO t (k, c, v) VALUES (1, 2, 3)", InvalidRequest, 'Invalid INTEGER constant (3) for "v" of type text'),
    (
        "INSERT INTO t (k, c, v) VALUES (1, 2, 'a') USING TTL -1",
        InvalidRequest,
        "A TTL must be greater or equal to 0, but was -1",
    ),
    (
        "INSERT INTO t (k, c, v) VALUES (1, 2, 'a') USING TTL 630720001",
        InvalidRequest,
        "ttl is too large. requested (630720001) maximum (630720000)",
    ),
    ("UPDATE t SET k = 1 WHERE k = 1 AND c = 1", InvalidRequest, "PRIMARY KEY part k found in SET part"),
    ("UPDATE t SET v = 'a' WHERE k = 1", InvalidRequest, "Some clustering keys are missing: c"),
    (
        "UPDATE t SET v = 'a' WHERE v = 'b' AND k = 1 AND c = 1",
        InvalidRequest,
        "Non PRIMARY KEY columns found in where clause: v",
    ),
    ("UPDATE t SET v = v + 'a' WHERE k = 1 AND c = 1", InvalidRequest, "for non counter column v"),
    ("UPDATE t SET l[5] = 1 WHERE k = 1 AND c = 1", InvalidRequest, "List index 5 out of bound, list has size 0"),
    ("DELETE FROM t WHERE c = 1", InvalidRequest, "Some partition key parts are missing: k"),
    ("DELETE v FROM t WHERE k = 1 AND c > 1", InvalidRequest, "Range deletions are not supported for specific columns"),
    (
        "DELETE k FROM t WHERE k = 1",
        InvalidRequest,
        "Invalid identifier k for deletion (should not be a PRIMARY KEY part)",
    ),
    ("CREATE TABLE t (k int PRIMARY KEY)", AlreadyExists, "Table 'errs.t' already exists"),
    ("CREATE TABLE x (k int, v int)", InvalidRequest, "No PRIMARY KEY specifed for table 'x' (exactly one required)"),
    (
        "CREATE TABLE x (k int PRIMARY KEY, s int static)",
        InvalidRequest,
        "Static columns are only useful (and thus allowed) if the table has at least one clustering column",
    ),
    (
        "CREATE TABLE x (k int PRIMARY KEY, c counter, v int)",
        InvalidRequest,
        "Cannot mix counter and non counter columns in the same table",
    ),
    ("CREATE TABLE x (k list<int> PRIMARY KEY)", InvalidRequest, "Invalid non-frozen collection type"),
    (
        "CREATE TABLE x (k int PRIMARY KEY, v list<list<int>>)",
        InvalidRequest,
        "Non-frozen collections are not allowed inside collections",
    ),
    ("CREATE TABLE x (k int PRIMARY KEY) WITH nonsense = 1", SyntaxException, "Unknown property 'nonsense'"),
    (
        "CREATE KEYSPACE k2 WITH replication = {'class': 'NoSuchStrategy'}",
        ConfigurationException,
        "Unable to find replication strategy class",
    ),
    (
        "CREATE KEYSPACE k2 WITH replication = {'class': 'SimpleStrategy'}",
        ConfigurationException,
        "SimpleStrategy requires a replication_factor strategy option.",
    ),
    ("ALTER TABLE t DROP k", InvalidRequest, "Cannot drop PRIMARY KEY column k"),
    ("ALTER TABLE t ADD v int", InvalidRequest, "Column with name 'v' already exists"),
    ("DROP TABLE nosuch", InvalidRequest, "doesn't exist"),
    ("USE nosuch", InvalidRequest, "Keyspace 'nosuch' does not exist"),
    ("SELEC * FROM t", SyntaxException, "line 1:0"),
    ("SELECT * FROM t WHERE", SyntaxException, "line 1:"),
    (
        "INSERT INTO t (k, c, v) VALUES (1, 2, 'a') IF NOT EXISTS USING TIMESTAMP 5",
        InvalidRequest,
        "Cannot provide custom timestamp for conditional updates",
    ),
    ("BEGIN BATCH INSERT INTO t (k, c) VALUES (1, 1) APPLY", SyntaxException, "line 1:"),
    ("SELECT * FROM t WHERE v = null ALLOW FILTERING", InvalidRequest, "Invalid null value for column v"),
    # A counter's filter value is read as an increment, hence Cassandra's text.
    ("SELECT * FROM cnt WHERE n = null ALLOW FILTERING", InvalidRequest, "Invalid null value for counter increment"),
    # Parts within the limit, the composite key beyond it (2 + 40000 + 1 twice).
    (
        f"INSERT INTO pk2 (a, b) VALUES ('{'a' * 40000}', '{'b' * 40000}')",
        InvalidRequest,
        "Key length of 80006 is longer than maximum of 65535",
    ),
]


@pytest.fixture(scope="module")
def errs(cluster):
    s = cluster.connect()
    s.execute(
        "CREATE KEYSPACE IF NOT EXISTS errs WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    s.set_keyspace("errs")
    s.execute("CREATE TABLE IF NOT EXISTS t (k int, c int, v text, l list<int>, PRIMARY KEY (k, c))")
    s.execute("CREATE TABLE IF NOT EXISTS cnt (k int PRIMARY KEY, n counter)")
    s.execute("CREATE TABLE IF NOT EXISTS pk2 (a text, b text, v int, PRIMARY KEY ((a, b)))")
    return s


@pytest.mark.parametrize("statement, error, text", [c for c in CASES])
def test_invalid_statement(errs, statement, error, text):
    with pytest.raises(error) as e:
        errs.execute(statement)
    assert text in str(e.value)
    assert list(errs.execute("SELECT * FROM t")) == []


def test_keyspace_replication_defaults(session):
    """Cassandra 4.1+: no class means NetworkTopologyStrategy; no factor means default_keyspace_rf (1)."""
    for name, clause in (
        ("d1", ""),
        ("d2", " WITH replication = {}"),
        ("d3", " WITH replication = {'replication_factor': 2}"),
    ):
        session.execute(f"CREATE KEYSPACE {name}{clause}")
        row = session.execute(f"SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = '{name}'").one()
        expected = "2" if name == "d3" else "1"
        assert dict(row.replication) == {
            "class": "org.apache.cassandra.locator.NetworkTopologyStrategy",
            "datacenter1": expected,
        }
        session.execute(f"DROP KEYSPACE {name}")
