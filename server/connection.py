"""One client connection: bytes in and out, one task per request, replies in completion order.

Replies finished in the same event-loop iteration leave together, up to REPLY_BATCH per socket write.

Only moves bytes and schedules work; decoding lives in frame.py/messages.py, meaning in dispatch.py.
"""

from __future__ import annotations

import asyncio
import logging

from server import frame as fr
from server.errors import ProtocolError
from server.session import Session

log = logging.getLogger("cqld.connection")
# Replies sent together, at most. A send per reply costs a tenth of a small request's CPU; but every
# reply held back is a client left waiting. Holding them to the end of the loop iteration cut plain
# INSERT throughput through the driver by a third, and holding up to 8 put a driver with 8 requests in
# flight in lock step with the server (all 8 answered at once, then 8 sent while the server idled):
# 2 instead of 8 took LWTs with 8 in flight from 0.6 to 0.9 of their rate with 128 (bench/, docs/bench.md).
REPLY_BATCH = 2


class Connection(asyncio.Protocol):
    def __init__(self, node) -> None:
        self.node = node
        self.decoder = fr.FrameDecoder()
        self.session = Session()
        self.transport: asyncio.Transport | None = None
        self.in_flight = 0
        self.paused = False
        self.closed = False
        self._outbox: list[bytes] | None = None  # replies waiting for the end of this loop iteration

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport
        limit = self.node.config.max_pending_reply_bytes
        transport.set_write_buffer_limits(high=limit, low=limit // 4)
        self.node.connections.add(self)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.node.connections.discard(self)

    def pause_writing(self) -> None:
        # Replies are piling up unsent: stop reading new requests until the client drains them.
        self._pause()

    def resume_writing(self) -> None:
        self._resume()

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except fr.UnsupportedVersion as e:
            body = ProtocolError(str(e)).body()
            self.flush_replies()
            self.transport.write(fr.encode_frame(e.stream, fr.OP_ERROR, body, version=e.reply_version))
            self.transport.close()
            return
        except fr.FramingError as e:
            self.flush_replies()
            self.transport.write(fr.encode_frame(0, fr.OP_ERROR, ProtocolError(str(e)).body()))
            self.transport.close()
            return
        for f in frames:
            self.in_flight += 1
            asyncio.ensure_future(self._serve(f))
        if self.in_flight > 4096:
            self._pause()

    # ------------------------------------------------------------ requests

    async def _serve(self, f: fr.Frame) -> None:
        try:
            out = await self.node.dispatch.handle(self, f)
        except Exception:  # an invariant broke: answer with a server error, keep the connection
            log.exception("unhandled error on stream %d", f.stream)
            from server.errors import ServerError

            out = fr.encode_frame(f.stream, fr.OP_ERROR, ServerError("Internal server error").body())
        finally:
            self.in_flight -= 1
        if not self.closed and out is not None:
            if self._outbox is None:
                self._outbox = [out]
                asyncio.get_running_loop().call_soon(self.flush_replies)
            else:
                self._outbox.append(out)
                if len(self._outbox) >= REPLY_BATCH:
                    self.flush_replies()
        elif self.paused:
            self._maybe_resume()

    def flush_replies(self) -> None:
        out, self._outbox = self._outbox, None
        if out and not self.closed:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if self.paused:
            self._maybe_resume()

    def _maybe_resume(self) -> None:
        if self.in_flight < 1024 and self.transport.get_write_buffer_size() < (
            self.node.config.max_pending_reply_bytes // 4
        ):
            self._resume()

    def push_event(self, body: bytes) -> None:
        if not self.closed:
            self.transport.write(self.session.encode(-1, fr.OP_EVENT, body))

    def _pause(self) -> None:
        if not self.paused and not self.closed:
            self.paused = True
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self.paused and not self.closed:
            self.paused = False
            self.transport.resume_reading()
