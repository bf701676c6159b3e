"""Paxos state of settled rounds is purged, and nothing a client could observe changes."""

from __future__ import annotations

import time

import pytest

from tests.conftest import serving

PARTITIONS = "SELECT value FROM system_views.paxos_state WHERE name = 'partitions_with_state'"
STATE_BYTES = "SELECT value FROM system_views.paxos_state WHERE name = 'bytes'"
LOOKUPS = "SELECT value FROM system_views.lwt_stats WHERE name = 'paxos_state_lookups'"


# A network without faults that is not a direct call: every round is a general one (paxos.round), which
# leaves Paxos state behind; a one-pass round leaves none (paxos.fast).
GENERAL_ROUNDS = {"CQLD_PAXOS_FAULTS": "seed=1"}


@pytest.mark.parametrize("batch", ["2000", "7"])
def test_settled_paxos_state_is_purged(tmp_path, batch):
    env = {
        "CQLD_PAXOS_STATE_RETENTION_S": "0",
        "CQLD_PAXOS_PURGE_INTERVAL_S": "1",
        "CQLD_PAXOS_PURGE_BATCH": batch,
        **GENERAL_ROUNDS,
    }
    with serving(tmp_path, env=env, keyspace="p") as (server, s):
        s.execute("CREATE TABLE p.t (k int PRIMARY KEY, v int)")
        for k in range(20):
            assert s.execute(f"INSERT INTO p.t (k, v) VALUES ({k}, 0) IF NOT EXISTS").was_applied
        before = s.execute(PARTITIONS).one().value
        assert before >= 20
        assert s.execute(STATE_BYTES).one().value > before * 40  # a key and a ballot each, at least
        deadline = time.monotonic() + 10
        while s.execute(PARTITIONS).one().value and time.monotonic() < deadline:
            time.sleep(0.2)
        assert s.execute(PARTITIONS).one().value == 0
        assert s.execute(STATE_BYTES).one().value == 0
        old_wt = s.execute("SELECT writetime(v) FROM p.t WHERE k = 3").one()[0]
        # With no state left anywhere, a round looks none up; the state it stores makes the next one look.
        before = s.execute(LOOKUPS).one().value
        assert s.execute("INSERT INTO p.t (k, v) VALUES (100, 0) IF NOT EXISTS").was_applied
        assert s.execute(LOOKUPS).one().value == before
        assert s.execute("INSERT INTO p.t (k, v) VALUES (101, 0) IF NOT EXISTS").was_applied
        assert s.execute(LOOKUPS).one().value > before
        # Conditions still see the data, and new ballots (write timestamps) stay above the purged ones.
        assert not s.execute("INSERT INTO p.t (k, v) VALUES (3, 9) IF NOT EXISTS").was_applied
        assert s.execute("UPDATE p.t SET v = 1 WHERE k = 3 IF v = 0").was_applied
        assert s.execute("SELECT writetime(v) FROM p.t WHERE k = 3").one()[0] > old_wt


def test_one_pass_rounds_leave_no_paxos_state_and_a_floor_above_their_ballots(tmp_path):
    """Uncontended LWTs with every replica up leave no Paxos state at all: the engine write with their rows
    raises the ballot floor instead, from which the clock starts after a restart."""
    from paxos.ballot import Ballot, ballot_micros
    from server.paxos_store import HIGHEST_BALLOT_KEY

    with serving(tmp_path, keyspace="n") as (_server, s):
        s.execute("CREATE TABLE n.t (k int PRIMARY KEY, v int)")
        for k in range(20):
            assert s.execute(f"INSERT INTO n.t (k, v) VALUES ({k}, 0) IF NOT EXISTS").was_applied
        assert s.execute("UPDATE n.t SET v = 1 WHERE k = 3 IF v = 0").was_applied
        assert not s.execute("INSERT INTO n.t (k, v) VALUES (3, 9) IF NOT EXISTS").was_applied
        assert s.execute(PARTITIONS).one().value == 0
        newest = max(r[0] for r in s.execute("SELECT writetime(v) FROM n.t"))
    engine = _stopped_server_engine(tmp_path)
    floor = ballot_micros(Ballot.from_bytes(engine.get(HIGHEST_BALLOT_KEY)))
    engine.close()
    assert floor >= newest
    with serving(tmp_path) as (_server, s):
        assert s.execute("UPDATE n.t SET v = 2 WHERE k = 3 IF v = 1").was_applied
        assert s.execute("SELECT writetime(v) FROM n.t WHERE k = 3").one()[0] > floor


