"""Replica shards seen from a client: consistency levels, stopped shards, Unavailable, catching up."""

from __future__ import annotations

import pytest
from cassandra import ConsistencyLevel, Unavailable
from cassandra.cluster import NoHostAvailable
from cassandra.query import SimpleStatement

from tests.conftest import connected, create_keyspace


@pytest.fixture
def node(fresh_server):
    with connected(fresh_server.start()) as s:
        create_keyspace(s, "r")
        s.execute("CREATE TABLE r.t (k int PRIMARY KEY, v int)")
        yield s


def at(cl, query):
    return SimpleStatement(query, consistency_level=cl)


def unavailable(exc) -> Unavailable:
    """The driver retries Unavailable on the next host; with one node it surfaces in NoHostAvailable."""
    if isinstance(exc, Unavailable):
        return exc
    assert isinstance(exc, NoHostAvailable), exc
    (inner,) = exc.errors.values()
    assert isinstance(inner, Unavailable), inner
    return inner


def set_alive(s, shard: int, alive: bool) -> None:
    s.execute(f"UPDATE system_views.replica_shards SET alive = {str(alive).lower()} WHERE shard = {shard}")


def test_shards_are_listed(node):
    rows = list(node.execute("SELECT shard, alive FROM system_views.replica_shards"))
    assert sorted((r.shard, r.alive) for r in rows) == [(0, True), (1, True), (2, True)]


def test_consistency_levels_meet_stopped_shards(node):
    s = node
    s.execute(at(ConsistencyLevel.ALL, "INSERT INTO r.t (k, v) VALUES (1, 1)"))
    set_alive(s, 0, False)
    with pytest.raises((Unavailable, NoHostAvailable)) as e:
        s.execute(at(ConsistencyLevel.ALL, "INSERT INTO r.t (k, v) VALUES (2, 2)"))
    err = unavailable(e.value)
    assert (err.consistency, err.required_replicas, err.alive_replicas) == (ConsistencyLevel.ALL, 3, 2)
    s.execute(at(ConsistencyLevel.QUORUM, "INSERT INTO r.t (k, v) VALUES (3, 3)"))
    assert s.execute(at(ConsistencyLevel.QUORUM, "SELECT v FROM r.t WHERE k = 3")).one().v == 3
    assert s.execute("INSERT INTO r.t (k, v) VALUES (4, 4) IF NOT EXISTS").was_applied
    set_alive(s, 1, False)
    with pytest.raises((Unavailable, NoHostAvailable)) as e:
        s.execute(at(ConsistencyLevel.QUORUM, "INSERT INTO r.t (k, v) VALUES (5, 5)"))
    assert unavailable(e.value).required_replicas == 2
    with pytest.raises((Unavailable, NoHostAvailable)) as e:
        s.execute("INSERT INTO r.t (k, v) VALUES (6, 6) IF NOT EXISTS")
    assert unavailable(e.value).consistency == ConsistencyLevel.SERIAL
    s.execute(at(ConsistencyLevel.ONE, "INSERT INTO r.t (k, v) VALUES (7, 7)"))
    set_alive(s, 0, True)
    set_alive(s, 1, True)
    # Restarted shards caught up before counting again: ALL reads see every acknowledged write.
    got = {r.k: r.v for r in s.execute(at(ConsistencyLevel.ALL, "SELECT k, v FROM r.t"))}
    assert got == {1: 1, 3: 3, 4: 4, 7: 7}
    for k in (3, 4, 7):
        assert s.execute(at(ConsistencyLevel.ALL, f"SELECT v FROM r.t WHERE k = {k}")).one().v == k


def test_bad_shard_updates_are_refused(node):
    from cassandra import InvalidRequest

    with pytest.raises(InvalidRequest, match="No replica shard 7"):
        set_alive(node, 7, False)
