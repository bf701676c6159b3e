"""Native functions in terms and selections, and arithmetic."""

from __future__ import annotations

import datetime

from cassandra.util import Date


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
