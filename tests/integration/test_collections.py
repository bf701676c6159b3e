"""Non-frozen collections are one cell per element: element writes merge by their own timestamps."""

from __future__ import annotations

import pytest
from cassandra import InvalidRequest


@pytest.fixture
def coll(session, keyspace):
    session.execute("CREATE TABLE c (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>)")
    return session


def one(s, cols="l, s, m"):
    return s.execute(f"SELECT {cols} FROM c WHERE k = 1").one()


def test_appends_prepends_and_positions(coll):
    s = coll
    s.execute("INSERT INTO c (k, l) VALUES (1, [1, 2])")
    s.execute("UPDATE c SET l = l + [3, 4] WHERE k = 1")
    s.execute("UPDATE c SET l = [0] + l WHERE k = 1")
    assert one(s).l == [0, 1, 2, 3, 4]
    s.execute("UPDATE c SET l[2] = 20 WHERE k = 1")
    s.execute("DELETE l[0] FROM c WHERE k = 1")
    s.execute("UPDATE c SET l = l - [3] WHERE k = 1")
    assert one(s).l == [1, 20, 4]
    with pytest.raises(InvalidRequest, match="List index 7 out of bound, list has size 3"):
        s.execute("UPDATE c SET l[7] = 1 WHERE k = 1")
    s.execute("UPDATE c SET l = [9] WHERE k = 1")
    assert one(s).l == [9]


def test_element_writes_merge_by_timestamp(coll):
    s = coll
    # Two appends with timestamps out of order both survive; an older overwrite does not erase a newer
    # element (last write wins per element, as in Cassandra).
    s.execute("UPDATE c USING TIMESTAMP 2000 SET s = s + {'b'}, m['x'] = 2 WHERE k = 1")
    s.execute("UPDATE c USING TIMESTAMP 1000 SET s = s + {'a'}, m['y'] = 1 WHERE k = 1")
    assert one(s).s == {"a", "b"} and dict(one(s).m) == {"x": 2, "y": 1}
    s.execute("UPDATE c USING TIMESTAMP 1500 SET s = {'z'} WHERE k = 1")
    assert one(s).s == {"b", "z"}
    s.execute("UPDATE c USING TIMESTAMP 3000 SET m = m - {'x'}, s = s - {'b'} WHERE k = 1")
    assert dict(one(s).m) == {"y": 1} and one(s).s == {"z"}
    s.execute("DELETE m['y'] FROM c USING TIMESTAMP 3001 WHERE k = 1")
    assert one(s).m is None


def test_element_ttl_and_null(coll):
    s = coll
    s.execute("INSERT INTO c (k, s) VALUES (1, {'keep'})")
    s.execute("UPDATE c USING TTL 1 SET s = s + {'brief'} WHERE k = 1")
    assert one(s).s == {"brief", "keep"}
    import time

    time.sleep(2.1)
    assert one(s).s == {"keep"}
    s.execute("UPDATE c SET s = null WHERE k = 1")
    assert one(s).s is None


def test_batch_appends_all_survive_and_conditions_see_collections(coll):
    s = coll
    s.execute("BEGIN BATCH UPDATE c SET l = l + [1] WHERE k = 1; UPDATE c SET l = l + [2] WHERE k = 1; APPLY BATCH")
    assert one(s).l == [1, 2]
    assert s.execute("UPDATE c SET m['a'] = 1 WHERE k = 1 IF l = [1, 2]").was_applied
    assert s.execute("UPDATE c SET l = l + [3] WHERE k = 1 IF m['a'] = 1").was_applied
    assert one(s).l == [1, 2, 3]
    with pytest.raises(InvalidRequest, match="non-frozen collection"):
        s.execute("SELECT writetime(l) FROM c")


def test_prepends_in_one_batch_go_first_in_statement_order(coll):
    s = coll
    s.execute("INSERT INTO c (k, l) VALUES (1, [9])")
    s.execute("BEGIN BATCH UPDATE c SET l = [1] + l WHERE k = 1; UPDATE c SET l = [2, 3] + l WHERE k = 1; APPLY BATCH")
    assert one(s).l == [2, 3, 1, 9]
