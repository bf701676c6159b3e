"""The real DataStax driver against a running cqld: connect, schema, reads, writes, prepared, paging."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from cassandra import InvalidRequest
from cassandra.protocol import SyntaxException
from cassandra.query import SimpleStatement

from tests.conftest import connected, create_keyspace, make_cluster


def test_connect_negotiates_v4_and_reads_system_local(cluster, session):
    assert cluster.protocol_version == 4
    row = session.execute("SELECT * FROM system.local WHERE key = 'local'").one()
    assert row.cluster_name == "cqld"
    assert row.release_version.startswith("5.0.0")
    assert row.data_center == "datacenter1"
    assert row.partitioner == "org.apache.cassandra.dht.Murmur3Partitioner"
    assert isinstance(row.schema_version, uuid.UUID)
    assert list(session.execute("SELECT * FROM system.peers")) == []


def test_ddl_is_fast_and_visible_in_driver_metadata(cluster, session, keyspace):
    started = time.monotonic()
    session.execute(
        "CREATE TABLE t (k int, c text, s int static, v list<int>, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)"
    )
    # No 10 s schema-agreement wait: schema_version changed and peers are empty.
    assert time.monotonic() - started < 5
    meta = cluster.metadata.keyspaces[keyspace].tables["t"]
    assert [c.name for c in meta.partition_key] == ["k"]
    assert [c.name for c in meta.clustering_key] == ["c"]
    assert meta.columns["s"].is_static
    assert meta.columns["v"].cql_type == "list<int>"
    assert meta.clustering_key[0].is_reversed


def test_insert_select_with_clustering_order(session, keyspace):
    session.execute("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)")
    for i in (3, 1, 2):
        session.execute("INSERT INTO t (k, c, v) VALUES (%s, %s, %s)", (7, i, f"v{i}"))
    session.execute("INSERT INTO t (k, c, v) VALUES (8, 1, 'other')")
    rows = list(session.execute("SELECT c, v FROM t WHERE k = 7"))
    assert [(r.c, r.v) for r in rows] == [(3, "v3"), (2, "v2"), (1, "v1")]
    rows = list(session.execute("SELECT c FROM t WHERE k = 7 AND c >= 2 ORDER BY c ASC"))
    assert [r.c for r in rows] == [2, 3]


def test_prepared_statements_route_and_bind(session, keyspace):
    session.execute("CREATE TABLE t (a int, b text, c bigint, PRIMARY KEY ((a, b), c))")
    ins = session.prepare("INSERT INTO t (a, b, c) VALUES (?, ?, ?)")
    assert ins.routing_key_indexes == [0, 1]
    for i in range(5):
        session.execute(ins, (1, "x", i))
    sel = session.prepare("SELECT c FROM t WHERE a = ? AND b = ? AND c > ?")
    assert [r.c for r in session.execute(sel, (1, "x", 2))] == [3, 4]
    named = session.prepare("SELECT c FROM t WHERE a = :a AND b = :b LIMIT :n")
    assert [r.c for r in session.execute(named, {"a": 1, "b": "x", "n": 2})] == [0, 1]


def test_paging_through_ten_thousand_rows(session, keyspace):
    session.execute("CREATE TABLE t (k int, c int, v int, PRIMARY KEY (k, c))")
    ins = session.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)")
    from cassandra.concurrent import execute_concurrent_with_args

    execute_concurrent_with_args(session, ins, [(i % 7, i, i * 2) for i in range(10_000)], concurrency=200)
    stmt = SimpleStatement("SELECT k, c, v FROM t", fetch_size=100)
    result = session.execute(stmt)
    seen = []
    pages = 0
    while True:
        seen.extend((r.k, r.c, r.v) for r in result.current_rows)
        pages += 1
        if not result.has_more_pages:
            break
        result.fetch_next_page()
    assert len(seen) == 10_000
    assert len(set(seen)) == 10_000
    assert pages == 101  # 100 full pages, each with a paging state, then Cassandra's empty last page
    # Inside one partition, in clustering order, across page boundaries.
    within = [r.c for r in session.execute(SimpleStatement("SELECT c FROM t WHERE k = 3", fetch_size=33))]
    assert within == sorted(i for i in range(10_000) if i % 7 == 3)


def test_a_full_page_carries_a_paging_state_even_at_the_end(session, keyspace):
    # Cassandra's pager ends only on a short page, and clients loop "while the page is full" (ScyllaDB's
    # cqlpy does); a paging state of None there would send them back to the first page forever.
    session.execute("CREATE TABLE t (p int, c int, x int, PRIMARY KEY (p, c))")
    ins = session.prepare("INSERT INTO t (p, c, x) VALUES (?, ?, ?)")
    for i in range(10):
        session.execute(ins, (i, i, 3))
    session.execute(ins, (17, 17, 2))
    queries = (
        "SELECT p FROM t WHERE x = 3 ALLOW FILTERING",
        "SELECT p FROM t WHERE p IN (0,1,2,3,4,5,6,7,8,9)",
        "SELECT p FROM t WHERE x = 3 GROUP BY p ALLOW FILTERING",  # a page of groups, likewise
    )
    for query in queries:
        for page_size in (1, 2, 3, 5, 10, 11):
            stmt = SimpleStatement(query, fetch_size=page_size)
            result = session.execute(stmt)
            pages = [len(result.current_rows)]
            got = [r.p for r in result.current_rows]
            while len(result.current_rows) == page_size:
                assert result.paging_state is not None
                result = session.execute(stmt, paging_state=result.paging_state)
                pages.append(len(result.current_rows))
                got += [r.p for r in result.current_rows]
            assert result.paging_state is None
            assert sorted(got) == list(range(10)), (query, page_size)
            assert pages == [page_size] * (10 // page_size) + [10 % page_size], (query, page_size)
    # LIMIT ends the result itself: a page it fills exactly is the last one.
    stmt = SimpleStatement("SELECT p FROM t WHERE x = 3 LIMIT 4 ALLOW FILTERING", fetch_size=2)
    first = session.execute(stmt)
    second = session.execute(stmt, paging_state=first.paging_state)
    assert (len(first.current_rows), len(second.current_rows), second.paging_state) == (2, 2, None)


def test_thousand_concurrent_requests_on_one_connection(session, keyspace):
    session.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    ins = session.prepare("INSERT INTO t (k, v) VALUES (?, ?)")
    futures = [session.execute_async(ins, (i, i * 3)) for i in range(1000)]
    for f in futures:
        f.result()
    sel = session.prepare("SELECT v FROM t WHERE k = ?")
    futures = [(i, session.execute_async(sel, (i,))) for i in range(1000)]
    for i, f in futures:
        assert f.result().one().v == i * 3


def test_errors_keep_the_connection_usable(session, keyspace):
    with pytest.raises(SyntaxException):
        session.execute("SELEKT * FROM t")
    with pytest.raises(InvalidRequest, match="table nosuch does not exist"):
        session.execute("SELECT * FROM nosuch")
    with pytest.raises(InvalidRequest, match="keyspace nosuchks does not exist"):
        session.execute("SELECT * FROM nosuchks.t")
    session.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    with pytest.raises(InvalidRequest, match="Undefined column name nope"):
        session.execute("SELECT nope FROM t")
    with pytest.raises(InvalidRequest, match="Some partition key parts are missing: k"):
        session.execute("INSERT INTO t (v) VALUES (1)")
    with pytest.raises(InvalidRequest, match="ALLOW FILTERING"):
        session.execute("SELECT * FROM t WHERE v = 1")
    assert session.execute("SELECT count(*) FROM t").one()[0] == 0


@pytest.mark.parametrize("compression", [False, "lz4", "snappy"])
def test_compression(server, compression):
    c = make_cluster(server.port, compression=compression)
    try:
        s = c.connect()
        rows = list(s.execute("SELECT keyspace_name FROM system_schema.keyspaces"))
        assert "system" in {r.keyspace_name for r in rows}
        big = "x" * 50_000
        s.execute(
            "CREATE KEYSPACE IF NOT EXISTS comp WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        s.execute("CREATE TABLE IF NOT EXISTS comp.t (k int PRIMARY KEY, v text)")
        s.execute("INSERT INTO comp.t (k, v) VALUES (1, %s)", (big,))
        assert s.execute("SELECT v FROM comp.t WHERE k = 1").one().v == big
    finally:
        c.shutdown()


def test_restart_keeps_tables_and_rows(fresh_server):
    with connected(fresh_server.start()) as s:
        s.execute("CREATE KEYSPACE k1 WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 3}")
        s.execute("CREATE TABLE k1.t (k int PRIMARY KEY, v text)")
        s.execute("INSERT INTO k1.t (k, v) VALUES (1, 'kept')")
    assert fresh_server.stop() == 0
    with connected(fresh_server.start()) as s:
        assert s.execute("SELECT v FROM k1.t WHERE k = 1").one().v == "kept"
        strategy = s.cluster.metadata.keyspaces["k1"].replication_strategy
        assert strategy.export_for_schema().find("NetworkTopologyStrategy") > 0


def test_acknowledged_writes_survive_kill_9(fresh_server):
    with connected(fresh_server.start()) as s:
        create_keyspace(s, "k9")
        s.execute("CREATE TABLE k9.t (k int PRIMARY KEY, v int)")
        ins = s.prepare("INSERT INTO k9.t (k, v) VALUES (?, ?)")
        for i in range(300):
            s.execute(ins, (i, i))
        lwt = s.execute("INSERT INTO k9.t (k, v) VALUES (1000, 1) IF NOT EXISTS")
        assert lwt.was_applied
    fresh_server.kill9()
    with connected(fresh_server.start()) as s:
        assert s.execute("SELECT count(*) FROM k9.t").one()[0] == 301
        assert not s.execute("INSERT INTO k9.t (k, v) VALUES (1000, 2) IF NOT EXISTS").was_applied


def test_tracing_and_custom_payload_flags_do_not_break_requests(session, keyspace):
    session.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
    session.execute("INSERT INTO t (k, v) VALUES (1, 2)", trace=True)
    rs = session.execute("SELECT v FROM t WHERE k = 1", trace=True, custom_payload={"x": b"y"})
    assert rs.one().v == 2


def test_multi_column_equality_after_a_gap_is_filtered(session, keyspace):
    """(c2, c3) = (…) with c1 unrestricted can only be filtered, beside other filters or none."""
    session.execute("CREATE TABLE gap (p int, c1 int, c2 int, c3 int, v int, PRIMARY KEY (p, c1, c2, c3))")
    for i in range(3):
        for j in range(3):
            session.execute(f"INSERT INTO gap (p, c1, c2, c3, v) VALUES (0, {i}, {j}, {j}, {i})")
    rows = session.execute("SELECT c1, c2, c3 FROM gap WHERE p = 0 AND (c2, c3) = (1, 1) ALLOW FILTERING")
    assert [tuple(r) for r in rows] == [(0, 1, 1), (1, 1, 1), (2, 1, 1)]
    rows = session.execute("SELECT c1 FROM gap WHERE p = 0 AND (c2, c3) = (1, 1) AND v = 2 ALLOW FILTERING")
    assert [tuple(r) for r in rows] == [(2,)]
    with pytest.raises(InvalidRequest, match='PRIMARY KEY column "c2" cannot be restricted'):
        session.execute("SELECT c1 FROM gap WHERE p = 0 AND (c2, c3) = (1, 1)")


def test_secondary_index_duplicates_and_drop(session, keyspace):
    session.execute("CREATE TABLE idx (a int PRIMARY KEY, b int)")
    session.execute("CREATE INDEX by_b ON idx (b)")
    session.execute("CREATE INDEX IF NOT EXISTS by_b ON idx (b)")
    session.execute("CREATE INDEX IF NOT EXISTS other ON idx (b)")  # the same index by another name: nothing
    with pytest.raises(InvalidRequest, match="Index 'by_b' already exists"):
        session.execute("CREATE INDEX by_b ON idx (b)")
    with pytest.raises(InvalidRequest, match="Index other is a duplicate of existing index by_b"):
        session.execute("CREATE INDEX other ON idx (b)")
    for a, b in ((0, 0), (1, 1), (2, 2), (3, 1)):
        session.execute("INSERT INTO idx (a, b) VALUES (%s, %s)", (a, b))
    assert sorted(tuple(r) for r in session.execute("SELECT * FROM idx WHERE b = 1")) == [(1, 1), (3, 1)]
    session.execute("DROP INDEX by_b")
    with pytest.raises(InvalidRequest, match="ALLOW FILTERING"):
        session.execute("SELECT * FROM idx WHERE b = 1")
    session.execute("CREATE INDEX other ON idx (b)")  # free again once dropped
    assert len(list(session.execute("SELECT * FROM idx WHERE b = 1"))) == 2


def test_secondary_index_targets_cassandra_refuses(session, keyspace):
    session.execute("CREATE TABLE idxc (k int PRIMARY KEY, n counter)")
    session.execute(
        "CREATE TABLE idxt (k int PRIMARY KEY, d duration, ld list<duration>, s set<int>, fl frozen<list<int>>)"
    )
    for statement, text in (
        ("CREATE INDEX ON idxc (n)", "Secondary indexes are not supported on counter tables"),
        ("CREATE INDEX ON idxt (d)", "Secondary indexes are not supported on duration columns"),
        ("CREATE INDEX ON idxt (ld)", "Secondary indexes are not supported on collections containing durations"),
        ("CREATE INDEX ON idxt (k)", "Cannot create secondary index on the only partition key column k"),
        ("CREATE INDEX ON idxt (keys(s))", "Cannot create index on keys of column s with non-map type"),
        ("CREATE INDEX ON idxt (keys(fl))", "Cannot create keys() index on frozen column fl."),
        ("CREATE INDEX ON idxt (full(s))", "full() indexes can only be created on frozen collections"),
    ):
        with pytest.raises(InvalidRequest, match=re.escape(text)):
            session.execute(statement)
    session.execute("CREATE INDEX ON idxt (full(fl))")
    session.execute("CREATE INDEX ON idxt (s)")
