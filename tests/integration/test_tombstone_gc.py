"""Deletions older than gc_grace_seconds, and what they shadow, are swept; live data is untouched."""

from __future__ import annotations

import time

from tests.conftest import serving


def gc_stats(s) -> dict:
    return {r.name: r.value for r in s.execute("SELECT name, value FROM system_views.tombstone_gc")}


def test_tombstones_are_collected_after_gc_grace(tmp_path):
    with serving(tmp_path, env={"CQLD_TOMBSTONE_GC_INTERVAL_S": "1"}, keyspace="g") as (server, s):
        s.execute("CREATE TABLE g.t (k int, c int, v text, PRIMARY KEY (k, c)) WITH gc_grace_seconds = 0")
        s.execute("CREATE TABLE g.kept (k int PRIMARY KEY, v text)")  # default gc_grace: ten days
        for i in range(30):
            s.execute("INSERT INTO g.t (k, c, v) VALUES (%s, %s, 'x')", (i % 3, i))
            s.execute("INSERT INTO g.kept (k, v) VALUES (%s, 'x')", (i,))
        s.execute("DELETE FROM g.t WHERE k = 0")  # partition deletion
        s.execute("DELETE FROM g.t WHERE k = 1 AND c > 10")  # range deletion
        s.execute("DELETE v FROM g.t WHERE k = 2 AND c = 2")  # cell deletion
        for i in range(10):
            s.execute("DELETE FROM g.kept WHERE k = %s", (i,))
        time.sleep(0.01)
        deadline = time.monotonic() + 15
        while gc_stats(s)["rows_removed"] < 3 * (10 + 6) and time.monotonic() < deadline:
            time.sleep(0.3)
        stats = gc_stats(s)
        # 10 rows of partition 0 and 6 rows of k = 1 (c > 10), on each of 3 replicas.
        assert stats["rows_removed"] >= 3 * 16
        got = sorted((r.k, r.c, r.v) for r in s.execute("SELECT k, c, v FROM g.t"))
        assert got == sorted(
            [(1, c, "x") for c in range(30) if c % 3 == 1 and c <= 10]
            + [(2, c, None if c == 2 else "x") for c in range(30) if c % 3 == 2]
        )
        # gc_grace_seconds not reached: the deletions stay and keep shadowing.
        assert sorted(r.k for r in s.execute("SELECT k FROM g.kept")) == list(range(10, 30))


def test_collection_tombstones_are_collected_without_resurrecting_elements(tmp_path):
    with serving(tmp_path, env={"CQLD_TOMBSTONE_GC_INTERVAL_S": "1"}, keyspace="g") as (server, s):
        s.execute("CREATE TABLE g.c (k int PRIMARY KEY, l list<int>, m map<int, int>) WITH gc_grace_seconds = 0")
        s.execute("INSERT INTO g.c (k, l, m) VALUES (1, [1, 2, 3], {1: 1, 2: 2})")
        s.execute("UPDATE g.c SET l = [9] WHERE k = 1")  # collection tombstone + a new element
        s.execute("DELETE m[1] FROM g.c WHERE k = 1")  # element tombstone
        deadline = time.monotonic() + 15
        while gc_stats(s)["rows_rewritten"] < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert gc_stats(s)["rows_rewritten"] >= 3
        row = s.execute("SELECT l, m FROM g.c WHERE k = 1").one()
        assert row.l == [9] and dict(row.m) == {2: 2}