def test_a_conditional_batch_over_several_partitions_raises_the_floor_above_its_timestamp(tmp_path):
    """With lwt_cross_partition_batches, such a batch writes its rows without Paxos state: the ballot floor
    must be above their timestamp, so that the clock starts above it after a restart."""
    from paxos.ballot import Ballot, ballot_micros
    from server.paxos_store import HIGHEST_BALLOT_KEY

    with serving(tmp_path, env={"CQLD_LWT_CROSS_PARTITION_BATCHES": "true"}, keyspace="x") as (_server, s):
        s.execute("CREATE TABLE x.t (k int PRIMARY KEY, v int)")
        batch = (
            "BEGIN BATCH INSERT INTO x.t (k, v) VALUES (1, 1) IF NOT EXISTS; "
            "INSERT INTO x.t (k, v) VALUES (2, 2) IF NOT EXISTS; APPLY BATCH"
        )
        assert s.execute(batch).was_applied
        written = max(r[0] for r in s.execute("SELECT writetime(v) FROM x.t"))
    engine = _stopped_server_engine(tmp_path)
    raw = engine.get(HIGHEST_BALLOT_KEY)
    engine.close()
    assert raw is not None and ballot_micros(Ballot.from_bytes(raw)) >= written


def serial_read(session, stmt):
    from cassandra import ReadTimeout

    for _ in range(20):
        try:
            return session.execute(stmt, timeout=10).one().v
        except ReadTimeout:
            continue
    raise AssertionError("SERIAL read kept timing out")


def test_fault_injection_keeps_lwts_linearizable(tmp_path):
    """With a lossy, slow network between coordinator and shards, LWTs time out or apply — never both."""
    from cassandra import ConsistencyLevel, WriteTimeout
    from cassandra.query import SimpleStatement

    with serving(tmp_path, env={"CQLD_PAXOS_FAULTS": "seed=7,drop=0.2,delay_ms=2,duplicate=0.05"}, keyspace="f") as (
        server,
        s,
    ):
        s.execute("CREATE TABLE f.t (k int PRIMARY KEY, v int)")
        s.execute("INSERT INTO f.t (k, v) VALUES (0, 0)")
        value = 0
        timeouts = 0
        for _ in range(40):
            try:
                if s.execute(f"UPDATE f.t SET v = {value + 1} WHERE k = 0 IF v = {value}").was_applied:
                    value += 1
            except WriteTimeout as e:
                timeouts += 1
                assert e.write_type == 5  # WriteType.CAS
                # The outcome is unknown until a SERIAL read finishes (or fences) the round in flight.
                serial = SimpleStatement("SELECT v FROM f.t WHERE k = 0", consistency_level=ConsistencyLevel.SERIAL)
                value = serial_read(s, serial)
        final = s.execute("SELECT v FROM f.t WHERE k = 0").one().v
        assert final == value and value > 0
        assert timeouts < 40


def test_lwt_counters(session, keyspace):
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement

    def stats():
        return {r.name: r.value for r in session.execute("SELECT name, value FROM system_views.lwt_stats")}

    session.execute("CREATE TABLE c (k int PRIMARY KEY, v int)")
    before = stats()
    assert session.execute("INSERT INTO c (k, v) VALUES (1, 1) IF NOT EXISTS").was_applied
    assert not session.execute("INSERT INTO c (k, v) VALUES (1, 2) IF NOT EXISTS").was_applied
    after = stats()
    assert after["applied"] - before["applied"] == 1
    assert after["not_applied"] - before["not_applied"] == 1
    assert after["paxos_rounds"] - before["paxos_rounds"] >= 2
    # Nothing contended, every replica up: both rounds run as one pass over the replicas' states.
    assert after["paxos_one_pass_rounds"] - before["paxos_one_pass_rounds"] == 2
    assert after["latency_mean_us"] > 0
    # Promises, accepts, commits and the data of all three replicas go to the engine together; the
    # not-applied round, which proposes nothing, writes nothing (paxos.fast).
    assert after["paxos_engine_writes"] - before["paxos_engine_writes"] == 1
    # A SERIAL read is a round without a proposal too.
    serial = SimpleStatement("SELECT v FROM c WHERE k = 1", consistency_level=ConsistencyLevel.SERIAL)
    assert session.execute(serial).one().v == 1
    later = stats()
    assert later["paxos_one_pass_rounds"] - after["paxos_one_pass_rounds"] == 1
    assert later["paxos_engine_writes"] == after["paxos_engine_writes"]


