"""Each replica shard's Paxos state, kept beside its data in the shared engine, and written behind.

Why write-behind is safe here: every acceptor lives in this process, so a kill -9 stops all of them
and every coordinator at the same instant. What survives must be a state the whole system really
passed through, and it must hold everything a client was told. Both hold when
  * staged changes are written in the order they were made, all of them in one atomic engine write
    (so what is on disk is always the state at some instant: later messages count as lost, which
    Paxos tolerates, and the coordinators that sent them died with the process); and
  * everything staged is written before any reply leaves for a client (`LwtService` flushes at the
    end of every conditional statement, batch and SERIAL read), and committed data is written
    before anyone can read it (the transport's `sync` hook runs after every delivery and broadcast).
So an LWT costs one engine write — promises, accepts, commit states and the data of every replica
together — instead of one per acceptor step (nine at RF 3): that write was most of an LWT's time.

Layout: one engine value per partition holds the state of each of its replicas, {shard: state} behind a
summary for the purge (`encode_entry`), under
`storage.replica.paxos_key`. A round reads it once for all replicas (a single lookup, mostly answered by
a bloom filter: most partitions have none) and writes it once, and a commit's update, the same on every
replica, is stored once (marshal writes an object referenced three times once). Data directories with
the earlier layout (one value per replica, prefix b"p") are converted at start-up (`migrate`).

A one-pass round (paxos.fast) leaves no state: its replicas' entry is dropped in the engine write that
holds its data (`StagedWrites.settle`), and the ballot floor (`HIGHEST_BALLOT_KEY`, which the purge also
raises) is raised past its ballot when needed, so that the clock starts above it after a restart. The
floor is written `FLOOR_AHEAD_MICROS` ahead, so that most rounds need no write for it.

Entries stored on 2026-12-03, from 06:00 UTC until one-pass rounds stopped leaving state, may hold such
a round's state as its ballot and shards alone (a commit whose update every replica had applied).
Decoded, its update reads `APPLIED`, which a replica learning the commit later (one added by a higher
replication factor) records without touching its data.
"""

from __future__ import annotations

import marshal
from collections import OrderedDict

from paxos.ballot import Ballot, ballot_from_micros, ballot_micros
from paxos.messages import EMPTY_STATE, PaxosState, Proposal
from storage.engine import Engine
from storage.mutation import Mutation
from storage.replica import (
    LEGACY_PAXOS_PREFIX,
    Replica,
    decode_legacy_paxos_key,
    paxos_key,
    read_rows,
    stage_on,
)

Key = tuple  # (table_id, token, partition key bytes)
# The ballot floor: after a restart the clock starts above it. It lies at or above the ballot of every
# Paxos state dropped (by a one-pass round or a purge), so later rounds stay above those ballots.
HIGHEST_BALLOT_KEY = b"P"
# How far above a ballot the floor is raised: one write for it per 0.1 s of rounds, not one per round. A
# restart takes longer than that, so the clock it leaves is not ahead of real time.
FLOOR_AHEAD_MICROS = 100_000


