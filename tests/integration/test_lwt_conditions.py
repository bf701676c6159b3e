"""Every IF condition operator, the shapes of not-applied results, and the validation errors of
conditional statements and batches, through the real driver, as Apache Cassandra answers them
(ColumnCondition, CQL3CasRequest, ModificationStatement; texts from its source)."""

from __future__ import annotations

import pytest
from cassandra import InvalidRequest
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement

# (condition, whether it holds) on the row written by `conditions_table`:
# v = 5, w null, t 'abc', l ['a', 'b'], s {1, 2}, m {'x': 1}, u {street 's', zip 7}, fl [1, 2], e null.
CASES = [
    ("v = 5", True),
    ("v = 4", False),
    ("v != 4", True),
    ("v != 5", False),
    ("v < 6", True),
    ("v < 5", False),
    ("v <= 5", True),
    ("v <= 4", False),
    ("v > 4", True),
    ("v > 5", False),
    ("v >= 5", True),
    ("v >= 6", False),
    ("v IN (1, 5)", True),
    ("v IN (1, 2)", False),
    # null: only = and != compare with it; a null column meets a non-null value only under !=.
    ("w = null", True),
    ("w != null", False),
    ("v = null", False),
    ("v != null", True),
    ("w = 1", False),
    ("w != 1", True),
    ("w > 1", False),
    ("w IN (null, 1)", True),
    ("w IN (1, 2)", False),
    ("t = 'abc'", True),
    ("t > 'abb'", True),
    ("t < 'abb'", False),
    # lists: whole value, elements by index (past the end: null), CONTAINS
    ("l = ['a', 'b']", True),
    ("l = ['b', 'a']", False),
    ("l[0] = 'a'", True),
    ("l[0] = 'b'", False),
    ("l[1] != 'a'", True),
    ("l[1] > 'a'", True),
    ("l[0] > 'a'", False),
    ("l[5] = null", True),
    ("l[5] = 'a'", False),
    ("l[0] IN ('z', 'a')", True),
    ("l CONTAINS 'b'", True),
    ("l CONTAINS 'z'", False),
    ("s = {1, 2}", True),
    ("s = {1}", False),
    ("s CONTAINS 2", True),
    ("s CONTAINS 3", False),
    # maps: whole value, elements by key (absent: null), CONTAINS on values, CONTAINS KEY
    ("m = {'x': 1}", True),
    ("m['x'] = 1", True),
    ("m['x'] > 1", False),
    ("m['x'] >= 1", True),
    ("m['x'] IN (0, 1)", True),
    ("m['y'] = null", True),
    ("m['y'] != null", False),
    ("m CONTAINS KEY 'x'", True),
    ("m CONTAINS KEY 'y'", False),
    ("m CONTAINS 1", True),
    ("m CONTAINS 2", False),
    # a null collection
    ("e = null", True),
    ("e[0] = null", True),
    ("e CONTAINS 1", False),
    # UDT fields and the whole UDT
    ("u.zip = 7", True),
    ("u.zip > 7", False),
    ("u.street IN ('r', 's')", True),
    ("u.street != 's'", False),
    ("u = {street: 's', zip: 7}", True),
    ("u = {street: 's', zip: 8}", False),
    ("fl = [1, 2]", True),
    ("fl = [2, 1]", False),
    # several conditions: all must hold
    ("v = 5 AND w = null AND l[0] = 'a'", True),
    ("v > 1 AND v < 9", True),
    ("v = 5 AND w = 1", False),
    ("m['x'] = 1 AND u.zip = 8", False),
]


@pytest.fixture
def conditions_table(session, keyspace):
    session.execute("CREATE TYPE addr (street text, zip int)")
    session.execute(
        "CREATE TABLE c (k int PRIMARY KEY, n int, v int, w int, t text, l list<text>, s set<int>, "
        "m map<text, int>, u addr, fl frozen<list<int>>, e list<int>)"
    )
    return session


def _write_row(s, k: int) -> None:
    s.execute(
        f"INSERT INTO c (k, n, v, t, l, s, m, u, fl) VALUES ({k}, 0, 5, 'abc', ['a', 'b'], {{1, 2}}, "
        "{'x': 1}, {street: 's', zip: 7}, [1, 2])"
    )


