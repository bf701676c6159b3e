"""The replica shards' Paxos state written behind: one engine write per round, never a stale read."""

from __future__ import annotations

import marshal
import random
import uuid

import pytest

from paxos import Acceptor, LocalTransport
from paxos.ballot import Ballot, ballot_from_micros, ballot_micros
from paxos.fast import fast_round
from paxos.messages import Commit, PaxosState, Prepare, Proposal, Propose
from server.paxos_store import (
    APPLIED,
    FLOOR_AHEAD_MICROS,
    HIGHEST_BALLOT_KEY,
    ShardGroup,
    ShardPaxos,
    StagedWrites,
    decode_entry,
    encode_entry,
    entry_summary,
    migrate,
)
from storage.engine import Engine
from storage.mutation import Mutation
from storage.replica import (
    LEGACY_PAXOS_PREFIX,
    PAXOS_PREFIX,
    Replica,
    decode_paxos_key,
    partition_suffix,
    paxos_key,
)

TABLE = uuid.uuid4().bytes
PK = b"\x00\x00\x00\x07"
KEY = (TABLE, 42, PK)


class CountingEngine(Engine):
    """Records every write batch and every key looked up."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.batches: list[list[tuple[bytes, bytes]]] = []
        self.gets: list[bytes] = []

    def write(self, puts, deletes=()):
        self.batches.append(list(puts))
        super().write(puts, deletes)

    def get(self, key):
        self.gets.append(key)
        return super().get(key)


@pytest.fixture
def shards(tmp_path):
    engine = CountingEngine(str(tmp_path / "db"))
    staged = StagedWrites(engine)
    backends = {n: ShardPaxos(Replica(engine, n), staged) for n in range(3)}
    transport = LocalTransport({n: Acceptor(b) for n, b in backends.items()}, sync=staged.flush_data)
    yield engine, staged, backends, transport
    engine.close()


def mutation(value: bytes, ts: int) -> Mutation:
    m = Mutation(TABLE, PK, 42)
    m.rows.append((b"", [(ts, 0, 0), None, {"v": (ts, value, 0, 0)}, []]))
    return m


def test_a_whole_round_is_one_engine_write_with_every_replica(shards):
    engine, staged, backends, transport = shards
    b = ballot_from_micros(1_700_000_000_000_000, 1)
    proposal = Proposal(b, KEY, mutation(b"x", 1_700_000_000_000_000))
    transport.broadcast([0, 1, 2], Prepare(b, KEY, {}))
    transport.broadcast([0, 1, 2], Propose(proposal))
    assert engine.batches == []  # promises and accepts are staged
    assert backends[1].load_state(KEY).accepted == proposal  # ... and read back from memory
    transport.broadcast([0, 1, 2], Commit(proposal))
    (batch,) = engine.batches
    paxos_puts = [(k, v) for k, v in batch if k.startswith(PAXOS_PREFIX)]
    assert len(batch) == 4  # the row on three replicas, and the partition's Paxos state: one value
    ((k, v),) = paxos_puts
    assert decode_paxos_key(k) == KEY
    entry = decode_entry(v, KEY)
    assert entry == {n: PaxosState(b, None, proposal) for n in range(3)}
    assert entry[0].committed is entry[1].committed is entry[2].committed  # the update is stored once
    assert len(v) < 2 * len(proposal.update.to_bytes())
    for n in range(3):  # committed data is readable as soon as the broadcast returns
        _header, rows = backends[n].read(KEY, {})
        assert rows[0][1][2]["v"][1] == b"x"


def test_a_state_evicted_from_the_cache_is_found_among_the_staged_writes(shards, monkeypatch):
    engine, staged, backends, transport = shards
    monkeypatch.setattr(StagedWrites, "CACHE_LIMIT", 1)
    b = ballot_from_micros(1_700_000_000_000_000, 1)
    transport.broadcast([0], Prepare(b, KEY, {}))
    other = (TABLE, 43, b"\x00\x00\x00\x08")
    transport.broadcast([0], Prepare(b, other, {}))  # pushes KEY out of the cache
    assert KEY not in staged.cache and engine.batches == []
    assert backends[0].load_state(KEY).promised == b
    assert backends[1].load_state(KEY).promised is None  # shard 1 never saw that prepare
    staged.flush()
    staged.cache.clear()
    assert backends[0].load_state(KEY).promised == b and len(engine.batches) == 1


def test_the_cache_evicts_the_least_recently_changed_partition(shards, monkeypatch):
    engine, staged, _backends, transport = shards
    monkeypatch.setattr(StagedWrites, "CACHE_LIMIT", 2)
    b = ballot_from_micros(1_700_000_000_000_000, 1)
    a, c = (TABLE, 43, b"\x00\x00\x00\x08"), (TABLE, 44, b"\x00\x00\x00\x09")
    staged.entry(KEY)
    staged.entry(a)
    transport.broadcast([0], Prepare(b, KEY, {}))  # KEY changed after `a` was read: `a` is older now
    staged.entry(c)
    assert list(staged.cache) == [KEY, c]
    engine.gets.clear()
    assert staged.entry(KEY)[0].promised == b and engine.gets == []  # still answered from memory


def test_a_lost_process_loses_staged_steps_of_every_replica_together(shards, tmp_path):
    engine, staged, backends, transport = shards
    b1 = ballot_from_micros(1_700_000_000_000_000, 1)
    p1 = Proposal(b1, KEY, mutation(b"one", 1_700_000_000_000_000))
    for msg in (Prepare(b1, KEY, {}), Propose(p1), Commit(p1)):
        transport.broadcast([0, 1, 2], msg)
    b2 = ballot_from_micros(1_700_000_000_000_100, 1)
    p2 = Proposal(b2, KEY, mutation(b"two", 1_700_000_000_000_100))
    transport.broadcast([0, 1, 2], Prepare(b2, KEY, {}))
    transport.broadcast([0, 1, 2], Propose(p2))
    # The process dies here: what a fresh start reads is the state after the first round on every
    # replica — as if the second round's messages had been lost, which Paxos tolerates.
    staged.states.clear()
    fresh_staged = StagedWrites(engine)
    fresh = {n: ShardPaxos(Replica(engine, n), fresh_staged) for n in range(3)}
    for n in range(3):
        assert fresh[n].load_state(KEY) == PaxosState(b1, None, p1)


def test_the_commit_merges_into_the_row_its_prepare_read_unless_something_was_written_since(tmp_path):
    engine = CountingEngine(str(tmp_path / "db"))
    replica = Replica(engine, 0)
    staged = StagedWrites(engine)
    shard = ShardPaxos(replica, staged)
    point = {"start": b"", "end": b"\x00"}
    engine.write([], [])  # any write moves the generation
    shard.read(KEY, point)
    engine.gets.clear()
    replica.stage(mutation(b"a", 10), staged.data)
    assert engine.gets == []  # the row and header just read are current: no second lookup
    staged.flush()
    # A write between the read and the merge (another request, under a faulty network) must be seen.
    shard.read(KEY, point)
    replica.stage(mutation(b"b", 20), staged.data)  # a plain write of a newer value...
    staged.flush()
    engine.gets.clear()
    replica.stage(mutation(b"c", 15), staged.data)  # ...then a commit staged from the stale read
    assert engine.gets  # read again
    staged.flush()
    _header, rows = shard.read(KEY, point)
    assert rows[0][1][2]["v"][1] == b"b"  # newest timestamp wins: the write in between is not lost
    engine.close()


def test_state_stored_one_value_per_replica_is_converted_at_start(tmp_path):
    import marshal

    engine = Engine(str(tmp_path / "db"))
    b1 = ballot_from_micros(1_700_000_000_000_000, 1)
    b2 = ballot_from_micros(1_700_000_000_000_500, 1)
    p1 = Proposal(b1, KEY, mutation(b"one", 1_700_000_000_000_000))
    other = (TABLE, -5, b"\x00\x00\x00\x09")

    def legacy_key(shard, key):
        return LEGACY_PAXOS_PREFIX + bytes([shard]) + key[0] + partition_suffix(key[1], key[2])

    def legacy(p):
        return None if p is None else (p.ballot.bytes, p.key, None if p.update is None else p.update.to_bytes())

    old = {
        legacy_key(0, KEY): (b2.bytes, None, legacy(p1)),
        legacy_key(1, KEY): (b1.bytes, None, legacy(p1)),
        legacy_key(2, KEY): (b2.bytes, legacy(Proposal(b2, KEY, None)), None),  # an empty proposal accepted
        legacy_key(1, other): (b1.bytes, None, None),
    }
    engine.write([(k, marshal.dumps(v)) for k, v in old.items()])
    assert migrate(engine, batch=2) == 4  # chunks of 2: a partition's replicas meet across chunks
    assert list(engine.scan(LEGACY_PAXOS_PREFIX, PAXOS_PREFIX)) == []
    shards = {n: ShardPaxos(Replica(engine, n), StagedWrites(engine)) for n in range(3)}
    assert shards[0].load_state(KEY) == PaxosState(b2, None, p1)
    assert shards[1].load_state(KEY) == PaxosState(b1, None, p1)
    assert shards[2].load_state(KEY) == PaxosState(b2, Proposal(b2, KEY, None), None)
    assert shards[1].load_state(other) == PaxosState(b1, None, None)
    assert shards[0].load_state(other) == PaxosState()
    assert migrate(engine) == 0  # nothing left to convert
    engine.close()


def test_the_purge_judges_an_entry_from_its_summary_in_either_layout():
    import marshal

    from server.paxos_store import encode_entry, entry_summary

    b1, b2, b3 = (ballot_from_micros(1_700_000_000_000_000 + n, 1) for n in (1, 2, 3))
    done = Proposal(b1, KEY, mutation(b"x", 1))
    in_flight = Proposal(b2, KEY, mutation(b"y", 2))
    settled = {0: PaxosState(b3, None, done), 1: PaxosState(b1, None, done), 2: PaxosState()}
    busy = {**settled, 2: PaxosState(b2, in_flight, None)}  # accepted, newer than its commit (none)
    assert entry_summary(encode_entry(settled)) == (b3, True)
    assert entry_summary(encode_entry(busy)) == (b3, False)
    assert entry_summary(encode_entry({0: PaxosState()})) == (None, True)
    # Entries written before the summary led the value: {shard: (promised, accepted, committed)} alone.
    old_busy = marshal.dumps(
        {
            0: (b3.bytes, None, (b1.bytes, done.update.to_bytes())),
            2: (b2.bytes, (b2.bytes, in_flight.update.to_bytes()), None),
        }
    )
    assert entry_summary(old_busy) == (b3, False)
    assert decode_entry(old_busy, KEY)[2] == PaxosState(b2, in_flight, None)
    assert decode_entry(encode_entry(busy), KEY) == busy


def test_replicas_staged_together_keep_their_own_rows(tmp_path):
    """`stage_on` merges once for replicas holding the same old row, and each replica's own row otherwise."""
    from storage.replica import read_rows, stage_on

    engine = Engine(str(tmp_path / "db"))
    replicas = [Replica(engine, n) for n in range(3)]
    pending: dict[bytes, bytes] = {}
    stage_on(replicas, mutation(b"a", 10), pending)
    engine.write(list(pending.items()))
    pending = {}
    replicas[2].stage(mutation(b"z", 30), pending)  # replica 2 alone holds a newer value
    engine.write(list(pending.items()))
    read_rows(replicas, TABLE, 42, PK, b"")  # replicas 0 and 1 now share one decoded row
    pending = {}
    stage_on(replicas, mutation(b"b", 20), pending)
    assert len(pending) == 3
    engine.write(list(pending.items()))
    rows = [r.read_row(TABLE, 42, PK, b"")[1][0][1] for r in replicas]
    assert [row[2]["v"][1] for row in rows] == [b"b", b"b", b"z"]  # the newest write wins on each
    assert rows[0][0][0] == 20 and rows[2][0][0] == 30  # and so does each row's marker
    engine.close()


