"""Coordinator and round scenarios, scripted (no randomness except where seeded)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from paxos_sim import Cluster, FaultyTransport, lww_merge, make_cluster, run_virtual

from paxos import (
    Accepted,
    BallotClock,
    Commit,
    CommitAck,
    Coordinator,
    PaxosCommitTimeout,
    PaxosOverloaded,
    PaxosState,
    PaxosTimeout,
    PaxosUnavailable,
    Promise,
    Proposal,
    Propose,
    ProposeAndCommit,
    Refused,
    ReplicaDown,
    ballot_from_micros,
    ballot_micros,
)
from paxos.round import Broadcast, CasRound, Decided, Retry, Unknown

EPOCH = 1_700_000_000_000_000


class CountingTransport:
    """Wraps a LocalTransport, records (replica, message type) and can fail chosen messages."""

    immediate = True

    def __init__(self, inner: Any, fail: Any = None) -> None:
        self.inner = inner
        self.log: list[tuple[str, str]] = []
        self.fail = fail or (lambda replica, msg: False)

    def is_alive(self, replica: Any) -> bool:
        return self.inner.is_alive(replica)

    def broadcast(self, targets: Any, msg: Any) -> list[tuple[Any, Any]]:
        items = []
        for replica in targets:
            self.log.append((replica, type(msg).__name__))
            if self.fail(replica, msg):
                items.append((replica, ReplicaDown(replica, False)))
            else:
                items.append(*self.inner.broadcast([replica], msg))
        return items


def coordinator(transport: Any, node: int = 1, now_micros: Any = None, **kw: Any) -> Coordinator:
    loop = asyncio.get_running_loop()
    clock = BallotClock(now_micros or (lambda: EPOCH + int(loop.time() * 1e6)), node=node)
    return Coordinator(clock, transport, random.Random(node), asyncio.sleep, loop.time, **kw)


def cas_decide(expected: Any, new: Any, op_id: int = 0):  # type: ignore[no-untyped-def]
    def decide(read: Any, ts: int) -> tuple[Any, bool]:
        if (None if read is None else read[0]) == expected:
            return (new, ts, op_id), True
        return None, False

    return decide


async def do_cas(c: Coordinator, cl: Cluster, expected: Any, new: Any, key: str = "k", **kw: Any) -> Any:
    kw.setdefault("commit_acks", cl.quorum)
    return await c.cas(
        key,
        cl.replicas,
        None,
        cas_decide(expected, new),
        lww_merge,
        quorum=cl.quorum,
        timeout=kw.pop("timeout", 1.0),
        **kw,
    )


def test_insert_then_conditional_update_fast_path() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        t = CountingTransport(cl.local)
        c = coordinator(t)
        r1 = await do_cas(c, cl, None, "a")
        assert r1.applied and r1.read is None
        # 3 prepares, 3 proposes, 3 commits: nothing else
        assert [m for _, m in t.log] == ["Prepare"] * 3 + ["Propose"] * 3 + ["Commit"] * 3
        values = {b.data["k"] for b in cl.backends.values()}
        assert len(values) == 1
        (value,) = values
        committed = cl.backends["r0"].states["k"].committed
        assert value[0] == "a" and value[1] == ballot_micros(committed.ballot)  # LWT write carries ballot time
        r2 = await do_cas(c, cl, "a", "b")
        assert r2.applied and r2.read[0] == "a"
        r3 = await do_cas(c, cl, "a", "c")
        assert not r3.applied and r3.read[0] == "b"
        assert c.stats.contentions == 0 and c.stats.rounds == 3

    run_virtual(main())


def test_fused_commit_is_one_broadcast_and_leaves_the_same_state_as_two() -> None:
    async def main() -> None:
        states = []
        for fuse in (False, True):
            cl = make_cluster(3)
            t = CountingTransport(cl.local)
            c = coordinator(t, fuse_commit=fuse)
            assert (await do_cas(c, cl, None, "a")).applied
            second = ["Propose"] * 3 + ["Commit"] * 3 if not fuse else ["ProposeAndCommit"] * 3
            assert [m for _, m in t.log] == ["Prepare"] * 3 + second
            res = await do_cas(c, cl, "a", "b")
            assert res.applied and res.read[0] == "a"
            for b in cl.backends.values():
                state = b.states["k"]
                assert state.accepted is None and state.promised == state.committed.ballot
                assert b.data["k"][0] == "b"
            t.log.clear()
            assert not (await do_cas(c, cl, "a", "c")).applied
            assert [m for _, m in t.log] == ["Prepare"] * 3  # failed condition: no proposal either way
            states.append([(b.data["k"][0], b.states["k"].committed.update[0]) for b in cl.backends.values()])
        assert states[0] == states[1]

    run_virtual(main())


def test_fused_commit_with_a_stopped_replica_commits_on_the_live_quorum() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        c = coordinator(cl.local, fuse_commit=True)
        cl.local.stop("r2")
        assert (await do_cas(c, cl, None, "a")).applied
        assert [cl.backends[r].data.get("k", (None,))[0] for r in cl.replicas] == ["a", "a", None]
        cl.local.start("r2")
        # the next round finds r2 missing the newest commit and repairs it before deciding
        assert (await do_cas(c, cl, "a", "b")).applied
        assert [cl.backends[r].data["k"][0] for r in cl.replicas] == ["b", "b", "b"]
        cl.local.stop("r1")
        cl.local.stop("r2")
        with pytest.raises(PaxosUnavailable):
            await do_cas(c, cl, "b", "c")

    run_virtual(main())


def test_failed_condition_skips_empty_proposal_only_when_all_replicas_promise() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        t = CountingTransport(cl.local)
        c = coordinator(t)
        await do_cas(c, cl, None, "a")
        t.log.clear()
        res = await do_cas(c, cl, "zzz", "b")
        assert not res.applied and [m for _, m in t.log] == ["Prepare"] * 3  # one round trip
        cl.local.stop("r2")
        t.log.clear()
        res = await do_cas(c, cl, "zzz", "b")
        assert not res.applied
        assert [m for _, m in t.log] == ["Prepare"] * 3 + ["Propose"] * 3  # CASSANDRA-12126 empty proposal
        accepted = cl.backends["r0"].states["k"].accepted
        assert accepted is not None and accepted.update is None
        assert await c.read_serial("k", cl.replicas, None, lww_merge, quorum=2, timeout=1.0) == res.read

    run_virtual(main())


def test_unavailable_before_anything_is_sent() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        t = CountingTransport(cl.local)
        c = coordinator(t)
        cl.local.stop("r0")
        cl.local.stop("r1")
        with pytest.raises(PaxosUnavailable) as exc:
            await do_cas(c, cl, None, "a")
        assert (exc.value.required, exc.value.alive) == (2, 1) and t.log == []

    run_virtual(main())


def test_in_progress_proposal_is_completed_before_own_operation() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        c = coordinator(cl.local)
        old = ballot_from_micros(EPOCH - 10, node=7)
        stray = Proposal(old, "k", ("x", EPOCH - 10, 99))
        cl.backends["r0"].states["k"] = PaxosState(old, stray, None)  # accepted by one replica only
        read = await c.read_serial("k", cl.replicas, None, lww_merge, quorum=2, timeout=1.0)
        assert read == ("x", EPOCH - 10, 99)  # keeps its original timestamp
        assert all(b.data["k"] == ("x", EPOCH - 10, 99) for b in cl.backends.values())
        assert c.stats.restarts == 1

    run_virtual(main())


def test_empty_in_progress_fences_older_proposal() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        c = coordinator(cl.local)
        b1, b2 = ballot_from_micros(EPOCH - 20, node=7), ballot_from_micros(EPOCH - 10, node=8)
        cl.backends["r0"].states["k"] = PaxosState(b1, Proposal(b1, "k", ("x", EPOCH - 20, 99)), None)
        cl.backends["r1"].states["k"] = PaxosState(b2, Proposal(b2, "k", None), None)
        cl.local.stop("r2")
        res = await do_cas(c, cl, None, "mine")
        # The highest accepted value is "no change": "x" must not be completed, ours decides on "nothing".
        assert res.applied and res.read is None
        cl.local.start("r2")
        read = await c.read_serial("k", cl.replicas, None, lww_merge, quorum=2, timeout=1.0)
        assert read[0] == "mine"
        assert all(p.update[0] != "x" for b in cl.backends.values() for p in b.applied)

    run_virtual(main())


def test_same_microsecond_ballots_still_give_increasing_write_timestamps() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        frozen = lambda: EPOCH  # noqa: E731 - both coordinators' clocks stuck on one microsecond
        low, high = coordinator(cl.local, node=1, now_micros=frozen), coordinator(cl.local, node=2, now_micros=frozen)
        assert (await do_cas(low, cl, None, "a")).applied
        res = await do_cas(high, cl, "a", "b")  # its first ballot has the same micros, higher node
        assert res.applied
        data = cl.backends["r0"].data["k"]
        assert data[0] == "b" and data[1] > EPOCH
        assert high.stats.restarts == 1
        assert not any(b.tie_conflicts for b in cl.backends.values())

    run_virtual(main())


def test_restarted_coordinator_with_clock_behind_is_lifted_above_replica_ballots() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        await do_cas(coordinator(cl.local, node=1), cl, None, "a")
        behind = coordinator(cl.local, node=1, now_micros=lambda: EPOCH - 60_000_000)  # clock went back 1 min
        for b in cl.backends.values():  # start-up: seed the clock from the ballots on disk
            for st in b.states.values():
                behind.clock.observe(st.promised)
        res = await do_cas(behind, cl, "a", "b")
        assert res.applied and behind.stats.rounds == 1
        assert cl.backends["r0"].data["k"][1] > EPOCH
        # Without seeding, the first ballot is rejected, observe() lifts the clock, and it still works.
        unseeded = coordinator(cl.local, node=3, now_micros=lambda: EPOCH - 60_000_000)
        res = await do_cas(unseeded, cl, "b", "c")
        assert res.applied and unseeded.stats.contentions == 1

    run_virtual(main())


def test_commit_short_of_commit_acks_is_a_commit_timeout_but_decided() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        t = CountingTransport(cl.local, fail=lambda r, m: r == "r2" and type(m) is Commit)
        c = coordinator(t)
        with pytest.raises(PaxosCommitTimeout) as exc:
            await do_cas(c, cl, None, "a", commit_acks=3)
        assert exc.value.applied and (exc.value.received, exc.value.required) == (2, 3)
        assert cl.backends["r0"].data["k"][0] == "a" and "k" not in cl.backends["r2"].data
        # The next round repairs the laggard before using its read.
        assert (await do_cas(coordinator(cl.local, node=2), cl, "a", "b")).applied
        assert cl.backends["r2"].data["k"][0] == "b"

    run_virtual(main())


def test_timeout_when_every_message_is_lost() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        ft = FaultyTransport(cl.local, 1, drop_request=1.0, timeout=0.01)
        c = coordinator(ft)
        with pytest.raises(PaxosTimeout) as exc:
            await do_cas(c, cl, None, "a", timeout=0.2)
        assert type(exc.value) is PaxosTimeout and exc.value.received == 0 and exc.value.required == 2
        assert all(not b.states for b in cl.backends.values())

    run_virtual(main())


def test_per_key_queue_is_fifo_and_bounded() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        ft = FaultyTransport(cl.local, 1, delay=(0.001, 0.002))
        c = coordinator(ft, max_waiters=3)
        order: list[int] = []

        async def op(i: int) -> Any:
            res = await c.cas(
                "k",
                cl.replicas,
                None,
                lambda read, ts, i=i: ((i, ts, i), True),
                lww_merge,
                quorum=2,
                commit_acks=2,
                timeout=1.0,
            )
            order.append(i)
            return res

        results = await asyncio.gather(*(op(i) for i in range(6)), return_exceptions=True)
        assert [type(r).__name__ for r in results] == ["CasResult"] * 4 + ["PaxosOverloaded"] * 2
        assert isinstance(results[4], PaxosOverloaded)
        assert order == [0, 1, 2, 3] and c.stats.contentions == 0  # took turns, never duelled
        assert [r.read[0] for r in results[1:4]] == [0, 1, 2]  # each saw its predecessor's write
        assert len(c.queue) == 0

    run_virtual(main())


def test_queue_wait_times_out() -> None:
    async def main() -> None:
        cl = make_cluster(3)
        ft = FaultyTransport(cl.local, 1, delay=(0.05, 0.05))
        c = coordinator(ft)
        first = asyncio.ensure_future(do_cas(c, cl, None, "a", timeout=1.0))
        await asyncio.sleep(0)
        with pytest.raises(PaxosTimeout) as exc:
            await do_cas(c, cl, None, "b", timeout=0.01)
        assert exc.value.received == 0
        assert (await first).applied
        assert len(c.queue) == 0

    run_virtual(main())


# ---- the sans-IO round, fed by hand ------------------------------------------------------------------


def _round(
    update: Any = ("v", 0, 1), replicas: tuple[str, ...] = ("a", "b", "c"), commit_acks: int = 2, fuse: bool = False
) -> CasRound:
    ballot = ballot_from_micros(EPOCH, node=1)
    decide = lambda read, ts: (update, update is not None)  # noqa: E731
    return CasRound("k", replicas, ballot, None, decide, lww_merge, quorum=2, commit_acks=commit_acks, fuse_commit=fuse)


def _promise_all(rnd: CasRound) -> Broadcast:
    bc = rnd.start()
    promises = [(r, Promise(rnd.ballot, True, None, None, None)) for r in bc.targets]
    out = rnd.on_replies(bc.seq, promises)
    assert isinstance(out, Broadcast) and isinstance(out.message, Propose)
    return out


def test_round_fully_refused_proposal_retries() -> None:
    rnd = _round()
    bc = _promise_all(rnd)
    higher = ballot_from_micros(EPOCH + 5, node=2)
    assert rnd.on_replies(bc.seq, [("a", Refused(higher)), ("b", Refused(higher))]) is None  # wait for c
    assert rnd.on_replies(bc.seq, [("c", Refused(higher))]) == Retry("contention", 0, 2)
    assert rnd.highest_seen == higher


def test_round_partially_accepted_proposal_is_unknown() -> None:
    rnd = _round()
    bc = _promise_all(rnd)
    higher = ballot_from_micros(EPOCH + 5, node=2)
    out = rnd.on_replies(bc.seq, [("a", Accepted(rnd.ballot)), ("b", Refused(higher)), ("c", Refused(higher))])
    assert out == Unknown(1, 2)


def test_round_lost_reply_with_refusals_is_unknown_but_lost_request_is_not() -> None:
    higher = ballot_from_micros(EPOCH + 5, node=2)
    rnd = _round()
    bc = _promise_all(rnd)
    out = rnd.on_replies(bc.seq, [("a", ReplicaDown("a", True)), ("b", Refused(higher)), ("c", Refused(higher))])
    assert out == Unknown(0, 2)
    rnd = _round()
    bc = _promise_all(rnd)
    out = rnd.on_replies(bc.seq, [("a", ReplicaDown("a", False)), ("b", Refused(higher)), ("c", Refused(higher))])
    assert out == Retry("contention", 0, 2)


def test_round_empty_proposal_partially_accepted_retries() -> None:
    rnd = _round(update=None)
    bc = rnd.start()
    out = rnd.on_replies(
        bc.seq,
        [
            ("a", Promise(rnd.ballot, True, None, None, None)),
            ("b", Promise(rnd.ballot, True, None, None, None)),
            ("c", ReplicaDown("c", False)),
        ],
    )
    assert isinstance(out, Broadcast) and out.message == Propose(Proposal(rnd.ballot, "k", None))
    higher = ballot_from_micros(EPOCH + 5, node=2)
    out = rnd.on_replies(out.seq, [("a", Accepted(rnd.ballot)), ("b", Refused(higher)), ("c", Refused(higher))])
    assert out == Retry("contention", 1, 2)


def test_round_first_rejected_promise_ends_the_round_and_stale_replies_are_ignored() -> None:
    rnd = _round()
    bc = rnd.start()
    higher = ballot_from_micros(EPOCH + 5, node=2)
    assert rnd.on_replies(bc.seq, [("a", Promise(higher, False, None, None))]) == Retry("contention", 0, 2)
    assert rnd.on_replies(bc.seq, [("b", Promise(rnd.ballot, True, None, None))]) is None


def _fused_proposal(commit_acks: int) -> tuple[CasRound, Broadcast]:
    rnd = _round(commit_acks=commit_acks, fuse=True)
    bc = rnd.start()
    out = rnd.on_replies(bc.seq, [(r, Promise(rnd.ballot, True, None, None, None)) for r in bc.targets])
    assert isinstance(out, Broadcast) and out.message == ProposeAndCommit(Proposal(rnd.ballot, "k", ("v", 0, 1)))
    return rnd, out


def test_round_fused_commit_counts_commit_acks_and_never_waits_for_a_commit_phase() -> None:
    rnd, out = _fused_proposal(commit_acks=3)
    ack = CommitAck(rnd.ballot)
    assert rnd.on_replies(out.seq, [("a", ack), ("b", ack)]) is None  # wants 3
    assert rnd.on_replies(out.seq, [("c", ReplicaDown("c", False))]) == Decided(True, None, 2, 3)  # short


def test_round_fused_commit_accepted_by_too_few_is_unknown() -> None:
    rnd, out = _fused_proposal(commit_acks=2)
    higher = ballot_from_micros(EPOCH + 5, node=2)
    replies = [("a", CommitAck(rnd.ballot)), ("b", Refused(higher)), ("c", Refused(higher))]
    assert rnd.on_replies(out.seq, replies) == Unknown(1, 2)


def test_round_commit_then_decided() -> None:
    rnd = _round()
    bc = _promise_all(rnd)
    out = rnd.on_replies(bc.seq, [("a", Accepted(rnd.ballot)), ("b", Accepted(rnd.ballot))])
    assert isinstance(out, Broadcast) and isinstance(out.message, Commit)
    late = rnd.on_replies(bc.seq, [("c", Accepted(rnd.ballot))])
    assert late is None  # stale: the commit phase has begun
    assert rnd.on_replies(out.seq, [("a", CommitAck(rnd.ballot))]) is None
    assert rnd.on_replies(out.seq, [("c", CommitAck(rnd.ballot))]) == Decided(True, None, 2, 2)


def test_failed_condition_fences_an_older_in_progress_proposal_it_did_not_see() -> None:
    # CASSANDRA-12126 (in-JVM dtest CASTest.testIncompleteWriteSupersededByConflictingRejectedCondition):
    # X accepted by r0 only; a CAS whose condition fails on {r1, r2} must leave X unable to complete.
    async def main() -> None:
        cl = make_cluster(3)
        c = coordinator(cl.local)
        b1 = ballot_from_micros(EPOCH - 10, node=7)
        cl.backends["r0"].states["k"] = PaxosState(b1, Proposal(b1, "k", ("x", EPOCH - 10, 99)), None)
        cl.local.stop("r0")
        res = await do_cas(c, cl, "x", "y")
        assert not res.applied and res.read is None
        cl.local.start("r0")
        cl.local.stop("r2")
        assert await c.read_serial("k", cl.replicas, None, lww_merge, quorum=2, timeout=1.0) is None
        cl.local.start("r2")
        assert await c.read_serial("k", cl.replicas, None, lww_merge, quorum=2, timeout=1.0) is None
        assert not any(b.applied for b in cl.backends.values())

    run_virtual(main())
