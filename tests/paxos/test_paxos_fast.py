"""`paxos.fast.fast_round` against the general round (`CasRound` over `LocalTransport`, fused commit).

On thousands of random replica states: wherever the one-pass round takes the round, the general round,
started from the same states with the same ballot, must end the same way (outcome, read, the updates
applied), except for the states: a round without a proposal records no promises in one pass, and one
with a proposal leaves none (its ballot becomes the floor) where the general round leaves every replica
settled on its commit; wherever it declines, it must have changed nothing.
"""

from __future__ import annotations

import random
from typing import Any

from paxos_sim import MemoryBackend, MemoryGroup, lww_merge

from paxos import Acceptor, LocalTransport, PaxosState, Proposal, ballot_from_micros, ballot_micros
from paxos.fast import fast_round
from paxos.messages import Prepare, ProposeAndCommit
from paxos.round import CasRound, Decided

KEY = "k"
REPLICAS = ["r0", "r1", "r2"]
EPOCH = 1_700_000_000_000_000


def _ballot(rng: random.Random, lo: int = 1, hi: int = 8):
    return ballot_from_micros(EPOCH + rng.randint(lo, hi), rng.randint(1, 3))


def _proposal(rng: random.Random, ballot, empty: bool) -> Proposal:
    update = None if empty else (f"v{rng.randint(0, 3)}", ballot_micros(ballot), rng.randint(1, 99))
    return Proposal(ballot, KEY, update)


def _random_states(rng: random.Random) -> dict[str, PaxosState | None]:
    """States as acceptors leave them (promise at least every ballot held); a shared newest commit and
    no accepted proposal more often than not, so that about half the rounds are plain."""
    if rng.random() < 0.1:
        return dict.fromkeys(REPLICAS)  # a partition no round touched yet (or purged): the usual new key
    shared = _proposal(rng, _ballot(rng), empty=False) if rng.random() < 0.7 else None
    out: dict[str, PaxosState | None] = {}
    for r in REPLICAS:
        if rng.random() < 0.1:
            out[r] = None  # nothing stored for the key
            continue
        committed = (
            shared if rng.random() < 0.8 else (_proposal(rng, _ballot(rng), False) if rng.random() < 0.5 else None)
        )
        accepted = None
        if rng.random() < 0.25:
            accepted = _proposal(rng, _ballot(rng), empty=rng.random() < 0.4)
        held = [p.ballot for p in (committed, accepted) if p is not None]
        promised = max(held) if held else None
        if rng.random() < 0.3:
            extra = _ballot(rng)
            promised = extra if promised is None or extra > promised else promised
        out[r] = PaxosState(promised, accepted, committed)
    if rng.random() < 0.2:  # replicas in step, sharing one state object as the server's store decodes them
        out = dict.fromkeys(REPLICAS, out[REPLICAS[0]])
    return out


def _backends(states: dict[str, PaxosState | None], data: dict[str, Any]) -> dict[str, MemoryBackend]:
    backends = {}
    for r in REPLICAS:
        b = MemoryBackend(r)
        if states[r] is not None:
            b.states[KEY] = states[r]
        if data[r] is not None:
            b.data[KEY] = data[r]
        backends[r] = b
    return backends


def _decide(rng: random.Random):
    expected = f"v{rng.randint(0, 3)}" if rng.random() < 0.8 else None
    new = f"n{rng.randint(0, 9)}"

    def decide(read: Any, ts: int) -> tuple[Any, bool]:
        if (None if read is None else read[0]) == expected:
            return (new, ts, 7), True
        return None, False

    return decide


def _general(backends: dict[str, MemoryBackend], ballot, decide) -> tuple[Any, list[type]]:
    """The general round, driven as `Coordinator._drive_now` does; returns (outcome, message types sent)."""
    transport = LocalTransport({r: Acceptor(b) for r, b in backends.items()})
    rnd = CasRound(KEY, REPLICAS, ballot, None, decide, lww_merge, quorum=2, commit_acks=2, fuse_commit=True)
    action = rnd.start()
    sent = []
    while type(action).__name__ == "Broadcast":
        sent.append(type(action.message))
        action = rnd.on_replies(action.seq, transport.broadcast(action.targets, action.message))
    return action, sent


