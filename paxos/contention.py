"""Per-key FIFO admission in front of the coordinator.

LWTs on one partition from one coordinator take turns instead of duelling with ballots (as
Cassandra v2's `PaxosState.lock` and ScyllaDB's `get_cas_lock`). Bounded: when `max_waiters`
already wait for a key, the next one is refused with `PaxosOverloaded` rather than letting latency
collapse. The uncontended path is one dict lookup and insert, no future, no task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from paxos.errors import PaxosOverloaded

__all__ = ["KeyQueue"]


class KeyQueue:
    __slots__ = ("max_waiters", "_held")

    def __init__(self, max_waiters: int = 1024) -> None:
        self.max_waiters = max_waiters
        # key present ⇔ held; the deque holds the waiters' futures in arrival order.
        self._held: dict[Any, deque[asyncio.Future[None]]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def waiting(self, key: Any) -> int:
        q = self._held.get(key)
        return 0 if q is None else len(q)

    def is_held(self, key: Any) -> bool:
        return key in self._held

    def try_acquire(self, key: Any) -> bool:
        if key in self._held:
            return False
        self._held[key] = deque()
        return True

    def enqueue(self, key: Any) -> asyncio.Future[None]:
        """Join the queue of a held key; the future resolves when the turn passes to us."""
        q = self._held[key]
        if len(q) >= self.max_waiters:
            raise PaxosOverloaded(key, self.max_waiters)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        q.append(fut)
        return fut

    def abandon(self, key: Any, fut: asyncio.Future[None]) -> None:
        """A waiter gives up (deadline, cancellation). If the turn had already passed to it, pass it on."""
        if fut.done() and not fut.cancelled():
            self.release(key)
            return
        fut.cancel()
        q = self._held.get(key)
        if q is not None:
            try:
                q.remove(fut)
            except ValueError:
                pass

    def release(self, key: Any) -> None:
        q = self._held[key]
        while q:
            fut = q.popleft()
            if not fut.done():
                fut.set_result(None)  # ownership passes to the first live waiter
                return
        del self._held[key]