def test_every_condition_operator(conditions_table):
    s = conditions_table
    wrong = []
    for k, (cond, holds) in enumerate(CASES):
        _write_row(s, k)
        rs = s.execute(f"UPDATE c SET n = 1 WHERE k = {k} IF {cond}")
        n = s.execute(f"SELECT n FROM c WHERE k = {k}").one().n
        # applied exactly when the condition holds, and the update is there exactly then
        if rs.was_applied != holds or n != (1 if holds else 0):
            wrong.append((cond, rs.was_applied, n))
    assert wrong == []


def test_conditions_on_a_missing_row(conditions_table):
    """No row: every column reads as null, so only `= null` (and `!=` a value) holds."""
    s = conditions_table
    assert s.execute("UPDATE c SET n = 1 WHERE k = 100 IF v = null").was_applied
    assert s.execute("SELECT n FROM c WHERE k = 100").one().n == 1
    assert s.execute("UPDATE c SET n = 2 WHERE k = 101 IF v != 3").was_applied
    rs = s.execute("UPDATE c SET n = 3 WHERE k = 102 IF v = 3")
    assert rs.column_names == ["[applied]"] and [tuple(r) for r in rs] == [(False,)]
    assert s.execute("SELECT n FROM c WHERE k = 102").one() is None


def test_not_applied_result_carries_the_conditioned_columns(conditions_table):
    s = conditions_table
    _write_row(s, 1)
    # element and field conditions report the whole column
    rs = s.execute("UPDATE c SET n = 1 WHERE k = 1 IF l[0] = 'z' AND m['x'] = 9 AND u.zip = 7")
    assert rs.column_names == ["[applied]", "l", "m", "u"]
    row = rs.one()
    assert (row[0], row[1], row[2], (row[3].street, row[3].zip)) == (False, ["a", "b"], {"x": 1}, ("s", 7))
    # a column named twice appears once, at its first place
    rs = s.execute("UPDATE c SET n = 1 WHERE k = 1 IF v > 9 AND t = 'abc' AND v < 1")
    assert rs.column_names == ["[applied]", "v", "t"]
    assert tuple(rs.one()) == (False, 5, "abc")
    rs = s.execute("DELETE FROM c WHERE k = 1 IF v = 9")
    assert rs.column_names == ["[applied]", "v"] and tuple(rs.one()) == (False, 5)
    assert s.execute("SELECT v FROM c WHERE k = 1").one().v == 5


def test_if_exists_results_and_effects(conditions_table):
    s = conditions_table
    rs = s.execute("UPDATE c SET n = 1 WHERE k = 7 IF EXISTS")
    assert rs.column_names == ["[applied]"] and not rs.was_applied
    assert s.execute("SELECT * FROM c WHERE k = 7").one() is None  # no row was created
    _write_row(s, 7)
    rs = s.execute("UPDATE c SET n = 1 WHERE k = 7 IF EXISTS")
    assert rs.column_names == ["[applied]"] and rs.was_applied
    rs = s.execute("DELETE FROM c WHERE k = 7 IF EXISTS")
    assert rs.column_names == ["[applied]"] and rs.was_applied
    assert s.execute("SELECT * FROM c WHERE k = 7").one() is None
    rs = s.execute("DELETE FROM c WHERE k = 7 IF EXISTS")
    assert rs.column_names == ["[applied]"] and not rs.was_applied


def test_regular_conditions_come_before_static_ones(session, keyspace):
    s = session
    s.execute("CREATE TABLE st (pk int, ck int, sv int static, r int, PRIMARY KEY (pk, ck))")
    s.execute("INSERT INTO st (pk, ck, sv, r) VALUES (1, 1, 10, 20)")
    rs = s.execute("UPDATE st SET r = 0 WHERE pk = 1 AND ck = 1 IF sv = 0 AND r = 0")
    assert rs.column_names == ["[applied]", "r", "sv"] and tuple(rs.one()) == (False, 20, 10)
    # a static condition alone, with the partition key only: the statics' row
    rs = s.execute("UPDATE st SET sv = 11 WHERE pk = 1 IF sv = 10")
    assert rs.was_applied
    rs = s.execute("UPDATE st SET sv = 12 WHERE pk = 1 IF sv = 10")
    assert rs.column_names == ["[applied]", "sv"] and tuple(rs.one()) == (False, 11)


