"""A whole CAS round in one synchronous pass, for replicas whose Paxos states share one store.

With every replica in this process and the transport a direct call (`LocalTransport`), the usual
round of an uncontended key — prepare to every replica, every one promises, nobody holds a proposal
in progress, everybody holds the same newest commit; decide; propose and commit to every replica —
is a fixed sequence of acceptor transitions with a known outcome. `fast_round` computes that outcome
from the states directly: the same promises, reads, decision, accepts and commits as `CasRound`
driven over `LocalTransport` with `fuse_commit`, without building the messages that carry them.

One difference, on purpose: a round without a proposal (a failed condition, a SERIAL read, nothing to
write) records nothing, where `CasRound` keeps every replica's promise. Those promises fence proposals of
lower ballots still to come, and with a synchronous transport there are none: every round, whichever
coordinator runs it, runs start to end without yielding (`Coordinator._drive_now`), and this one has just
seen every replica settled on one commit. A lower ballot that prepares later runs its whole round later,
on the state this round read, whose commit it must still be above (its prepare checks the promises the
commit left, and its writes the commit's microseconds); the order of rounds in time is then the order of
their effects, which is what a linearization needs (CASSANDRA-12126 asks that an older proposal cannot be
completed after a failed condition or a read: none exists to complete). So a not-applied LWT or a SERIAL
read costs no engine write and leaves no Paxos state behind.

A round with a proposal leaves none either: every replica promised, accepted and committed it and applied
its update to its data, all in one atomic write, so their states would be one settled state everywhere —
the state a purge drops (`server.lwt.LwtService.purge_chunk`), and for the same reason: nothing can use
it. No message of an older round is in flight (above), no replica misses the commit, and no proposal is
in progress. What the state would still say is its ballot, which later rounds must exceed (their writes
must be timestamped after this one's). The backend's `settle` keeps that: over `LocalTransport` the one
coordinator's clock only goes up, and the server keeps a floor on disk for the clock after a restart,
written in the same engine write whenever a ballot passes it (as the purge keeps the highest ballot it
drops). Storing the state and purging it later was a twelfth of an LWT INSERT's instructions.

It takes the round only when its preconditions hold and otherwise changes nothing and returns None,
so that the caller runs the general round (`paxos.round`) instead: a promise above the ballot
(contention), an accepted proposal newer than the newest commit (a round in progress, to be
finished), replicas that differ in their newest commit (repair), or a newest commit whose
microseconds are not below the ballot's (restart). Those are exactly the branches of `CasRound` it
leaves out; `tests/paxos/test_paxos_fast.py` checks it against `CasRound` on random states.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any, Protocol

from paxos.ballot import Ballot, ballot_micros
from paxos.messages import EMPTY_STATE, PaxosState, Proposal
from paxos.round import Decide, MergeReads

__all__ = ["GroupBackend", "fast_round"]


class GroupBackend(Protocol):
    """Replicas whose states live in one store: each key's states of every replica in one mapping."""

    def states(self, key: Any) -> MutableMapping[Any, PaxosState]:
        """The key's state on each replica (absent: `EMPTY_STATE`), as one mapping (not to be changed)."""

    def settle(self, key: Any, states: MutableMapping[Any, PaxosState], ballot: Ballot) -> None:
        """The round at `ballot` committed on every replica and applied its update to each one's data:
        drop the key's `states` atomically with those updates, and keep every ballot issued from now on,
        also after a restart, above `ballot` (see the module's docstring)."""

    def apply(self, replicas: Sequence[Any], proposal: Proposal) -> None:
        """Apply a committed, non-empty update to the data of each of `replicas`."""

    def read_all(self, replicas: Sequence[Any], key: Any, read_request: Any) -> list[Any]:
        """Each replica's current data for the conditions, as an acceptor's promise carries it."""


def fast_round(
    group: GroupBackend,
    key: Any,
    replicas: Sequence[Any],
    ballot: Ballot,
    read_request: Any,
    decide: Decide,
    merge_reads: MergeReads,
) -> tuple[bool, Any] | None:
    """(applied, merged read) of the round at `ballot` over every one of `replicas`, or None (nothing
    changed) when the round would not be the plain one."""
    states = group.states(key)
    micros = ballot_micros(ballot)
    # No replica holding any state for the key (most new partitions) leaves nothing to judge.
    if states and not _plain(states, replicas, ballot, micros):
        return None
    # Every replica promises `ballot` and reads; the promises are recorded below with a proposal.
    merged = merge_reads(group.read_all(replicas, key, read_request))
    update, applied = decide(merged, micros)
    if update is None:
        return applied, merged  # no proposal: nothing to record (see the module's docstring)
    # Every replica promises, accepts (it just promised this ballot and nothing ran since) and commits,
    # which leaves nothing to keep (see the module's docstring).
    group.apply(replicas, Proposal(ballot, key, update))
    group.settle(key, states, ballot)
    return applied, merged


def _plain(states: MutableMapping[Any, PaxosState], replicas: Sequence[Any], ballot: Ballot, micros: int) -> bool:
    """Whether the replicas' states let the round at `ballot` be the plain one (see `fast_round`)."""
    # Replicas in step share one state object (as the store decodes them): each distinct one judged once.
    distinct = list({id(st): st for st in (states.get(r, EMPTY_STATE) for r in replicas)}.values())
    newest: Proposal | None = None
    for st in distinct:
        promised = st.promised
        if promised is not None and not ballot > promised:
            return False  # contention: the general round fails and backs off
        c = st.committed
        if c is not None and (newest is None or c.ballot > newest.ballot):
            newest = c
    newest_ballot = None if newest is None else newest.ballot
    for st in distinct:
        c = st.committed
        if c is not newest and (None if c is None else c.ballot) != newest_ballot:
            return False  # a replica misses the newest commit: repair first
        a = st.accepted
        if a is not None and (newest_ballot is None or a.ballot > newest_ballot):
            return False  # a proposal in progress (or an empty one fencing older ones)
    # Else our writes could not be timestamped after the newest commit.
    return newest_ballot is None or ballot_micros(newest_ballot) < micros