def test_replicas_in_one_state_encode_as_replicas_in_equal_states():
    """`encode_entry` takes a short cut when every replica holds the one state a round left; the value
    (states and summary) must be the one the general encoding gives for equal, separate states."""
    import marshal

    from server.paxos_store import encode_entry, entry_summary

    b = [ballot_from_micros(1_700_000_000_000_000 + m, 1) for m in range(3)]
    done = Proposal(b[1], KEY, mutation(b"a", 10))
    cases = [(b[1], done), (b[2], done), (b[0], done), (None, None), (b[2], None), (b[1], Proposal(b[1], KEY, None))]
    for promised, committed in cases:
        shared = encode_entry(dict.fromkeys(range(3), PaxosState(promised, None, committed)))
        separate = encode_entry({n: PaxosState(promised, None, committed) for n in range(3)})
        assert marshal.loads(shared) == marshal.loads(separate), (promised, committed)
        assert entry_summary(shared) == entry_summary(separate)
        assert decode_entry(shared, KEY) == decode_entry(separate, KEY)


def test_an_entry_round_trips_with_its_newest_ballot_and_whether_it_is_settled():
    rnd = random.Random(7)
    base = 1_700_000_000_000_000

    def ballot():
        return ballot_from_micros(base + rnd.randrange(50), rnd.randrange(3))

    for _ in range(500):
        proposals = [Proposal(ballot(), KEY, rnd.choice([None, APPLIED, mutation(b"v", base)])) for _ in range(3)]
        states = [
            PaxosState(rnd.choice([None, ballot()]), rnd.choice([None, *proposals]), rnd.choice([None, *proposals]))
            for _ in range(3)
        ]
        entry = {shard: rnd.choice(states) for shard in range(rnd.randrange(4))}
        raw = encode_entry(entry)
        assert decode_entry(raw, KEY) == entry
        ballots = [
            b
            for st in entry.values()
            for b in (st.promised, st.accepted and st.accepted.ballot, st.committed and st.committed.ballot)
            if b is not None
        ]
        settled = all(
            st.accepted is None or (st.committed is not None and st.accepted.ballot <= st.committed.ballot)
            for st in entry.values()
        )
        assert entry_summary(raw) == (max(ballots) if ballots else None, settled)