def test_arithmetic_under_if_keeps_null(session, keyspace):
    s = session
    s.execute("CREATE TABLE a (k int PRIMARY KEY, n bigint, d double, t text, x int)")
    s.execute("INSERT INTO a (k, x) VALUES (1, 0)")
    assert s.execute("UPDATE a SET n = n + 5, d = d - 1.5, t = t + 'z' WHERE k = 1 IF EXISTS").was_applied
    assert tuple(s.execute("SELECT n, d, t FROM a WHERE k = 1").one()) == (None, None, None)
    s.execute("UPDATE a SET n = 1, d = 2.5, t = 'y' WHERE k = 1")
    assert s.execute("UPDATE a SET n = n - 5, d = d + 1.5, t = t + 'z' WHERE k = 1 IF x = 0").was_applied
    assert tuple(s.execute("SELECT n, d, t FROM a WHERE k = 1").one()) == (-4, 4.0, "yz")


@pytest.mark.parametrize(
    "stmt, message",
    [
        # only under IF (CASSANDRA-17857), where the Paxos read has the old value
        ("UPDATE a SET n = n + 1 WHERE k = 1", "Invalid operation (n = n + 1) for non counter column n"),
        ("UPDATE a SET n = n - ? WHERE k = 1", "Invalid operation (n = n - ?) for non counter column n"),
        ("UPDATE a SET t = t - 'z' WHERE k = 1 IF x = 0", "Invalid operation (t = t - 'z') for non-numeric type t"),
        ("UPDATE a SET ts = ts + 1 WHERE k = 1 IF x = 0", "Invalid operation (ts = ts + 1) for non-numeric and non-text type ts"),
        ("UPDATE a SET tp = tp + (1, 2) WHERE k = 1 IF x = 0", "Invalid operation (tp = tp + (1, 2)) for tuple column tp"),
        ("UPDATE a SET fl = fl + [1] WHERE k = 1 IF x = 0", "Invalid operation (fl = fl + [1]) for frozen collection column fl"),
    ],
)  # fmt: skip
def test_arithmetic_errors(session, keyspace, stmt, message):
    session.execute(
        "CREATE TABLE a (k int PRIMARY KEY, n bigint, t text, x int, ts timestamp, tp tuple<int, int>, fl frozen<list<int>>)"
    )
    session.execute("INSERT INTO a (k, n, t, x) VALUES (1, 1, 'y', 0)")
    with pytest.raises(InvalidRequest) as e:
        session.execute(session.prepare(stmt), (1,)) if "?" in stmt else session.execute(stmt)
    assert message in str(e.value)
    assert tuple(session.execute("SELECT n, t FROM a WHERE k = 1").one()) == (1, "y")


TABLES = [
    "CREATE TABLE p (pk int, ck int, r int, sv int static, l list<int>, c int, PRIMARY KEY (pk, ck))",
    "CREATE TABLE d (k int PRIMARY KEY, du duration)",
]


