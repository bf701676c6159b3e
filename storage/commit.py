"""Group commit for commitlog_sync=batch: one fsync of the write-ahead log per event-loop iteration,
shared by every write that reached the log meanwhile.

Measured on this machine (../shared/reference/storage-docker-packages.md §1.4): an fsync handed to a
thread or executor starves under the GIL once the loop is busy, while one inline fsync per loop
iteration kept most of the no-fsync throughput. The wait is short (~0.2 ms) and covers many writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class GroupCommit:
    def __init__(self, sync: Callable[[], None], enabled: bool) -> None:
        self._sync = sync
        self.enabled = enabled
        self._pending: asyncio.Future | None = None
        self.syncs = 0  # fsyncs done
        self.waits = 0  # acknowledgements that waited for one

    async def wait(self) -> None:
        """Return once everything written to the log so far is on disk (no-op in periodic mode)."""
        if not self.enabled:
            return
        self.waits += 1
        fut = self._pending
        if fut is None:
            loop = asyncio.get_running_loop()
            fut = self._pending = loop.create_future()
            # call_soon runs after the callbacks already queued in this iteration, so the requests
            # decoded from the same reads have written their records before the one fsync.
            loop.call_soon(self._flush, fut)
        await fut

    def _flush(self, fut: asyncio.Future) -> None:
        self._pending = None
        try:
            self._sync()
            self.syncs += 1
        except Exception as e:  # pragma: no cover - a failing disk must fail every waiting write
            fut.set_exception(e)
            return
        fut.set_result(None)
