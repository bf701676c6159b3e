"""BATCH: validated whole before anything applies, atomic and isolated across partitions and tables."""

from __future__ import annotations

import threading

import pytest
from cassandra import InvalidRequest
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, BatchType

from tests.conftest import make_cluster


@pytest.fixture
def shop(session, keyspace):
    session.execute("CREATE TABLE by_id (id text PRIMARY KEY, customer text, total decimal)")
    session.execute("CREATE TABLE by_customer (customer text, id text, total decimal, PRIMARY KEY (customer, id))")
    session.execute("CREATE TABLE ctr (k int PRIMARY KEY, n counter)")
    return session


def test_text_batch_with_and_without_semicolons(shop):
    s = shop
    s.execute(
        "BEGIN BATCH "
        "INSERT INTO by_id (id, customer, total) VALUES ('o1', 'ann', 1.5); "
        "INSERT INTO by_customer (customer, id, total) VALUES ('ann', 'o1', 1.5) "
        "UPDATE by_id SET total = 2.5 WHERE id = 'o1' "
        "APPLY BATCH"
    )
    assert float(s.execute("SELECT total FROM by_id WHERE id = 'o1'").one().total) == 2.5
    assert s.execute("SELECT id FROM by_customer WHERE customer = 'ann'").one().id == "o1"
    s.execute("BEGIN BATCH APPLY BATCH")


def test_protocol_batch_mixing_prepared_and_text(shop):
    s = shop
    p = s.prepare("INSERT INTO by_id (id, customer) VALUES (?, ?)")
    b = BatchStatement()
    b.add(p, ("o2", "bob"))
    b.add("INSERT INTO by_customer (customer, id) VALUES (%s, %s)", ("bob", "o2"))
    s.execute(b)
    assert s.execute("SELECT customer FROM by_id WHERE id = 'o2'").one().customer == "bob"


def test_invalid_statement_refuses_the_whole_batch(shop):
    s = shop
    with pytest.raises(SyntaxException):
        s.execute(
            "BEGIN BATCH INSERT INTO by_id (id, customer) VALUES ('o3', 'cy'); "
            "INSERT INTO by_id (id, customer) VALUES (invalid-ORD-003 'x'); APPLY BATCH"
        )
    with pytest.raises(InvalidRequest, match="Undefined column name nope"):
        s.execute(
            "BEGIN BATCH INSERT INTO by_id (id, customer) VALUES ('o3', 'cy'); "
            "INSERT INTO by_customer (customer, id, nope) VALUES ('cy', 'o3', 1); APPLY BATCH"
        )
    with pytest.raises(InvalidRequest):
        s.execute(
            "BEGIN BATCH INSERT INTO by_id (id, customer) VALUES ('o3', 'cy'); "
            "INSERT INTO by_customer (customer, id, total) VALUES ('cy', 'o3', 'not a number'); APPLY BATCH"
        )
    assert s.execute("SELECT * FROM by_id WHERE id = 'o3'").one() is None


def test_counter_rules(shop):
    s = shop
    with pytest.raises(InvalidRequest, match="Cannot include a counter statement in a logged batch"):
        s.execute("BEGIN BATCH UPDATE ctr SET n = n + 1 WHERE k = 1; APPLY BATCH")
    with pytest.raises(InvalidRequest, match="Cannot include non-counter statement in a counter batch"):
        s.execute("BEGIN COUNTER BATCH INSERT INTO by_id (id) VALUES ('x'); APPLY BATCH")
    for _ in range(3):
        s.execute(
            "BEGIN COUNTER BATCH UPDATE ctr SET n = n + 2 WHERE k = 1; UPDATE ctr SET n = n + 1 WHERE k = 2; APPLY BATCH"
        )
    assert s.execute("SELECT n FROM ctr WHERE k = 1").one().n == 6
    assert s.execute("SELECT n FROM ctr WHERE k = 2").one().n == 3


def test_batch_timestamp_applies_to_every_statement(shop):
    s = shop
    s.execute(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 1234 INSERT INTO by_id (id, customer) VALUES ('o5', 'x'); "
        "INSERT INTO by_customer (customer, id) VALUES ('x', 'o5'); APPLY BATCH"
    )
    assert s.execute("SELECT writetime(customer) FROM by_id WHERE id = 'o5'").one()[0] == 1234
    s.execute("INSERT INTO by_id (id, customer) VALUES ('o5', 'older') USING TIMESTAMP 1000")
    assert s.execute("SELECT customer FROM by_id WHERE id = 'o5'").one().customer == "x"


def test_large_multi_partition_batch_warns(shop):
    s = shop
    big = "y" * 4000
    b = BatchStatement(batch_type=BatchType.LOGGED)
    for i in range(3):
        b.add("INSERT INTO by_id (id, customer) VALUES (%s, %s)", (f"w{i}", big))
    rs = s.execute(b)
    warnings = rs.response_future.warnings
    assert warnings and "exceeding specified threshold of 5120" in warnings[0]


def test_readers_never_see_part_of_a_batch(server, shop, keyspace):
    """Cassandra only isolates a batch within one partition; cqld isolates it across tables too."""
    writer_cluster = make_cluster(server.port)
    w = writer_cluster.connect(keyspace)
    a = w.prepare("INSERT INTO by_id (id, customer) VALUES (?, ?)")
    b = w.prepare("INSERT INTO by_customer (customer, id) VALUES (?, ?)")
    done = threading.Event()
    torn = []

    def reader():
        rc = make_cluster(server.port)
        r = rc.connect(keyspace)
        q1 = r.prepare("SELECT customer FROM by_id WHERE id = ?")
        q2 = r.prepare("SELECT id FROM by_customer WHERE customer = ? AND id = ?")
        while not done.is_set():
            for i in range(0, 200, 7):
                oid = f"iso{i}"
                f1 = r.execute_async(q1, (oid,))
                f2 = r.execute_async(q2, (f"cust{i}", oid))
                one, two = f1.result().one(), f2.result().one()
                if one is not None and two is None:
                    torn.append(oid)
        rc.shutdown()

    t = threading.Thread(target=reader)
    t.start()
    for i in range(200):
        batch = BatchStatement()
        # by_id first: applied statement by statement, a reader could see by_id without by_customer,
        # and the reader asks for by_customer after by_id, so atomicity is what makes both appear.
        batch.add(a, (f"iso{i}", f"cust{i}"))
        batch.add(b, (f"cust{i}", f"iso{i}"))
        w.execute(batch)
    done.set()
    t.join()
    writer_cluster.shutdown()
    assert torn == []
