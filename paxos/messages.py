"""Paxos messages and per-key acceptor state, as plain frozen data.

Keys, read requests, reads and updates are opaque to `paxos/` (`Any`). An update of `None` is the
*empty update* of CASSANDRA-12126: a CAS whose condition failed, and a SERIAL read, propose it at
their ballot so that an older in-progress proposal can never be completed after them. (cqld picks
the empty-proposal rule of Paxos v1 post-12126, with one shortcut the coordinator may take: see
`paxos.round`.)

Names follow the paper and ScyllaDB's fields: ballot, promise, proposal, accept, commit,
promised / accepted / committed.

Treat every instance as immutable. They are not `frozen` only because a frozen dataclass is built
three times slower (one `object.__setattr__` per field) and an LWT builds a few dozen of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paxos.ballot import Ballot

__all__ = [
    "Accepted",
    "Commit",
    "CommitAck",
    "Message",
    "PaxosState",
    "Prepare",
    "Promise",
    "Proposal",
    "Propose",
    "ProposeAndCommit",
    "Refused",
    "Reply",
]


@dataclass(slots=True, unsafe_hash=True)
class Proposal:
    """`update` applied to `key`, decided at `ballot`; `update is None` is the empty update."""

    ballot: Ballot
    key: Any
    update: Any

    @property
    def is_empty(self) -> bool:
        return self.update is None


@dataclass(slots=True, unsafe_hash=True)
class PaxosState:
    """What one replica durably keeps for one key.

    promised:  the highest ballot this replica promised (None: never promised anything).
    accepted:  the last proposal accepted and not yet superseded by a commit of an equal or newer ballot.
    committed: the newest commit this replica learnt.
    """

    promised: Ballot | None = None
    accepted: Proposal | None = None
    committed: Proposal | None = None


EMPTY_STATE = PaxosState()


# ---- coordinator → replica -------------------------------------------------------------------


@dataclass(slots=True, unsafe_hash=True)
class Prepare:
    """Phase 1a, carrying the read so that the promise brings the data back (one round trip less)."""

    ballot: Ballot
    key: Any
    read_request: Any = None


@dataclass(slots=True, unsafe_hash=True)
class Propose:
    """Phase 2a."""

    proposal: Proposal


@dataclass(slots=True, unsafe_hash=True)
class Commit:
    """Learn: apply `proposal.update` (unless empty) and remember it as committed."""

    proposal: Proposal


@dataclass(slots=True, unsafe_hash=True)
class ProposeAndCommit:
    """Phase 2a and the commit in one delivery: accept, and if accepted, commit at once.

    Only for a transport that delivers to every live replica synchronously and loses nothing, with
    no other message reaching any acceptor between the prepare and this (see `paxos.round`): then
    every replica that promised the ballot accepts it, so it is decided before anyone can look."""

    proposal: Proposal


Message = Prepare | Propose | Commit | ProposeAndCommit


# ---- replica → coordinator -------------------------------------------------------------------


@dataclass(slots=True, unsafe_hash=True)
class Promise:
    """Phase 1b.

    ballot: the replica's promised ballot after handling the Prepare — the prepare's own ballot when
            `promised_ok`, otherwise the higher ballot that beat it.
    accepted / committed: the replica's state (sent in both cases so the coordinator can learn
            ballots to observe and in-progress proposals).
    read:   the current data for the prepare's read request (only when `promised_ok`).
    """

    ballot: Ballot
    promised_ok: bool
    accepted: Proposal | None
    committed: Proposal | None
    read: Any = None


@dataclass(slots=True, unsafe_hash=True)
class Accepted:
    """Phase 2b: the proposal at `ballot` is accepted (and durable)."""

    ballot: Ballot


@dataclass(slots=True, unsafe_hash=True)
class Refused:
    """Phase 2b, negative: the replica has promised `promised`, above the proposal's ballot."""

    promised: Ballot


@dataclass(slots=True, unsafe_hash=True)
class CommitAck:
    """The commit at `ballot` is applied and durable."""

    ballot: Ballot


Reply = Promise | Accepted | Refused | CommitAck