@pytest.mark.parametrize(
    "stmt, message",
    [
        ("UPDATE p USING TIMESTAMP 5 SET r = 1 WHERE pk = 1 AND ck = 1 IF r = 1", "Cannot provide custom timestamp for conditional updates"),
        ("INSERT INTO p (pk, ck, r) VALUES (1, 1, 1) IF NOT EXISTS USING TIMESTAMP 5", "Cannot provide custom timestamp for conditional updates"),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF ck = 1", "PRIMARY KEY column 'ck' cannot have IF conditions"),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF pk = 1", "PRIMARY KEY column 'pk' cannot have IF conditions"),
        ("UPDATE p SET r = 1 WHERE pk IN (1, 2) AND ck = 1 IF r = 1", "IN on the partition key is not supported with conditional updates"),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck IN (1, 2) IF r = 1", "IN on the clustering key columns is not supported with conditional updates"),
        ("DELETE FROM p WHERE pk = 1 AND ck IN (1, 2) IF r = 1", "IN on the clustering key columns is not supported with conditional deletions"),
        ("UPDATE p SET sv = 1 WHERE pk = 1 IF r = 1", "Some clustering keys are missing: ck"),
        ("UPDATE p SET r = 1 WHERE pk = 1 IF sv = 1", "Some clustering keys are missing: ck"),
        ("DELETE FROM p WHERE pk = 1 IF r = 1", "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to delete non static columns"),
        ("DELETE sv FROM p WHERE pk = 1 IF r = 1", "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF condition on non static columns"),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF r < null", 'Invalid comparison with null for operator "<"'),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF r[0] = 1", "Invalid element access syntax for non-collection column r"),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF r CONTAINS 1", "Cannot use CONTAINS on non-collection column r"),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF l CONTAINS KEY 1", "Cannot use CONTAINS KEY on non-map column l"),
        ("UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF l[-1] = 1", "Invalid negative list index -1"),
        ("DELETE FROM p WHERE pk IN (1, 2) AND ck = 1 IF r = 1", "IN on the partition key is not supported with conditional deletions"),
        ("UPDATE d SET du = 1h WHERE k = 1 IF du > 1h", "Slice conditions ( > ) are not supported on durations"),
    ],
)  # fmt: skip
def test_conditional_statement_errors(session, keyspace, stmt, message):
    for ddl in TABLES:
        session.execute(ddl)
    if "IF" in stmt and "l[-1]" in stmt:
        session.execute("INSERT INTO p (pk, ck, l) VALUES (1, 1, [1])")
    with pytest.raises(InvalidRequest) as e:
        session.execute(stmt)
    assert message in str(e.value)
    assert session.execute("SELECT * FROM p WHERE pk = 1 AND ck = 1 AND r = 1 ALLOW FILTERING").one() is None


@pytest.mark.parametrize(
    "stmt",
    [
        "UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF NOT EXISTS",
        "DELETE FROM p WHERE pk = 1 AND ck = 1 IF NOT EXISTS",
        "INSERT INTO p (pk, ck, r) VALUES (1, 1, 1) IF EXISTS",
        "INSERT INTO p (pk, ck, r) VALUES (1, 1, 1) IF r = 1",
        "UPDATE p SET r = 1 WHERE pk = 1 AND ck = 1 IF r = 1 USING TIMESTAMP 5",
    ],
)
def test_conditions_the_grammar_refuses(session, keyspace, stmt):
    session.execute(TABLES[0])
    with pytest.raises(SyntaxException):
        session.execute(stmt)


@pytest.mark.parametrize(
    "first, second, message",
    [
        (
            "INSERT INTO b (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS",
            "DELETE FROM b WHERE k = 1 AND c = 1 IF EXISTS",
            "Cannot mix IF EXISTS and IF NOT EXISTS conditions for the same row",
        ),
        (
            "INSERT INTO b (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS",
            "UPDATE b SET v = 2 WHERE k = 1 AND c = 1 IF v = 1",
            "Cannot mix IF conditions and IF NOT EXISTS for the same row",
        ),
        (
            "UPDATE b SET v = 2 WHERE k = 1 AND c = 1 IF v = 1",
            "UPDATE b SET v = 3 WHERE k = 1 AND c = 1 IF EXISTS",
            "Cannot mix IF conditions and IF EXISTS for the same row",
        ),
        (
            "INSERT INTO b (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS",
            "INSERT INTO b (k, c, v) VALUES (2, 1, 1) IF NOT EXISTS",
            "Batch with conditions cannot span multiple partitions",
        ),
        (
            "INSERT INTO b (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS",
            "INSERT INTO b2 (k, v) VALUES (1, 1)",
            "Batch with conditions cannot span multiple tables",
        ),
        (
            "UPDATE b SET v = 2 WHERE k = 1 AND c IN (1, 2) IF v = 1",
            "INSERT INTO b (k, c, v) VALUES (1, 3, 1)",
            "IN on the clustering key columns is not supported with conditional updates",
        ),
    ],
)
def test_conditional_batch_errors(session, keyspace, first, second, message):
    s = session
    s.execute("CREATE TABLE b (k int, c int, v int, PRIMARY KEY (k, c))")
    s.execute("CREATE TABLE b2 (k int PRIMARY KEY, v int)")
    batch = BatchStatement()
    batch.add(first)
    batch.add(second)
    with pytest.raises(InvalidRequest) as e:
        s.execute(batch)
    assert message in str(e.value)
    # nothing of a refused batch is written
    assert list(s.execute("SELECT * FROM b")) == [] and list(s.execute("SELECT * FROM b2")) == []


