"""The async driver of Paxos rounds: per-key queue, ballots, transport, deadline, retry and back-off.

All protocol decisions live in `paxos.round.CasRound`; this module only moves messages, keeps time
(injected `now`/`sleep`) and turns outcomes into results or errors:

  Decided            → CasResult (or PaxosCommitTimeout when the commit fell short of commit_acks)
  Retry("contention") → lift the clock above the winner, randomised exponential back-off, retry
  Retry("restart")    → retry at once with a fresh (higher) ballot
  Retry("short")      → too few replies: back off, retry until the deadline
  Unknown            → PaxosUnknownResult (never retry a write that may have been accepted)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from paxos.ballot import BallotClock
from paxos.contention import KeyQueue
from paxos.errors import (
    PaxosCommitTimeout,
    PaxosTimeout,
    PaxosUnavailable,
    PaxosUnknownResult,
    ReplicaDown,
)
from paxos.fast import fast_round
from paxos.messages import Commit
from paxos.round import Broadcast, CasRound, Decide, Decided, MergeReads, Outcome, Retry, Unknown
from paxos.transport import Transport

__all__ = ["CasResult", "Coordinator", "CoordinatorStats"]

ReplicaId = Any


@dataclass(slots=True, unsafe_hash=True)
class CasResult:
    applied: bool
    read: Any


@dataclass(slots=True)
class CoordinatorStats:
    """Counters in the spirit of Cassandra's CASWrite/CASRead metrics."""

    operations: int = 0
    rounds: int = 0
    fast_rounds: int = 0  # of `rounds`, those run as one pass over states in one store (paxos.fast)
    contentions: int = 0
    restarts: int = 0
    unavailable: int = 0
    timeouts: int = 0
    unknown: int = 0
    overloaded: int = 0
    queue_waits: int = 0


def _never_applies(read: Any, timestamp: int) -> tuple[Any, bool]:
    return None, False


