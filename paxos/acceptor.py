"""The acceptor: one replica's side of Paxos, per key.

`transition(state, msg)` is the whole protocol as a pure function (a table you can test row by
row); `Acceptor` runs it over a `PaxosBackend`, which a replica shard implements: it loads and
stores the per-key state durably and reads/applies the opaque data.

Rules (Lamport's "Paxos made simple", §2.2, with Cassandra's commit/learn step):
  Prepare(b):  promise iff b > promised; the promise reports accepted and committed either way.
  Propose(p):  accept iff p.ballot >= promised (an accept also raises the promise).
  ProposeAndCommit(p): Propose(p), and when accepted, Commit(p) at once (its reply is the CommitAck).
  Commit(p):   always applied (idempotent: storage merges by write timestamp, so a late or repeated
               commit cannot undo a newer one); `committed` keeps the newest commit; `accepted` is
               cleared when the commit is at least as new; `promised` is raised to the commit's
               ballot, so a straggling older proposer cannot get a promise below a decided ballot.

Persist-before-reply (etcd's rule): `store_state` and `apply` are durable when they return, and the
reply is built only after them. A backend whose acceptors share one process with every coordinator
may instead stage its writes, provided everything staged is written atomically, in order, before
any effect leaves the process: a crash then loses the staged steps of all replicas at once, which
is the same as losing the messages that caused them (server.paxos_store does this).
"""

from __future__ import annotations

from typing import Any, Protocol

from paxos.messages import (
    EMPTY_STATE,
    Accepted,
    Commit,
    CommitAck,
    Message,
    PaxosState,
    Prepare,
    Promise,
    Proposal,
    Propose,
    ProposeAndCommit,
    Refused,
    Reply,
)

__all__ = ["Acceptor", "PaxosBackend", "transition"]


class PaxosBackend(Protocol):
    """Implemented by a replica shard (storage side), one per replica."""

    def load_state(self, key: Any) -> PaxosState: ...

    def store_state(self, key: Any, state: PaxosState) -> None:
        """Durable before returning."""

    def read(self, key: Any, read_request: Any) -> Any:
        """The current data needed to evaluate conditions."""

    # Optional: `persist(key, state | None, proposal | None)` writes the committed update's data and the
    # new state together, atomically (one engine write instead of two).

    def apply(self, proposal: Proposal) -> None:
        """Apply a committed, non-empty update to the data, durably."""


def transition(state: PaxosState, msg: Message) -> tuple[Reply, PaxosState | None, Proposal | None]:
    """Pure acceptor step: (reply, new state to persist or None if unchanged, update to apply or None).

    A `Promise` reply from here has no read; `Acceptor.handle` adds it.
    """
    promised = state.promised
    if type(msg) is Prepare:
        b = msg.ballot
        if promised is None or b > promised:
            new = PaxosState(b, state.accepted, state.committed)
            return Promise(b, True, state.accepted, state.committed), new, None
        return Promise(promised, False, state.accepted, state.committed), None, None

    if type(msg) is Propose:
        p = msg.proposal
        if promised is None or p.ballot >= promised:
            return Accepted(p.ballot), PaxosState(p.ballot, p, state.committed), None
        return Refused(promised), None, None

    if type(msg) is Commit:
        return _commit(state, msg.proposal)

    if type(msg) is ProposeAndCommit:
        # Propose(p) then, accepted, Commit(p): the commit clears the accept it follows and keeps the
        # promise at p's ballot, so only the newest commit is left to choose.
        p = msg.proposal
        b = p.ballot
        if promised is not None and b < promised:
            return Refused(promised), None, None
        committed = state.committed
        if committed is not None and committed.ballot == b:
            return CommitAck(b), None, None  # duplicate delivery: already applied and recorded
        newest = p if committed is None or b > committed.ballot else committed
        return CommitAck(b), PaxosState(b, None, newest), None if p.update is None else p

    raise TypeError(f"not a Paxos message: {msg!r}")


def _commit(state: PaxosState, p: Proposal) -> tuple[Reply, PaxosState | None, Proposal | None]:
    promised = state.promised
    committed = state.committed
    if committed is not None and committed.ballot == p.ballot:
        return CommitAck(p.ballot), None, None  # duplicate delivery: already applied and recorded
    newest = p if committed is None or p.ballot > committed.ballot else committed
    accepted = state.accepted
    if accepted is not None and accepted.ballot <= p.ballot:
        accepted = None
    if promised is None or p.ballot > promised:
        promised = p.ballot
    to_apply = None if p.update is None else p
    if promised is state.promised and accepted is state.accepted and newest is state.committed:
        return CommitAck(p.ballot), None, to_apply  # nothing new to record (identity: no deep compare)
    return CommitAck(p.ballot), PaxosState(promised, accepted, newest), to_apply


class Acceptor:
    """One replica's acceptor: `handle(msg) -> reply`, durable before the reply is returned."""

    __slots__ = ("backend", "_persist")

    def __init__(self, backend: PaxosBackend) -> None:
        self.backend = backend
        # A backend that can write data and state atomically does both in one write.
        self._persist = getattr(backend, "persist", None)

    def handle(self, msg: Message) -> Reply:
        backend = self.backend
        key = msg.proposal.key if type(msg) is not Prepare else msg.key  # type: ignore[union-attr]
        state = backend.load_state(key) or EMPTY_STATE
        reply, new_state, to_apply = transition(state, msg)
        if to_apply is not None or new_state is not None:
            persist = self._persist
            if persist is not None:
                persist(key, new_state, to_apply)
            else:
                if to_apply is not None:
                    # Data before state: a crash in between leaves the commit unrecorded, so it is
                    # re-learnt and re-applied (harmless, see module docstring), never recorded-but-missing.
                    backend.apply(to_apply)
                if new_state is not None:
                    backend.store_state(key, new_state)
        if type(reply) is Promise and reply.promised_ok:
            reply.read = backend.read(key, msg.read_request)  # type: ignore[union-attr]  # built just above
        return reply