def test_timestamps_in_conditional_batches(session, keyspace):
    s = session
    s.execute("CREATE TABLE b (k int, c int, v int, PRIMARY KEY (k, c))")
    with pytest.raises(InvalidRequest, match="Cannot provide custom timestamp for conditional BATCH"):
        s.execute("BEGIN BATCH USING TIMESTAMP 5 INSERT INTO b (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS; APPLY BATCH")
    with pytest.raises(InvalidRequest, match="Cannot provide custom timestamp for conditional updates"):
        s.execute("BEGIN BATCH INSERT INTO b (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS USING TIMESTAMP 5; APPLY BATCH")
    assert list(s.execute("SELECT * FROM b")) == []
    # A statement without a condition may carry one; the commit writes everything at the ballot's time.
    assert s.execute(
        "BEGIN BATCH INSERT INTO b (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS; "
        "INSERT INTO b (k, c, v) VALUES (1, 2, 2) USING TIMESTAMP 5; APPLY BATCH"
    ).was_applied
    times = [r[0] for r in s.execute("SELECT writetime(v) FROM b WHERE k = 1")]
    assert len(times) == 2 and times[0] == times[1] > 5


def test_conditional_batch_deletions_sit_just_below_its_writes(session, keyspace):
    """A Paxos commit moves every deletion to the ballot's time − 1 once the batch's changes to each row
    are merged (Cassandra's PartitionUpdate.updateAllTimestamp): a partition or range deletion leaves the
    batch's own rows standing, while a deletion of the same row or cell still wins over the batch's
    writes to it."""
    s = session
    s.execute("CREATE TABLE t (k int, c int, sv int static, v int, w int, l list<int>, PRIMARY KEY (k, c))")
    s.execute("INSERT INTO t (k, c, sv, v, w, l) VALUES (1, 1, 1, 1, 7, [1, 2])")
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 2, 2)")

    def batch(*stmts: str) -> bool:
        return s.execute("BEGIN BATCH " + "; ".join(stmts) + "; APPLY BATCH").was_applied

    def partition(k: int) -> list:
        return [tuple(r) for r in s.execute(f"SELECT c, sv, v, w, l FROM t WHERE k = {k}")]

    # the partition is replaced by what the batch writes into it
    assert batch(
        "UPDATE t SET sv = 2 WHERE k = 1 IF sv = 1",
        "DELETE FROM t WHERE k = 1",
        "INSERT INTO t (k, c, v) VALUES (1, 5, 5)",
    )
    assert partition(1) == [(5, 2, 5, None, None)]
    # a range deletion, and a row written inside the range
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 6, 6)")
    assert batch(
        "UPDATE t SET v = 50 WHERE k = 1 AND c = 5 IF v = 5",
        "DELETE FROM t WHERE k = 1 AND c > 5",
        "INSERT INTO t (k, c, v) VALUES (1, 7, 7)",
    )
    assert partition(1) == [(5, 2, 50, None, None), (7, 2, 7, None, None)]
    # the same row deleted and written: the deletion wins; so do a cell's and a collection's
    s.execute("INSERT INTO t (k, c, v, w, l) VALUES (2, 1, 1, 7, [1])")
    s.execute("INSERT INTO t (k, c, v) VALUES (2, 2, 1)")
    assert batch(
        "UPDATE t SET v = 2 WHERE k = 2 AND c = 1 IF w = 7",
        "DELETE w, l FROM t WHERE k = 2 AND c = 1",
        "UPDATE t SET w = 8, l = l + [3] WHERE k = 2 AND c = 1",
        "DELETE FROM t WHERE k = 2 AND c = 2",
        "INSERT INTO t (k, c, v) VALUES (2, 2, 9)",
    )
    assert partition(2) == [(1, None, 2, None, None)]
    # an overwritten collection keeps its new elements, as in a plain write
    assert s.execute("UPDATE t SET l = [4] WHERE k = 2 AND c = 1 IF v = 2").was_applied
    assert partition(2) == [(1, None, 2, None, [4])]
