"""Acceptor rules as a transition table (Lamport, "Paxos made simple" §2.2 for promise/accept)."""

from __future__ import annotations

import pytest
from paxos_sim import MemoryBackend

from paxos import (
    Accepted,
    Acceptor,
    Commit,
    CommitAck,
    PaxosState,
    Prepare,
    Promise,
    Proposal,
    Propose,
    ProposeAndCommit,
    Refused,
    ballot_from_micros,
    transition,
)

B1, B2, B3 = (ballot_from_micros(m, node=1) for m in (100, 200, 300))
K = "k"
P1 = Proposal(B1, K, ("v1", 100, 1))
P2 = Proposal(B2, K, ("v2", 200, 2))
P3 = Proposal(B3, K, ("v3", 300, 3))
E2 = Proposal(B2, K, None)  # empty update

S0 = PaxosState()
S_PROM2 = PaxosState(B2, None, None)
S_ACC2 = PaxosState(B2, P2, None)
S_COM1 = PaxosState(B1, None, P1)
S_COM2_ACC = PaxosState(B2, P2, P1)

# (state, message, expected reply, expected new state (None: unchanged), expected update to apply)
TABLE = [
    # prepare: promise iff strictly higher
    (S0, Prepare(B1, K), Promise(B1, True, None, None), PaxosState(B1, None, None), None),
    (S_PROM2, Prepare(B1, K), Promise(B2, False, None, None), None, None),
    (S_PROM2, Prepare(B2, K), Promise(B2, False, None, None), None, None),  # equal: refused
    (S_PROM2, Prepare(B3, K), Promise(B3, True, None, None), PaxosState(B3, None, None), None),
    (S_ACC2, Prepare(B3, K), Promise(B3, True, P2, None), PaxosState(B3, P2, None), None),
    (S_ACC2, Prepare(B1, K), Promise(B2, False, P2, None), None, None),  # rejection still reports state
    (S_COM2_ACC, Prepare(B3, K), Promise(B3, True, P2, P1), PaxosState(B3, P2, P1), None),
    # propose: accept iff >= promised; accepting raises the promise
    (S0, Propose(P1), Accepted(B1), PaxosState(B1, P1, None), None),
    (S_PROM2, Propose(P2), Accepted(B2), PaxosState(B2, P2, None), None),
    (S_PROM2, Propose(P1), Refused(B2), None, None),
    (S_PROM2, Propose(P3), Accepted(B3), PaxosState(B3, P3, None), None),
    (S_PROM2, Propose(E2), Accepted(B2), PaxosState(B2, E2, None), None),
    # commit: always applied; newest kept; accepted cleared if not newer; promise raised
    (S_ACC2, Commit(P2), CommitAck(B2), PaxosState(B2, None, P2), P2),
    (S_ACC2, Commit(P1), CommitAck(B1), PaxosState(B2, P2, P1), P1),  # older commit: accepted stays
    (S_ACC2, Commit(P3), CommitAck(B3), PaxosState(B3, None, P3), P3),
    (S_COM1, Commit(P1), CommitAck(B1), None, None),  # duplicate: nothing to do
    (PaxosState(B3, None, P3), Commit(P2), CommitAck(B2), None, P2),  # late commit: re-applied, LWW keeps P3
    (S0, Commit(Proposal(B2, K, None)), CommitAck(B2), PaxosState(B2, None, Proposal(B2, K, None)), None),
    # propose-and-commit: the propose rule, then (only when accepted) the commit's; never half of it
    (S_PROM2, ProposeAndCommit(P2), CommitAck(B2), PaxosState(B2, None, P2), P2),
    (S_COM2_ACC, ProposeAndCommit(P3), CommitAck(B3), PaxosState(B3, None, P3), P3),  # supersedes accepted P2
    (S_PROM2, ProposeAndCommit(P1), Refused(B2), None, None),  # promised higher: neither accepted nor applied
    (PaxosState(B3, None, None), ProposeAndCommit(P2), Refused(B3), None, None),
    (PaxosState(B2, None, P2), ProposeAndCommit(P2), CommitAck(B2), None, None),  # duplicate delivery
]


@pytest.mark.parametrize("state,msg,reply,new_state,to_apply", TABLE)
def test_transition_table(state, msg, reply, new_state, to_apply) -> None:  # type: ignore[no-untyped-def]
    assert transition(state, msg) == (reply, new_state, to_apply)


def test_acceptor_persists_before_reply_and_reads_with_promise() -> None:
    backend = MemoryBackend("r")
    backend.data[K] = ("old", 50, 0)
    acc = Acceptor(backend)
    promise = acc.handle(Prepare(B1, K, "read-req"))
    assert promise == Promise(B1, True, None, None, ("old", 50, 0))
    assert backend.states[K].promised == B1
    refused = acc.handle(Prepare(B1, K))
    assert refused.read is None and not refused.promised_ok  # type: ignore[union-attr]
    assert acc.handle(Propose(P2)) == Accepted(B2)
    assert backend.states[K].accepted == P2
    assert acc.handle(Commit(P2)) == CommitAck(B2)
    assert backend.data[K] == ("v2", 200, 2) and backend.states[K] == PaxosState(B2, None, P2)
    assert acc.handle(Commit(P1)) == CommitAck(B1)  # late older commit: data keeps the newer write
    assert backend.data[K] == ("v2", 200, 2) and backend.states[K].committed == P2