class _Applied:
    """The update of a commit stored without it (2026-12-03): already applied to every replica's data."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "APPLIED"


APPLIED = _Applied()
_APPLIED_CODE = 0  # how an `APPLIED` update is stored (an update is otherwise None or bytes)
Entry = dict  # shard -> PaxosState: one partition's Paxos state on each of its replicas


def _ballot(raw: bytes | None) -> Ballot | None:
    return None if raw is None else Ballot.from_bytes(raw)


def encode_entry(entry: Entry) -> bytes:
    """(newest ballot, settled, {shard: (promised, accepted, committed)}), a proposal as (ballot, update)
    without its key (the engine key names the partition). A proposal held by several replicas is encoded
    once. The newest ballot any replica holds and whether every replica is settled (no accepted proposal
    newer than its commit) lead, so that the purge judges a partition without decoding its states: it
    judges every partition on every pass, most of them too young, and decoding took 12 µs each."""
    plain: dict[int, tuple] = {}  # id(proposal) -> encoded
    states: dict[int, tuple] = {}  # id(state) -> encoded: replicas left in one state by a round share it
    ballots = []
    out = {}
    for shard, st in entry.items():
        t = states.get(id(st))
        if t is None:
            parts: list = [None if st.promised is None else st.promised.bytes]
            for p in (st.accepted, st.committed):
                e = None
                if p is not None:
                    e = plain.get(id(p))
                    if e is None:
                        e = plain[id(p)] = (p.ballot.bytes, _encode_update(p.update))
                parts.append(e)
            acc, com = st.accepted, st.committed
            ballots.append((st.promised, acc and acc.ballot, com and com.ballot))
            t = states[id(st)] = tuple(parts)
        out[shard] = t
    newest, settled = _summary(ballots)
    return marshal.dumps((None if newest is None else newest.bytes, settled, out))


def _encode_update(update) -> bytes | int | None:
    if update is None:
        return None
    return _APPLIED_CODE if update is APPLIED else update.to_bytes()


def _decode_update(raw):
    if raw is None:
        return None
    return APPLIED if type(raw) is int else Mutation.from_bytes(raw)


def _summary(ballots) -> tuple[Ballot | None, bool]:
    """(the newest ballot, whether every replica is settled) from each replica's (promised, accepted,
    committed) ballots: settled = no accepted proposal newer than the commit. Ballots compare by their
    sort keys (`Ballot._key`), as `Ballot.__gt__` would, without its Python-level call."""
    newest, settled = None, True
    for promised, accepted, committed in ballots:
        if accepted is not None and (committed is None or accepted._key > committed._key):
            settled = False
        for b in (promised, accepted, committed):
            if b is not None and (newest is None or b._key > newest._key):
                newest = b
    return newest, settled


def _states(value):
    """The {shard: state tuple} of a stored entry; entries written before 2026-12-02 14:50 UTC hold it alone."""
    return value[2] if type(value) is tuple else value


def decode_entry(raw: bytes, key: Key) -> Entry:
    value = marshal.loads(raw)
    if type(value) is tuple and len(value) == 2:  # a one-pass round's, 2026-12-03 (see the module's docstring)
        ballot = Ballot.from_bytes(value[0])
        st = PaxosState(ballot, None, Proposal(ballot, key, APPLIED))
        return dict.fromkeys(value[1], st)
    decoded: dict[int, Proposal] = {}  # marshal restores a shared tuple as one object: decode it once

    def dec(t) -> Proposal | None:
        if t is None:
            return None
        p = decoded.get(id(t))
        if p is None:
            ballot, update = t
            p = decoded[id(t)] = Proposal(Ballot.from_bytes(ballot), key, _decode_update(update))
        return p

    states: dict[int, PaxosState] = {}  # likewise a state shared by replicas (see encode_entry)
    entry: Entry = {}
    for shard, t in _states(value).items():
        st = states.get(id(t))
        if st is None:
            promised, accepted, committed = t
            st = states[id(t)] = PaxosState(_ballot(promised), dec(accepted), dec(committed))
        entry[shard] = st
    return entry


def entry_summary(raw: bytes) -> tuple[Ballot | None, bool]:
    """(the newest ballot any replica holds, whether every replica is settled) of a stored entry."""
    value = marshal.loads(raw)
    if type(value) is tuple:
        if len(value) == 2:  # a one-pass round's, 2026-12-03
            return _ballot(value[0]), True
        newest, settled, _ = value
        return _ballot(newest), settled
    return _summary(  # the earlier layout: judged from its states
        (_ballot(promised), accepted and Ballot.from_bytes(accepted[0]), committed and Ballot.from_bytes(committed[0]))
        for promised, accepted, committed in value.values()
    )


class StagedWrites:
    """Paxos states and committed data staged by the acceptors of every shard, written together; and the
    decoded states of recently used partitions."""

    # Small on purpose: a cached state holds a decoded proposal (a dozen objects the garbage collector
    # walks again and again); with 65,536 states per shard the collector took 8 % of an LWT's CPU. A
    # partition not cached is decoded from the engine in a few microseconds.
    CACHE_LIMIT = 4096

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Partitions changed since the last flush, by key: encoded once, at flush.
        self.states: dict[Key, Entry] = {}
        self.data: dict[bytes, bytes] = {}
        self.writes = 0
        raw = engine.get(HIGHEST_BALLOT_KEY)
        self.floor_micros = 0 if raw is None else ballot_micros(Ballot.from_bytes(raw))
        # Whether any partition may hold stored Paxos state: one-pass rounds leave none, so mostly not
        # (only general rounds store state, until the purge takes it). While none can, looking a
        # partition's state up is skipped (a thirtieth of an LWT INSERT's instructions). Cleared by
        # the owner when it knows the engine holds none (a scan at start-up, a whole purge pass); set
        # here by every flush that stores a state.
        self.any_state = True
        self.state_flushes = 0  # flushes that stored some partition's state
        self.lookups = 0  # of partitions' states in the engine
        # Entries of recently used partitions, least recently changed first; an empty entry records a
        # partition without state, so a new partition costs one engine lookup, not one per replica.
        # Staged entries are always cached or still in `states`, so the engine is read only for
        # entries already written.
        self.cache: OrderedDict[Key, Entry] = OrderedDict()

    def entry(self, key: Key) -> Entry:
        entry = self.cache.get(key)
        if entry is None:
            entry = self.states.get(key)
            if entry is None:
                if not self.any_state:
                    return {}  # not cached: a new partition would push a useful one out
                self.lookups += 1
                raw = self.engine.get(paxos_key(*key))
                entry = {} if raw is None else decode_entry(raw, key)
            self._remember(key, entry)
        return entry

    def stage(self, key: Key, shard: int, state: PaxosState) -> None:
        entry = self.cache.get(key)
        if entry is None:
            entry = self.entry(key)
        entry[shard] = state
        self.changed(key, entry)

    def changed(self, key: Key, entry: Entry) -> None:
        """`entry` (from `entry(key)`) was changed in place: write it at the next flush."""
        if key not in self.states:
            self.states[key] = entry
            try:
                self.cache.move_to_end(key)  # most recently changed: last out of the cache
            except KeyError:  # `entry` caches nothing while no partition holds state
                self._remember(key, entry)

    def settle(self, key: Key, entry: Entry, ballot: Ballot) -> None:
        """`paxos.fast.GroupBackend.settle`: the partition's states go (with those of shards no longer its
        replicas: they are not part of its Paxos instance any more), and the floor stays above `ballot`."""
        self.raise_floor(ballot_micros(ballot))
        if entry:  # else nothing is stored: most partitions
            self.drop(key, entry)

    def drop(self, key: Key, entry: Entry | None = None) -> None:
        """The partition's states go, deleted at the next flush. `entry`: the cached one, if known."""
        if entry is None:
            entry = self.cache.get(key)
        if entry is None:
            entry = {}
        else:
            entry.clear()  # the cached entry too
        self.states[key] = entry

    def raise_floor(self, micros: int) -> None:
        """Keep the stored ballot floor at or above `micros`, from the next flush on (never lowered)."""
        if micros > self.floor_micros:
            self.floor_micros = micros + FLOOR_AHEAD_MICROS
            self.data[HIGHEST_BALLOT_KEY] = ballot_from_micros(self.floor_micros, 0).bytes

    def _remember(self, key: Key, entry: Entry) -> None:
        """Cache a key not cached (a new key goes last: no move needed)."""
        cache = self.cache
        cache[key] = entry
        if len(cache) > self.CACHE_LIMIT:
            # An OrderedDict: a plain dict's oldest key, found by iterating, sits behind every slot
            # deleted before it, and that walk took 3 % of an LWT.
            cache.popitem(last=False)

    def flush(self) -> None:
        if not self.states and not self.data:
            return
        puts = list(self.data.items())
        dropped = []
        stored = False
        for key, entry in self.states.items():
            if entry:
                puts.append((paxos_key(*key), encode_entry(entry)))
                stored = True
            else:
                dropped.append(paxos_key(*key))
        self.states, self.data = {}, {}
        if stored:
            self.any_state = True
            self.state_flushes += 1
        self.engine.write(puts, dropped)
        self.writes += 1

    def flush_data(self) -> None:
        """After a delivery: committed data must be readable before anything else runs."""
        if self.data:
            self.flush()