def _one_pass(staged, backends, ballot, value: bytes, shards=(0, 1, 2)) -> Mutation:
    """A one-pass round over `shards` writing v = value unconditionally; returns its update."""
    update = mutation(value, ballot_micros(ballot))
    group = ShardGroup(backends, staged)
    done = fast_round(group, KEY, list(shards), ballot, b"", lambda read, ts: (update, True), lambda reads: reads[0])
    assert done is not None and done[0]
    return update


def _floor(engine) -> int:
    return ballot_micros(Ballot.from_bytes(engine.get(HIGHEST_BALLOT_KEY)))


def _row_value(engine, shard):
    rows = Replica(engine, shard).read_row(TABLE, 42, PK, b"")[1]
    return rows[0][1][2]["v"][1] if rows else None


def test_a_one_pass_round_leaves_no_state_and_keeps_the_floor_above_its_ballot(shards, tmp_path):
    engine, staged, backends, _transport = shards
    t = 1_700_000_000_000_000
    _one_pass(staged, backends, ballot_from_micros(t, 1), b"x")
    staged.flush()
    assert engine.get(paxos_key(*KEY)) is None
    assert [_row_value(engine, n) for n in range(3)] == [b"x", b"x", b"x"]
    assert _floor(engine) == t + FLOOR_AHEAD_MICROS  # written with the rows, in one engine write
    assert HIGHEST_BALLOT_KEY in dict(engine.batches[-1])
    # A ballot under the floor needs no write for it; one past it raises it again.
    _one_pass(staged, backends, ballot_from_micros(t + FLOOR_AHEAD_MICROS - 1, 1), b"y")
    staged.flush()
    assert HIGHEST_BALLOT_KEY not in dict(engine.batches[-1]) and len(engine.batches[-1]) == 3
    _one_pass(staged, backends, ballot_from_micros(t + FLOOR_AHEAD_MICROS + 5, 1), b"z")
    staged.flush()
    assert _floor(engine) == t + 2 * FLOOR_AHEAD_MICROS + 5
    assert [_row_value(engine, n) for n in range(3)] == [b"z", b"z", b"z"]
    # After a restart the floor is known before any round, and never lowered.
    again = StagedWrites(engine)
    assert again.floor_micros == t + 2 * FLOOR_AHEAD_MICROS + 5
    again.raise_floor(t)
    again.flush()
    assert _floor(engine) == t + 2 * FLOOR_AHEAD_MICROS + 5


