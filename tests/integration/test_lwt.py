"""Lightweight transactions through the real driver: Cassandra's semantics, result shapes and errors."""

from __future__ import annotations

import threading
import time

import pytest
from cassandra import ConsistencyLevel, InvalidRequest
from cassandra.query import BatchStatement, SimpleStatement

from tests.conftest import make_cluster


@pytest.fixture
def profiles(session, keyspace):
    session.execute(
        "CREATE TABLE p (account text, profile text, name text, playing int, version text, "
        "acc_version text static, acc_time int static, PRIMARY KEY (account, profile))"
    )
    return session


def rows(rs):
    return [tuple(r) for r in rs]


def test_insert_if_not_exists_shapes(profiles):
    s = profiles
    rs = s.execute("INSERT INTO p (account, profile, name, playing) VALUES ('a', 'p1', 'Mike', 500) IF NOT EXISTS")
    assert rs.column_names == ["[applied]"] and rows(rs) == [(True,)]
    rs = s.execute("INSERT INTO p (account, profile, name, playing) VALUES ('a', 'p1', 'Other', 1) IF NOT EXISTS")
    # Not applied: [applied] and the existing row in SELECT * order (keys, statics, regulars by name).
    assert rs.column_names == [
        "[applied]",
        "account",
        "profile",
        "acc_time",
        "acc_version",
        "name",
        "playing",
        "version",
    ]
    assert not rs.was_applied
    assert rows(rs) == [(False, "a", "p1", None, None, "Mike", 500, None)]


def test_update_if_exists_and_conditions(profiles):
    s = profiles
    rs = s.execute("UPDATE p SET name = 'John' WHERE account = 'a' AND profile = 'zz' IF EXISTS")
    assert rs.column_names == ["[applied]"] and rows(rs) == [(False,)]
    s.execute("INSERT INTO p (account, profile, name, playing, version) VALUES ('b', 'p2', 'Emma', 500, 'v0')")
    rs = s.execute(
        "UPDATE p SET playing = 700, version = 'v1' WHERE account = 'b' AND profile = 'p2' "
        "IF version = 'v0' AND playing != 700"
    )
    assert rows(rs) == [(True,)]
    rs = s.execute(
        "UPDATE p SET playing = 700, version = 'v1' WHERE account = 'b' AND profile = 'p2' "
        "IF version = 'v0' AND playing != 700"
    )
    # Not applied: the conditioned columns only, in IF order, no key columns.
    assert rs.column_names == ["[applied]", "version", "playing"]
    assert rows(rs) == [(False, "v1", 700)]
    rs = s.execute("UPDATE p SET name = 'x' WHERE account = 'b' AND profile = 'nope' IF name = 'y'")
    assert rows(rs) == [(False,)]
    assert s.execute("SELECT playing, version FROM p WHERE account = 'b' AND profile = 'p2'").one() == (700, "v1")


def test_delete_if_exists_and_null_conditions(profiles):
    s = profiles
    s.execute("INSERT INTO p (account, profile, name) VALUES ('c', 'p1', 'n')")
    assert not s.execute("DELETE FROM p WHERE account = 'c' AND profile = 'p1' IF name = null").was_applied
    assert s.execute("DELETE FROM p WHERE account = 'c' AND profile = 'p1' IF version = null").was_applied
    assert s.execute("SELECT * FROM p WHERE account = 'c' AND profile = 'p1'").one() is None
    assert not s.execute("DELETE FROM p WHERE account = 'c' AND profile = 'p1' IF EXISTS").was_applied


def test_static_conditions_with_partition_key_only(profiles):
    s = profiles
    assert s.execute(
        "UPDATE p SET acc_version = 'v0', acc_time = 0 WHERE account = 'd' IF acc_version = null"
    ).was_applied
    s.execute("INSERT INTO p (account, profile, playing) VALUES ('d', 'p1', 100)")
    rs = s.execute("UPDATE p SET acc_version = 'v1' WHERE account = 'd' IF acc_version = 'v9'")
    assert rs.column_names == ["[applied]", "acc_version"] and rows(rs) == [(False, "v0")]
    b = BatchStatement()
    b.add("UPDATE p SET acc_version = 'v1', acc_time = 100 WHERE account = 'd' IF acc_version = 'v0'")
    b.add("UPDATE p SET playing = 200 WHERE account = 'd' AND profile = 'p1'")
    assert s.execute(b).was_applied
    assert s.execute("SELECT acc_version, acc_time, playing FROM p WHERE account = 'd'").one() == ("v1", 100, 200)


