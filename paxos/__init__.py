"""Paxos for lightweight transactions: ballots, acceptors, the proposer round and its async driver.

Knows nothing of CQL or storage formats: keys, read requests, reads and updates are opaque values.
Must not import server/, storage/ or cql_grammar/. The protocol core (ballot, messages, acceptor,
round) does no I/O and reads no clock or randomness; the coordinator takes them injected.
"""

from paxos.acceptor import Acceptor, PaxosBackend, transition
from paxos.ballot import MIN_BALLOT, Ballot, BallotClock, ballot_from_micros, ballot_micros
from paxos.coordinator import CasResult, Coordinator
from paxos.errors import (
    PaxosCommitTimeout,
    PaxosError,
    PaxosOverloaded,
    PaxosTimeout,
    PaxosUnavailable,
    PaxosUnknownResult,
    ReplicaDown,
)
from paxos.messages import (
    Accepted,
    Commit,
    CommitAck,
    PaxosState,
    Prepare,
    Promise,
    Proposal,
    Propose,
    ProposeAndCommit,
    Refused,
)
from paxos.transport import FaultyTransport, LocalTransport, Transport

__all__ = [
    "MIN_BALLOT",
    "Accepted",
    "Acceptor",
    "Ballot",
    "BallotClock",
    "CasResult",
    "Commit",
    "CommitAck",
    "Coordinator",
    "FaultyTransport",
    "LocalTransport",
    "PaxosBackend",
    "PaxosCommitTimeout",
    "PaxosError",
    "PaxosOverloaded",
    "PaxosState",
    "PaxosTimeout",
    "PaxosUnavailable",
    "PaxosUnknownResult",
    "Prepare",
    "Promise",
    "Proposal",
    "Propose",
    "ProposeAndCommit",
    "Refused",
    "ReplicaDown",
    "Transport",
    "ballot_from_micros",
    "ballot_micros",
    "transition",
]