def test_a_one_pass_round_drops_the_state_a_general_round_left(shards):
    engine, staged, backends, transport = shards
    b1 = ballot_from_micros(1_700_000_000_000_000, 1)
    proposal = Proposal(b1, KEY, mutation(b"x", ballot_micros(b1)))
    transport.broadcast([0, 1, 2], Prepare(b1, KEY, b""))
    transport.broadcast([0, 1, 2], Propose(proposal))
    transport.broadcast([0, 1], Commit(proposal))  # replica 2 misses the commit
    staged.flush()
    assert sorted(decode_entry(engine.get(paxos_key(*KEY)), KEY)) == [0, 1, 2]
    # Not the plain round while replica 2 lacks the newest commit (it must be repaired first)...
    b2 = ballot_from_micros(1_700_000_000_000_100, 1)
    group = ShardGroup(backends, staged)
    assert fast_round(group, KEY, [0, 1, 2], b2, b"", lambda r, ts: (None, False), lambda reads: reads[0]) is None
    transport.broadcast([2], Commit(proposal))
    # ... and once it is, the one-pass round leaves no state behind, on disk or in the cache.
    _one_pass(staged, backends, ballot_from_micros(1_700_000_000_000_200, 1), b"y")
    staged.flush()
    assert engine.get(paxos_key(*KEY)) is None
    assert staged.entry(KEY) == {}
    assert [_row_value(engine, n) for n in range(3)] == [b"y", b"y", b"y"]