def _lwt_rows_written(tmp_path, keyspace: str, rows: dict, env: dict | None = None) -> None:
    """A server of its own writes `rows` (k -> v) into `keyspace`.t with IF NOT EXISTS, then stops."""
    with serving(tmp_path, env=env, keyspace=keyspace) as (_server, s):
        s.execute(f"CREATE TABLE {keyspace}.t (k int PRIMARY KEY, v int)")
        for k, v in rows.items():
            assert s.execute(f"INSERT INTO {keyspace}.t (k, v) VALUES ({k}, {v}) IF NOT EXISTS").was_applied


def _stopped_server_engine(tmp_path):
    """The engine of the data dir `serving(tmp_path)` uses, opened while no server runs."""
    from storage.engine import Engine

    return Engine(str(tmp_path / "data" / "db"))


def test_paxos_state_of_an_earlier_data_dir_is_converted_with_its_proposal_in_flight(tmp_path):
    """A data dir written before the one-value-per-partition layout (one value per replica): after a
    restart every decided value reads back, and a proposal accepted by one replica only is completed by
    the next SERIAL read, as Paxos requires."""
    import marshal

    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement

    from paxos.ballot import ballot_from_micros, ballot_micros
    from server.paxos_store import decode_entry
    from storage.mutation import Mutation
    from storage.replica import LEGACY_PAXOS_PREFIX, PAXOS_PREFIX, Replica, decode_paxos_key, partition_suffix

    _lwt_rows_written(tmp_path, "m", {k: k for k in range(5)}, GENERAL_ROUNDS)

    # Rewrite the state as the earlier layout stored it, and leave k = 2 with a newer proposal (v = 20)
    # accepted by replica 0 only: decided or not, a later round must finish it before reading.
    engine = _stopped_server_engine(tmp_path)
    new_keys, legacy = [], []
    for key_bytes, raw in list(engine.scan(PAXOS_PREFIX, bytes([PAXOS_PREFIX[0] + 1]))):
        key = decode_paxos_key(key_bytes)
        new_keys.append(key_bytes)
        for shard, st in decode_entry(raw, key).items():
            c = st.committed
            assert c.update is not None
            table_id, token, pk = key
            _header, written = Replica(engine, shard).read_row(table_id, token, pk, b"")
            committed = (c.ballot.bytes, key, Mutation(table_id, pk, token, rows=written).to_bytes())
            accepted = None
            if shard == 0 and key[2] == (2).to_bytes(4, "big"):
                newer = ballot_from_micros(ballot_micros(c.ballot) + 100, node=1)
                m = Mutation.from_bytes(committed[2])
                ts = ballot_micros(newer)
                m.rows = [
                    (ck, [(ts, 0, 0), None, {"v": (ts, (20).to_bytes(4, "big"), 0, 0)}, row[3]]) for ck, row in m.rows
                ]
                accepted = (newer.bytes, key, m.to_bytes())
                promised = newer.bytes
            else:
                promised = st.promised.bytes
            legacy_key = LEGACY_PAXOS_PREFIX + bytes([shard]) + key[0] + partition_suffix(key[1], key[2])
            legacy.append((legacy_key, marshal.dumps((promised, accepted, committed))))
    assert len(new_keys) == 5 and len(legacy) == 15
    engine.write(legacy, new_keys)
    engine.close()

    with serving(tmp_path) as (_server, s):
        assert [r.v for r in s.execute("SELECT v FROM m.t WHERE k IN (0, 1, 3, 4)")] == [0, 1, 3, 4]
        serial = SimpleStatement("SELECT v FROM m.t WHERE k = 2", consistency_level=ConsistencyLevel.SERIAL)
        assert s.execute(serial).one().v == 20  # the in-flight proposal was completed
        assert s.execute("SELECT v FROM m.t WHERE k = 2").one().v == 20
        assert s.execute("UPDATE m.t SET v = 21 WHERE k = 2 IF v = 20").was_applied
        # The converted states stay until purged, but k = 2's went with that one-pass round.
        assert s.execute(PARTITIONS).one().value == 4
        assert s.execute("SELECT v FROM m.t WHERE k = 2").one().v == 21