def test_collection_and_in_conditions(session, keyspace):
    s = session
    s.execute("CREATE TABLE c (k int PRIMARY KEY, l list<text>, m map<text, int>, v int)")
    s.execute("INSERT INTO c (k, l, m, v) VALUES (1, ['a', 'b'], {'x': 1}, 5)")
    assert not s.execute("UPDATE c SET v = 6 WHERE k = 1 IF l[0] = 'b'").was_applied
    assert s.execute("UPDATE c SET v = 6 WHERE k = 1 IF l[1] = 'b' AND m['x'] = 1").was_applied
    assert s.execute("UPDATE c SET v = 7 WHERE k = 1 IF v IN (1, 6, 9)").was_applied
    assert s.execute("UPDATE c SET v = 8 WHERE k = 1 IF m CONTAINS KEY 'x' AND l CONTAINS 'a'").was_applied
    assert not s.execute("UPDATE c SET v = 9 WHERE k = 1 IF v > 8").was_applied
    assert s.execute("UPDATE c SET v = 9 WHERE k = 1 IF v >= 8").was_applied


def test_counter_and_serial_errors(session, keyspace):
    s = session
    s.execute("CREATE TABLE ctr (k int PRIMARY KEY, c counter)")
    with pytest.raises(InvalidRequest, match="Conditional updates are not supported on counter tables"):
        s.execute("UPDATE ctr SET c = c + 1 WHERE k = 0 IF EXISTS")
    with pytest.raises(InvalidRequest, match="Conditions on counters are not supported"):
        s.execute("UPDATE ctr SET c = c + 1 WHERE k = 0 IF c = 1")
    s.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    with pytest.raises(InvalidRequest, match="You must use conditional updates for serializable writes"):
        s.execute(SimpleStatement("INSERT INTO t (k, v) VALUES (1, 1)", consistency_level=ConsistencyLevel.SERIAL))


def test_cross_partition_conditional_batch_is_refused(session, keyspace):
    session.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    b = BatchStatement()
    b.add("INSERT INTO t (k, v) VALUES (1, 1) IF NOT EXISTS")
    b.add("INSERT INTO t (k, v) VALUES (2, 1) IF NOT EXISTS")
    with pytest.raises(InvalidRequest, match="Batch with conditions cannot span multiple partitions"):
        session.execute(b)
    assert session.execute("SELECT * FROM t WHERE k = 1").one() is None


def test_conditional_batch_not_applied_returns_rows_with_keys(session, keyspace):
    s = session
    s.execute("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))")
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'one')")
    b = BatchStatement()
    b.add("UPDATE t SET v = 'x' WHERE k = 1 AND c = 1 IF v = 'nope'")
    b.add("INSERT INTO t (k, c, v) VALUES (1, 2, 'two')")
    rs = s.execute(b)
    assert rs.column_names == ["[applied]", "k", "c", "v"]
    assert rows(rs) == [(False, 1, 1, "one")]
    assert s.execute("SELECT * FROM t WHERE k = 1 AND c = 2").one() is None


def test_prepared_lwt_has_no_result_metadata_but_results_decode(session, keyspace):
    s = session
    s.execute("CREATE TABLE t (k int PRIMARY KEY, v text)")
    p = s.prepare("INSERT INTO t (k, v) VALUES (?, ?) IF NOT EXISTS")
    assert not p.result_metadata
    assert s.execute(p, (1, "a")).was_applied
    rs = s.execute(p, (1, "b"))
    assert rows(rs) == [(False, 1, "a")]


def test_serial_read_sees_lwt_writes(session, keyspace):
    s = session
    s.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    s.execute("INSERT INTO t (k, v) VALUES (1, 1) IF NOT EXISTS")
    stmt = SimpleStatement("SELECT v FROM t WHERE k = 1", consistency_level=ConsistencyLevel.SERIAL)
    assert s.execute(stmt).one().v == 1
    with pytest.raises(InvalidRequest, match="SERIAL/LOCAL_SERIAL consistency may only be requested for one partition"):
        s.execute(SimpleStatement("SELECT v FROM t", consistency_level=ConsistencyLevel.SERIAL))


def test_lwt_write_timestamp_is_the_ballot_time(session, keyspace):
    s = session
    s.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    before = time.time() * 1e6
    s.execute("INSERT INTO t (k, v) VALUES (1, 1) IF NOT EXISTS")
    after = time.time() * 1e6
    wt = s.execute("SELECT writetime(v) FROM t WHERE k = 1").one()[0]
    assert before - 1e6 <= wt <= after + 1e6


def test_concurrent_compare_and_set_increments_are_linearizable(server, session, keyspace):
    """Several clients increment one counter by CAS on the current value: no increment is lost."""
    session.execute("CREATE TABLE reg (k int PRIMARY KEY, v int)")
    session.execute("INSERT INTO reg (k, v) VALUES (0, 0)")
    applied = []
    lock = threading.Lock()

    def worker():
        c = make_cluster(server.port)
        s = c.connect(keyspace)
        upd = s.prepare("UPDATE reg SET v = ? WHERE k = 0 IF v = ?")
        sel = s.prepare("SELECT v FROM reg WHERE k = 0")
        sel.consistency_level = ConsistencyLevel.SERIAL
        n = 0
        for _ in range(15):
            while True:
                cur = s.execute(sel).one().v
                if s.execute(upd, (cur + 1, cur)).was_applied:
                    n += 1
                    break
        with lock:
            applied.append(n)
        c.shutdown()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(applied) == 60
    assert session.execute("SELECT v FROM reg WHERE k = 0").one().v == 60