class ShardPaxos:
    """The PaxosBackend of one replica shard."""

    def __init__(self, replica: Replica, staged: StagedWrites) -> None:
        self.replica = replica
        self.shard = replica.shard
        self.staged = staged

    def load_state(self, key) -> PaxosState:
        return self.staged.entry(key).get(self.shard, EMPTY_STATE)

    def store_state(self, key, state: PaxosState) -> None:
        self.persist(key, state, None)

    def persist(self, key, state: PaxosState | None, proposal: Proposal | None) -> None:
        if proposal is not None:
            self.apply(proposal)
        if state is not None:
            self.staged.stage(key, self.shard, state)

    def read(self, key, read_request):
        if read_request is None:  # a SERIAL read's barrier: it needs the settled state, not the data
            return None
        table_id, token, pk = key
        if type(read_request) is bytes:  # one clustering row (b"": the only row of the partition)
            return self.replica.read_row(table_id, token, pk, read_request)
        return self.replica.read_partition(table_id, token, pk, **read_request)

    def apply(self, proposal: Proposal) -> None:
        if proposal.update is not APPLIED:  # in every data that holds the commit (see the module's docstring)
            self.replica.stage(proposal.update, self.staged.data)


class ShardGroup:
    """Every shard's Paxos state as one `paxos.fast.GroupBackend`: a partition's states on all its
    replicas are one entry of `StagedWrites` already."""

    def __init__(self, shards: dict[int, ShardPaxos], staged: StagedWrites) -> None:
        self.shards = shards
        self.staged = staged
        self.states = staged.entry
        self.settle = staged.settle

    def apply(self, shards, proposal: Proposal) -> None:
        stage_on([self.shards[s].replica for s in shards], proposal.update, self.staged.data)

    def read_all(self, shards, key: Key, read_request) -> list:
        if read_request is None:
            return [None] * len(shards)
        if type(read_request) is bytes:  # one row: every replica's keys in one lookup
            table_id, token, pk = key
            return read_rows([self.shards[s].replica for s in shards], table_id, token, pk, read_request)
        return [self.shards[s].read(key, read_request) for s in shards]