def test_paxos_state_left_for_a_dropped_table_is_purged(tmp_path):
    """A round still in flight when its table was dropped (possible under paxos_faults) can write the
    partition's state back after DROP TABLE deleted it: the purge removes such state at once, whatever
    the retention, and keeps its ballot as the highest seen."""
    import uuid

    from paxos.ballot import ballot_from_micros, ballot_micros
    from paxos.messages import PaxosState
    from server.paxos_store import encode_entry
    from storage.replica import paxos_key

    env = {"CQLD_PAXOS_STATE_RETENTION_S": "3600", "CQLD_PAXOS_PURGE_INTERVAL_S": "1"}
    _lwt_rows_written(tmp_path, "o", dict.fromkeys(range(3), 0), {**env, **GENERAL_ROUNDS})

    orphan = ballot_from_micros(int(time.time() * 1e6) + 3_600_000_000, node=9)  # an hour ahead of the clock
    engine = _stopped_server_engine(tmp_path)
    engine.write([(paxos_key(uuid.uuid4().bytes, 7, b"\x00\x00\x00\x01"), encode_entry({0: PaxosState(orphan)}))])
    engine.close()

    with serving(tmp_path, env=env) as (_server, s):
        count = PARTITIONS
        deadline = time.monotonic() + 10
        while s.execute(count).one().value != 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert s.execute(count).one().value == 3  # the orphan went, the table's own state stayed
    with serving(tmp_path, env=env) as (_server, s):  # the orphan is no longer on disk
        assert s.execute("UPDATE o.t SET v = 1 WHERE k = 0 IF v = 0").was_applied
        wt = s.execute("SELECT writetime(v) FROM o.t WHERE k = 0").one()[0]
        assert wt > ballot_micros(orphan)  # its ballot was kept: new ballots stay above it


def test_lwts_go_on_after_the_replication_factor_grows(tmp_path):
    """Rounds at RF 1 leave no Paxos state. After a restart and a move to RF 3, the two new replicas (no
    data yet, no state) take part in the next rounds, and every LWT still sees what the earlier ones
    wrote."""
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement

    with serving(tmp_path, keyspace="grow", rf=1) as (_server, s):
        s.execute("CREATE TABLE grow.t (k int PRIMARY KEY, v int)")
        for k in range(10):
            assert s.execute(f"INSERT INTO grow.t (k, v) VALUES ({k}, {k}) IF NOT EXISTS").was_applied
    with serving(tmp_path) as (_server, s):
        s.execute("ALTER KEYSPACE grow WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
        for k in range(10):
            rs = s.execute(f"INSERT INTO grow.t (k, v) VALUES ({k}, 99) IF NOT EXISTS")
            assert not rs.was_applied and rs.one().v == k
            assert s.execute(f"UPDATE grow.t SET v = {k + 100} WHERE k = {k} IF v = {k}").was_applied
        serial = SimpleStatement("SELECT k, v FROM grow.t WHERE k = 4", consistency_level=ConsistencyLevel.SERIAL)
        assert s.execute(serial).one().v == 104
        # The updates reached all three replicas: a quorum of them answers without the first one.
        quorum = SimpleStatement("SELECT v FROM grow.t WHERE k = 7", consistency_level=ConsistencyLevel.QUORUM)
        assert s.execute(quorum).one().v == 107
        assert s.execute(PARTITIONS).one().value == 0