class Coordinator:
    def __init__(
        self,
        clock: BallotClock,
        transport: Transport,
        rng: random.Random,
        sleep: Callable[[float], Awaitable[Any]],
        now: Callable[[], float],
        *,
        max_waiters: int = 1024,
        backoff_base: float = 0.002,
        backoff_max: float = 0.1,
        skip_empty_when_unanimous: bool = True,
        fuse_commit: bool = False,
    ) -> None:
        self.clock = clock
        self.transport = transport
        self.rng = rng
        self.sleep = sleep
        self.now = now
        self.queue = KeyQueue(max_waiters)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.skip_empty_when_unanimous = skip_empty_when_unanimous
        # Propose and commit in one broadcast: only over a transport that delivers synchronously to every
        # live replica and loses nothing (LocalTransport); see paxos.round.
        self.fuse_commit = fuse_commit
        self.stats = CoordinatorStats()
        self._background: set[asyncio.Task[Any]] = set()
        # Replicas whose states share one store (LocalTransport.group): a round whose preconditions
        # hold runs as one pass over their states (paxos.fast), the same outcome as the general round.
        # Only over a synchronous transport: a one-pass round without a proposal records no promise.
        one_pass = fuse_commit and skip_empty_when_unanimous and transport.immediate
        self._group = getattr(transport, "group", None) if one_pass else None
        # Whether every one of some replicas is up, in one call (LocalTransport), else None.
        self._all_alive: Callable[[Sequence[ReplicaId]], bool] | None = getattr(transport, "all_alive", None)

    # ---- public API -----------------------------------------------------------------------------

    async def cas(
        self,
        key: Any,
        replicas: Sequence[ReplicaId],
        read_request: Any,
        decide: Decide,
        merge_reads: MergeReads,
        *,
        quorum: int,
        commit_acks: int,
        timeout: float,
    ) -> CasResult:
        """Compare-and-set `key`: `decide(merged_read, ballot_micros) -> (update | None, applied)`."""
        self.stats.operations += 1
        all_alive = self._all_alive is not None and self._all_alive(replicas)
        if not all_alive:
            self._require_alive(replicas, quorum)
        deadline = self.now() + timeout
        queue = self.queue
        # The usual LWT: nobody holds the key, every replica is up. Its one-pass round runs here, without
        # the coroutines of the general path (they were a visible share of its time), and without taking
        # the key's turn: it runs to its end without yielding, so nobody could wait for it.
        if all_alive and not queue.is_held(key):
            done = self._one_pass(key, replicas, self.clock.next(), read_request, decide, merge_reads)
            if done is not None:
                return done
        if not queue.try_acquire(key):
            return await self._queued(key, replicas, read_request, decide, merge_reads, quorum, commit_acks, deadline)
        try:
            return await self._attempts(key, replicas, read_request, decide, merge_reads, quorum, commit_acks, deadline)
        finally:
            queue.release(key)

    async def read_serial(
        self,
        key: Any,
        replicas: Sequence[ReplicaId],
        read_request: Any,
        merge_reads: MergeReads,
        *,
        quorum: int,
        timeout: float,
    ) -> Any:
        """SELECT at SERIAL: finish any in-progress proposal, then read, fencing older proposals."""
        result = await self.cas(
            key, replicas, read_request, _never_applies, merge_reads, quorum=quorum, commit_acks=0, timeout=timeout
        )
        return result.read

    @contextlib.asynccontextmanager
    async def exclusive(self, keys: Sequence[Any], timeout: float, quorum: int) -> AsyncIterator[float]:
        """Hold the turn on several keys at once (for transactions over several partitions); yields
        the deadline. Callers pass the keys in one global order so that two of them cannot deadlock."""
        deadline = self.now() + timeout
        taken: list[Any] = []
        try:
            for key in keys:
                if not self.queue.try_acquire(key):
                    await self._wait_turn(key, deadline, quorum)
                taken.append(key)
            yield deadline
        finally:
            for key in reversed(taken):
                self.queue.release(key)

    async def read_serial_held(
        self,
        key: Any,
        replicas: Sequence[ReplicaId],
        read_request: Any,
        merge_reads: MergeReads,
        *,
        quorum: int,
        deadline: float,
    ) -> Any:
        """`read_serial` for a key whose turn the caller holds (see `exclusive`)."""
        self._require_alive(replicas, quorum)
        result = await self._attempts(key, replicas, read_request, _never_applies, merge_reads, quorum, 0, deadline)
        return result.read

    # ---- driver -----------------------------------------------------------------------------------

    async def _queued(
        self,
        key: Any,
        replicas: Sequence[ReplicaId],
        read_request: Any,
        decide: Decide,
        merge_reads: MergeReads,
        quorum: int,
        commit_acks: int,
        deadline: float,
    ) -> CasResult:
        """`cas` for a key whose turn another LWT holds: wait for it (FIFO), then run the rounds."""
        await self._wait_turn(key, deadline, quorum)
        try:
            return await self._attempts(key, replicas, read_request, decide, merge_reads, quorum, commit_acks, deadline)
        finally:
            self.queue.release(key)

    def _require_alive(self, replicas: Sequence[ReplicaId], quorum: int) -> None:
        """Refuse up front when too few replicas are up to ever reach a quorum (Cassandra's Unavailable)."""
        if self._all_alive is not None and self._all_alive(replicas):
            return
        is_alive = self.transport.is_alive
        alive = 0
        for r in replicas:
            if is_alive(r):
                alive += 1
        if alive < quorum:
            self.stats.unavailable += 1
            raise PaxosUnavailable(quorum, alive)

    async def _wait_turn(self, key: Any, deadline: float, quorum: int) -> None:
        self.stats.queue_waits += 1
        try:
            fut = self.queue.enqueue(key)
        except Exception:
            self.stats.overloaded += 1
            raise
        timer = asyncio.ensure_future(self.sleep(max(0.0, deadline - self.now())))
        try:
            await asyncio.wait((fut, timer), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            timer.cancel()
            self.queue.abandon(key, fut)
            raise
        timer.cancel()
        if not fut.done():
            self.queue.abandon(key, fut)
            self.stats.timeouts += 1
            raise PaxosTimeout(0, quorum, 0)

    async def _attempts(
        self,
        key: Any,
        replicas: Sequence[ReplicaId],
        read_request: Any,
        decide: Decide,
        merge_reads: MergeReads,
        quorum: int,
        commit_acks: int,
        deadline: float,
    ) -> CasResult:
        stats = self.stats
        contentions = 0
        received = 0
        failures = 0
        while True:
            if self.now() >= deadline:
                stats.timeouts += 1
                raise PaxosTimeout(received, quorum, contentions)
            ballot = self.clock.next()
            if self._all_alive is not None and self._all_alive(replicas):
                done = self._one_pass(key, replicas, ballot, read_request, decide, merge_reads)
                if done is not None:
                    return done
            rnd = CasRound(
                key,
                replicas,
                ballot,
                read_request,
                decide,
                merge_reads,
                quorum=quorum,
                commit_acks=commit_acks,
                skip_empty_when_unanimous=self.skip_empty_when_unanimous,
                fuse_commit=self.fuse_commit,
            )
            stats.rounds += 1
            outcome = await self._drive(rnd, deadline)
            # Ballots seen in replies (higher promises, accepted, committed) bound our next ballot.
            self.clock.observe(rnd.highest_seen)
            if outcome is None:  # deadline passed before a proposal of ours went out
                stats.timeouts += 1
                raise PaxosTimeout(received, quorum, contentions)
            if type(outcome) is Decided:
                if outcome.background is not None:
                    await self._fire(outcome.background)
                if outcome.commit_short:
                    stats.timeouts += 1
                    raise PaxosCommitTimeout(outcome.commit_acks, outcome.commit_required, contentions)
                return CasResult(outcome.applied, outcome.read)
            if type(outcome) is Unknown:
                stats.unknown += 1
                raise PaxosUnknownResult(outcome.accepted, outcome.required, contentions)
            assert type(outcome) is Retry
            received = outcome.received
            if outcome.reason == "restart":
                stats.restarts += 1
                continue
            if outcome.reason == "contention":
                contentions += 1
                stats.contentions += 1
            failures += 1
            await self._backoff(failures, deadline)

    def _one_pass(
        self,
        key: Any,
        replicas: Sequence[ReplicaId],
        ballot: Any,
        read_request: Any,
        decide: Decide,
        merge_reads: MergeReads,
    ) -> CasResult | None:
        """The round at `ballot` as one pass over the replicas' states (paxos.fast), when the transport
        offers them in one store and the round would be the plain one; None (nothing done) otherwise."""
        if self._group is None:
            return None
        done = fast_round(self._group, key, replicas, ballot, read_request, decide, merge_reads)
        if done is None:
            return None
        self.stats.rounds += 1
        self.stats.fast_rounds += 1
        self.transport.sync()
        return CasResult(*done)

    async def _backoff(self, failures: int, deadline: float) -> None:
        # Randomised exponential back-off (Cassandra v1 sleeps uniform 0–100 ms; v2 grows with
        # attempts): duelling coordinators on other nodes de-synchronise.
        cap = min(self.backoff_max, self.backoff_base * (2 ** min(failures, 16)))
        delay = min(self.rng.uniform(0.0, cap), max(0.0, deadline - self.now()))
        if delay > 0:
            await self.sleep(delay)

    async def _drive(self, rnd: CasRound, deadline: float) -> Outcome | None:
        if self.transport.immediate:
            return self._drive_now(rnd, deadline)
        action: Broadcast | Outcome = rnd.start()
        while type(action) is Broadcast:
            # Past the deadline, do not start a new prepare or proposal; a commit of a decided value
            # is always carried out.
            if type(action.message) is not Commit and self.now() >= deadline:
                return None
            action = await self._exchange(rnd, action)
        return action  # type: ignore[return-value]

    def _drive_now(self, rnd: CasRound, deadline: float) -> Outcome | None:
        """The production path: nothing suspends (the whole round runs without yielding to the event
        loop), and the round sees all replies at once, so it can notice unanimity."""
        broadcast = self.transport.broadcast
        action: Broadcast | Outcome | None = rnd.start()
        while type(action) is Broadcast:
            if type(action.message) is not Commit and self.now() >= deadline:
                return None
            action = rnd.on_replies(action.seq, broadcast(action.targets, action.message))
            if action is None:
                raise AssertionError("round undecided after every reply arrived")
        return action  # type: ignore[return-value]

    async def _exchange(self, rnd: CasRound, bc: Broadcast) -> Broadcast | Outcome:
        transport = self.transport
        msg = bc.message
        loop = asyncio.get_running_loop()
        inbox: list[tuple[ReplicaId, object]] = []
        wake: list[asyncio.Future[None]] = [loop.create_future()]

        def deliver(replica: ReplicaId, task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                item: object = ReplicaDown(replica, True)
            else:
                exc = task.exception()
                item = task.result() if exc is None else exc
                if exc is not None and not isinstance(exc, ReplicaDown):
                    item = ReplicaDown(replica, True)
            inbox.append((replica, item))
            if not wake[0].done():
                wake[0].set_result(None)

        for r in bc.targets:
            task = asyncio.ensure_future(transport.send(r, msg))
            task.add_done_callback(lambda t, r=r: deliver(r, t))
        while True:
            await wake[0]
            wake[0] = loop.create_future()
            batch = inbox[:]
            inbox.clear()
            result = rnd.on_replies(bc.seq, batch)
            if result is not None:
                return result

    async def _fire(self, bc: Broadcast) -> None:
        """Send without waiting for replies (commit_acks == 0); a lost commit is repaired by the next round."""
        transport = self.transport
        if transport.immediate:
            transport.broadcast(bc.targets, bc.message)  # direct calls: nothing to wait for anyway
            return
        for r in bc.targets:
            task = asyncio.ensure_future(transport.send(r, bc.message))
            self._background.add(task)
            task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled():
            task.exception()  # retrieve it: a lost commit is repaired by the next round