def test_while_no_partition_holds_state_rounds_skip_its_lookup_until_one_is_stored(shards):
    engine, staged, backends, transport = shards
    staged.any_state = False  # as start-up leaves it when the engine holds no Paxos state
    _one_pass(staged, backends, ballot_from_micros(1_700_000_000_000_000, 1), b"x")
    staged.flush()
    assert paxos_key(*KEY) not in engine.gets and staged.lookups == 0
    assert not staged.any_state and KEY not in staged.cache
    # A general round whose proposal reached one replica only (its coordinator lost the others).
    b2 = ballot_from_micros(1_700_000_000_000_100, 1)
    transport.broadcast([0, 1, 2], Prepare(b2, KEY, b""))
    transport.broadcast([0], Propose(Proposal(b2, KEY, mutation(b"y", ballot_micros(b2)))))
    staged.flush()
    assert staged.any_state
    staged.cache.clear()  # as if pushed out of the cache: only the engine knows the proposal now
    b3 = ballot_from_micros(1_700_000_000_000_200, 1)
    group = ShardGroup(backends, staged)
    decide = lambda read, ts: (mutation(b"z", ts), True)  # noqa: E731
    # The proposal in progress is found, so the round is not the plain one (it must finish it first).
    assert fast_round(group, KEY, [0, 1, 2], b3, b"", decide, lambda reads: reads[0]) is None
    assert paxos_key(*KEY) in engine.gets and staged.lookups == 1


def test_a_step_after_a_one_pass_round_in_the_same_flush_is_stored(shards):
    """A general round's step on one replica, staged after a one-pass round dropped the partition's state
    and before the flush: that replica's state is stored, the others' stay dropped."""
    engine, staged, backends, transport = shards
    b1 = ballot_from_micros(1_700_000_000_000_000, 1)
    b2 = ballot_from_micros(1_700_000_000_000_100, 1)
    _one_pass(staged, backends, b1, b"x")
    transport.broadcast([1], Prepare(b2, KEY, None))
    staged.flush()
    assert decode_entry(engine.get(paxos_key(*KEY)), KEY) == {1: PaxosState(b2)}


def test_a_replica_that_learns_an_applied_commit_records_it_without_touching_its_data(tmp_path):
    """A replica added to the partition later (a higher replication factor) is repaired with the newest
    commit; one stored without its update (as one-pass rounds stored them on 2026-12-03) is recorded as
    learnt, and its data stays as it was."""
    engine = Engine(str(tmp_path / "db"))
    staged = StagedWrites(engine)
    backends = {n: ShardPaxos(Replica(engine, n), staged) for n in range(4)}
    transport = LocalTransport({n: Acceptor(b) for n, b in backends.items()}, sync=staged.flush_data)
    b1 = ballot_from_micros(1_700_000_000_000_000, 1)
    _one_pass(staged, backends, b1, b"x")
    staged.flush()
    # A one-pass round's state as stored on 2026-12-03 (its ballot and shards): read after a restart.
    engine.write([(paxos_key(*KEY), marshal.dumps((b1.bytes, (0, 1, 2))))])
    staged.cache.clear()
    learnt = staged.entry(KEY)[0].committed
    assert learnt.update is APPLIED
    transport.broadcast([3], Commit(learnt))
    staged.flush()
    staged.cache.clear()
    entry = decode_entry(engine.get(paxos_key(*KEY)), KEY)
    assert entry[3].committed == Proposal(b1, KEY, APPLIED)
    assert [_row_value(engine, n) for n in range(4)] == [b"x", b"x", b"x", None]
    # The next round over all four replicas finds them in step and runs as one pass.
    _one_pass(staged, backends, ballot_from_micros(1_700_000_000_000_200, 1), b"y", shards=range(4))
    staged.flush()
    assert [_row_value(engine, n) for n in range(4)] == [b"y"] * 4
    assert engine.get(paxos_key(*KEY)) is None
    engine.close()
