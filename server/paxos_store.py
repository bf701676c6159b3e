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
"""

from __future__ import annotations

import marshal

from paxos.ballot import Ballot
from paxos.messages import EMPTY_STATE, PaxosState, Proposal
from storage.engine import Engine
from storage.mutation import Mutation
from storage.replica import Replica


def _ballot(raw: bytes | None) -> Ballot | None:
    return None if raw is None else Ballot.from_bytes(raw)


def _proposal(t) -> Proposal | None:
    if t is None:
        return None
    ballot, key, update = t
    return Proposal(Ballot.from_bytes(ballot), tuple(key), None if update is None else Mutation.from_bytes(update))


def _plain(p: Proposal | None):
    if p is None:
        return None
    return (p.ballot.bytes, tuple(p.key), None if p.update is None else p.update.to_bytes())


def encode_state(state: PaxosState) -> bytes:
    return marshal.dumps(
        (None if state.promised is None else state.promised.bytes, _plain(state.accepted), _plain(state.committed))
    )


def decode_state(raw: bytes) -> PaxosState:
    promised, accepted, committed = marshal.loads(raw)
    return PaxosState(_ballot(promised), _proposal(accepted), _proposal(committed))


class StagedWrites:
    """Paxos states and committed data staged by the acceptors of every shard, written together."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The latest state per (shard, partition): its key and value are encoded once, at flush.
        self.states: dict[tuple[ShardPaxos, tuple], PaxosState] = {}
        self.data: dict[bytes, bytes] = {}
        self.writes = 0

    def flush(self) -> None:
        if not self.states and not self.data:
            return
        puts = list(self.data.items())
        puts += [(shard.replica.paxos_key(*key), encode_state(s)) for (shard, key), s in self.states.items()]
        self.states, self.data = {}, {}
        self.engine.write(puts)
        self.writes += 1

    def flush_data(self) -> None:
        """After a delivery: committed data must be readable before anything else runs."""
        if self.data:
            self.flush()


class ShardPaxos:
    """The PaxosBackend of one replica shard."""

    # Small on purpose: a cached state holds a decoded proposal (a dozen objects the garbage
    # collector walks again and again); at 65,536 states per shard the collector took 8 % of an
    # LWT's CPU. A state not cached is decoded from the engine in a few microseconds.
    CACHE_LIMIT = 4096

    def __init__(self, replica: Replica, staged: StagedWrites) -> None:
        self.replica = replica
        self.staged = staged
        # Decoded states of recently used partitions (an LWT touches its partition's state three times
        # per replica, and decoding them each time would dominate). Staged states are always cached
        # or still in `staged.states`, so the engine is read only for states already written.
        self.cache: dict = {}

    def load_state(self, key) -> PaxosState:
        state = self.cache.get(key)
        if state is not None:
            return state
        state = self.staged.states.get((self, key))
        if state is None:
            raw = self.replica.engine.get(self.replica.paxos_key(*key))
            if raw is None:
                return EMPTY_STATE
            state = decode_state(raw)
        self._remember(key, state)
        return state

    def store_state(self, key, state: PaxosState) -> None:
        self.persist(key, state, None)

    def persist(self, key, state: PaxosState | None, proposal: Proposal | None) -> None:
        if proposal is not None:
            self.replica.stage(proposal.update, self.staged.data)
        if state is not None:
            self.staged.states[(self, key)] = state
            self._remember(key, state)

    def _remember(self, key, state: PaxosState) -> None:
        cache = self.cache
        cache.pop(key, None)  # least recently used first out
        cache[key] = state
        if len(cache) > self.CACHE_LIMIT:
            del cache[next(iter(cache))]

    def read(self, key, read_request):
        table_id, token, pk = key
        if type(read_request) is bytes:  # one clustering row (b"": the only row of the partition)
            return self.replica.read_row(table_id, token, pk, read_request)
        return self.replica.read_partition(table_id, token, pk, **read_request)

    def apply(self, proposal: Proposal) -> None:
        self.replica.stage(proposal.update, self.staged.data)