def _snapshot(backends: dict[str, MemoryBackend]) -> dict[str, tuple]:
    return {r: (b.states.get(KEY), b.data.get(KEY), list(b.applied)) for r, b in backends.items()}


def test_one_pass_round_ends_as_the_general_round_or_changes_nothing() -> None:
    rng = random.Random(20261202)
    taken = declined = 0
    for _ in range(4000):
        states = _random_states(rng)
        data = {
            r: ((f"v{rng.randint(0, 3)}", EPOCH + rng.randint(0, 9), 1) if rng.random() < 0.8 else None)
            for r in REPLICAS
        }
        ballot = _ballot(rng, 3, 10)
        decide = _decide(rng)

        fast = _backends(dict(states), dict(data))
        before = _snapshot(fast)
        group = MemoryGroup(fast)
        done = fast_round(group, KEY, REPLICAS, ballot, None, decide, lww_merge)

        general = _backends(dict(states), dict(data))
        outcome, sent = _general(general, ballot, decide)

        if all(st is None for st in states.values()):
            assert done is not None, "a partition without Paxos state must take the one-pass round"
        if done is None:
            declined += 1
            assert _snapshot(fast) == before, "a declined one-pass round changed something"
            continue
        taken += 1
        # The general round took its plain path: one prepare, at most one propose-and-commit, decided.
        assert type(outcome) is Decided, (states, outcome)
        assert sent in ([Prepare], [Prepare, ProposeAndCommit]), sent
        assert done == (outcome.applied, outcome.read)
        if sent == [Prepare]:
            # No proposal: the general round keeps every replica's promise, the one-pass round records
            # nothing (paxos.fast: no lower ballot can still be in flight over a synchronous transport).
            assert _snapshot(fast) == before
            for r, b in general.items():
                old = states[r]
                assert b.states[KEY] == PaxosState(ballot, old and old.accepted, old and old.committed)
                assert (b.data.get(KEY), b.applied) == (data[r], [])
            continue
        # A proposal: both apply the same update on every replica. The general round leaves every replica
        # settled on its commit, the state a purge drops; the one-pass round drops it at once, and keeps
        # the ballot as the floor of later ballots instead.
        for r in REPLICAS:
            assert general[r].states[KEY] == PaxosState(ballot, None, general[r].applied[-1])
            assert KEY not in fast[r].states
            assert (fast[r].data.get(KEY), fast[r].applied) == (general[r].data.get(KEY), general[r].applied)
        assert group.floor == ballot
    # Both sides of the comparison ran often enough to mean something.
    assert taken > 500 and declined > 500, (taken, declined)


def test_one_pass_round_declines_each_case_the_general_round_handles_otherwise() -> None:
    b = [ballot_from_micros(EPOCH + m, 1) for m in range(10)]
    done_at_5 = Proposal(b[5], KEY, ("v", ballot_micros(b[5]), 1))

    def run(states: dict[str, PaxosState], ballot) -> Any:
        backends = _backends({r: states.get(r) for r in REPLICAS}, dict.fromkeys(REPLICAS))
        return fast_round(
            MemoryGroup(backends), KEY, REPLICAS, ballot, None, lambda read, ts: (("x", ts, 2), True), lww_merge
        )

    plain = PaxosState(b[5], None, done_at_5)
    assert run(dict.fromkeys(REPLICAS, plain), b[6]) is not None
    # Contention: a replica promised the ballot (or above).
    assert run({**dict.fromkeys(REPLICAS, plain), "r1": PaxosState(b[6], None, done_at_5)}, b[6]) is None
    # A proposal in progress, also an empty one.
    for update in (("w", ballot_micros(b[5]), 3), None):
        busy = PaxosState(b[5], Proposal(b[5], KEY, update), None)
        assert run({**dict.fromkeys(REPLICAS, PaxosState(b[4])), "r2": busy}, b[6]) is None
    # A replica that misses the newest commit (repair).
    assert run({**dict.fromkeys(REPLICAS, plain), "r0": PaxosState(b[4])}, b[6]) is None
    # The newest commit is not below the ballot in microseconds (restart with a lifted clock).
    same_micros = ballot_from_micros(EPOCH + 5, 2)
    assert run(dict.fromkeys(REPLICAS, plain), same_micros) is None
