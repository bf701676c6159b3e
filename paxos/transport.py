"""The one seam between coordinators and acceptors.

`LocalTransport` is the production path: a direct method call on the replica's `Acceptor`, no task,
no sleep (`immediate = True` tells the coordinator to hand it whole broadcasts: `broadcast` calls the
replicas one after the other and returns every reply). Its `sync` hook runs after each broadcast and
each single delivery: the server uses it to write what the acceptors staged in one engine write, so
the three replicas of a commit cost one write, not three. `FaultyTransport` wraps any transport with a seeded schedule of delays,
drops, duplicates and reordering, for simulation tests and for users who want to watch their
application handle timeouts.

Contract of `send`: it always finishes — with the reply, or with `ReplicaDown` (immediately when the
replica is stopped, after the transport's timeout when a message is lost).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from paxos.acceptor import Acceptor
from paxos.errors import ReplicaDown
from paxos.fast import GroupBackend
from paxos.messages import Message, Reply

__all__ = ["FaultyTransport", "LocalTransport", "Transport"]

ReplicaId = Any


class Transport(Protocol):
    # True when the transport never suspends: the coordinator then uses `broadcast`, not `send`.
    immediate: bool

    def is_alive(self, replica: ReplicaId) -> bool: ...

    async def send(self, replica: ReplicaId, msg: Message) -> Reply: ...

    def broadcast(self, targets: Sequence[ReplicaId], msg: Message) -> list[tuple[ReplicaId, Reply | ReplicaDown]]:
        """Immediate transports only: every target's reply (or its `ReplicaDown`), in order."""
        ...


def _nothing() -> None:
    pass


class LocalTransport:
    """Direct calls into in-process acceptors; a stopped replica raises `ReplicaDown` at once."""

    immediate = True

    def __init__(
        self,
        acceptors: Mapping[ReplicaId, Acceptor],
        sync: Callable[[], None] | None = None,
        group: GroupBackend | None = None,
    ) -> None:
        self.acceptors = dict(acceptors)
        self.down: set[ReplicaId] = set()
        self.sync = sync or _nothing
        # The acceptors' states as one store, when they share one (paxos.fast): the coordinator may then
        # run a plain round as one pass over them.
        self.group = group

    def stop(self, replica: ReplicaId) -> None:
        self.down.add(replica)

    def start(self, replica: ReplicaId) -> None:
        self.down.discard(replica)

    def is_alive(self, replica: ReplicaId) -> bool:
        return replica not in self.down

    def all_alive(self, replicas: Sequence[ReplicaId]) -> bool:
        down = self.down
        return not down or not any(r in down for r in replicas)

    def deliver(self, replica: ReplicaId, msg: Message) -> Reply:
        """Synchronous delivery (used by wrappers that do their own scheduling)."""
        if replica in self.down:
            raise ReplicaDown(replica, False)
        reply = self.acceptors[replica].handle(msg)
        self.sync()
        return reply

    def broadcast(self, targets: Sequence[ReplicaId], msg: Message) -> list[tuple[ReplicaId, Reply | ReplicaDown]]:
        """Deliver to every target in turn; a stopped replica's entry is its `ReplicaDown`."""
        items: list[tuple[ReplicaId, Reply | ReplicaDown]] = []
        acceptors, down = self.acceptors, self.down
        for r in targets:
            items.append((r, ReplicaDown(r, False) if r in down else acceptors[r].handle(msg)))
        self.sync()
        return items

    async def send(self, replica: ReplicaId, msg: Message) -> Reply:
        return self.deliver(replica, msg)


class FaultyTransport:
    """A seeded unreliable network in front of `inner` (a `LocalTransport`-like object).

    Per message, drawn from `random.Random(rng_seed)` in the order messages are sent:
      drop_request:  the request is lost → `ReplicaDown(maybe_delivered=False)` after `timeout`;
      delay:         (lo, hi) seconds before delivery and again before the reply — independent
                     draws, so messages overtake each other (reordering);
      drop_reply:    the acceptor handled it but the reply is lost → `ReplicaDown(True)` after `timeout`;
      duplicate:     the request is delivered once more later (reply discarded): replays.
    A replica that is stopped when the message *arrives* raises `ReplicaDown(False)` (after the
    delay). Deterministic given the seed and a deterministic event loop (see tests' virtual loop).
    """

    immediate = False

    def __init__(
        self,
        inner: LocalTransport,
        rng_seed: int,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        drop_request: float = 0.0,
        drop_reply: float = 0.0,
        duplicate: float = 0.0,
        delay: tuple[float, float] = (0.0, 0.0),
        timeout: float = 0.05,
    ) -> None:
        self.inner = inner
        self.rng = random.Random(rng_seed)
        self.sleep = sleep
        self.drop_request = drop_request
        self.drop_reply = drop_reply
        self.duplicate = duplicate
        self.delay = delay
        self.timeout = timeout
        self.sent = 0
        self._background: set[asyncio.Task[None]] = set()

    def stop(self, replica: ReplicaId) -> None:
        self.inner.stop(replica)

    def start(self, replica: ReplicaId) -> None:
        self.inner.start(replica)

    def is_alive(self, replica: ReplicaId) -> bool:
        return self.inner.is_alive(replica)

    def _delay(self) -> float:
        lo, hi = self.delay
        return lo if hi <= lo else self.rng.uniform(lo, hi)

    async def send(self, replica: ReplicaId, msg: Message) -> Reply:
        self.sent += 1
        rng = self.rng
        # Draw every decision up front so the schedule depends only on the send order.
        lose_request = rng.random() < self.drop_request
        lose_reply = rng.random() < self.drop_reply
        dup = rng.random() < self.duplicate
        there, back, later = self._delay(), self._delay(), self._delay() + self._delay()
        if dup:
            task = asyncio.ensure_future(self._late_delivery(replica, msg, there + later))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        if lose_request:
            await self.sleep(self.timeout)
            # A copy of this request is still on its way when it is duplicated: then the sender cannot
            # claim it was never delivered (found by the many-schedule sweep, seed 2412).
            raise ReplicaDown(replica, dup)
        if there:
            await self.sleep(there)
        reply = self.inner.deliver(replica, msg)
        if lose_reply:
            await self.sleep(self.timeout)
            raise ReplicaDown(replica, True)
        if back:
            await self.sleep(back)
        return reply

    async def _late_delivery(self, replica: ReplicaId, msg: Message, after: float) -> None:
        await self.sleep(after)
        try:
            self.inner.deliver(replica, msg)
        except ReplicaDown:
            pass