def _legacy_proposal(t, key: Key) -> Proposal | None:
    if t is None:
        return None
    ballot, _key, update = t
    return Proposal(Ballot.from_bytes(ballot), key, None if update is None else Mutation.from_bytes(update))


def migrate(engine: Engine, batch: int = 2000) -> int:
    """Convert Paxos state stored one value per replica (prefix b"p" + shard, before 2026-12-02) into one
    value per partition; returns the replica states converted. Runs at start-up, before any round."""
    end = bytes([LEGACY_PAXOS_PREFIX[0] + 1])
    converted = 0
    while True:
        chunk = []
        for k, v in engine.scan(LEGACY_PAXOS_PREFIX, end):
            chunk.append((k, v))
            if len(chunk) == batch:
                break
        if not chunk:
            return converted
        entries: dict[Key, Entry] = {}
        for k, v in chunk:
            shard, key = decode_legacy_paxos_key(k)
            promised, accepted, committed = marshal.loads(v)
            entry = entries.get(key)
            if entry is None:
                raw = engine.get(paxos_key(*key))
                entry = entries[key] = {} if raw is None else decode_entry(raw, key)
            entry[shard] = PaxosState(
                _ballot(promised), _legacy_proposal(accepted, key), _legacy_proposal(committed, key)
            )
        # Converted and deleted in one atomic write: a crash in between leaves either layout, never both.
        engine.write([(paxos_key(*key), encode_entry(e)) for key, e in entries.items()], [k for k, _ in chunk])
        converted += len(chunk)
