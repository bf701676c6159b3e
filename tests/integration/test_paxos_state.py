"""Paxos state of settled rounds is purged, and nothing a client could observe changes."""

from __future__ import annotations

import time

from tests.conftest import ServerProcess, make_cluster


def test_settled_paxos_state_is_purged(tmp_path):
    server = ServerProcess(
        tmp_path / "data",
        env={"CQLD_PAXOS_STATE_RETENTION_S": "0", "CQLD_PAXOS_PURGE_INTERVAL_S": "1"},
    ).start()
    c = make_cluster(server.port)
    s = c.connect()
    try:
        s.execute("CREATE KEYSPACE p WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
        s.execute("CREATE TABLE p.t (k int PRIMARY KEY, v int)")
        for k in range(20):
            assert s.execute(f"INSERT INTO p.t (k, v) VALUES ({k}, 0) IF NOT EXISTS").was_applied
        before = s.execute("SELECT value FROM system_views.paxos_state").one().value
        assert before >= 20
        deadline = time.monotonic() + 10
        while s.execute("SELECT value FROM system_views.paxos_state").one().value and time.monotonic() < deadline:
            time.sleep(0.2)
        assert s.execute("SELECT value FROM system_views.paxos_state").one().value == 0
        old_wt = s.execute("SELECT writetime(v) FROM p.t WHERE k = 3").one()[0]
        # Conditions still see the data, and new ballots (write timestamps) stay above the purged ones.
        assert not s.execute("INSERT INTO p.t (k, v) VALUES (3, 9) IF NOT EXISTS").was_applied
        assert s.execute("UPDATE p.t SET v = 1 WHERE k = 3 IF v = 0").was_applied
        assert s.execute("SELECT writetime(v) FROM p.t WHERE k = 3").one()[0] > old_wt
    finally:
        c.shutdown()
        assert server.stop() == 0
