"""Request frame in, response frame out. The one place a CqlError becomes an ERROR frame."""

from __future__ import annotations

import logging

from server import frame as fr
from server import messages as m
from server.errors import CqlError, ProtocolError, ServerError
from server.wire import WireError

log = logging.getLogger("cqld.dispatch")


class Result:
    """What executing a request produced: a RESULT body, plus warnings and an event to broadcast."""

    __slots__ = ("body", "warnings", "event")

    def __init__(self, body: bytes, warnings: list[str] | None = None, event: bytes | None = None) -> None:
        self.body = body
        self.warnings = warnings
        self.event = event


class Dispatcher:
    def __init__(self, node) -> None:
        self.node = node

    async def handle(self, conn, f: fr.Frame) -> bytes:
        session = conn.session
        try:
            body = f.body
            if f.flags & fr.FLAG_COMPRESSION:
                if session.compressor is None:
                    raise ProtocolError("Compressed frame received but no compression was negotiated")
                try:
                    body = session.compressor.decompress(body)
                except Exception as e:
                    raise ProtocolError(f"Cannot decompress frame body: {e}") from None
            try:
                msg = m.decode_request(f.opcode, body, bool(f.flags & fr.FLAG_CUSTOM_PAYLOAD))
            except KeyError:
                raise ProtocolError(f"Unknown opcode {f.opcode}") from None
            except WireError as e:
                raise ProtocolError(f"Invalid message body: {e}") from None
            return await self._handle(conn, session, f.stream, msg)
        except CqlError as e:
            return session.encode(f.stream, fr.OP_ERROR, e.body())
        except Exception:
            log.exception("error serving opcode %d", f.opcode)
            return session.encode(f.stream, fr.OP_ERROR, ServerError("Internal server error").body())

    async def _handle(self, conn, session, stream: int, msg) -> bytes:
        node = self.node
        if isinstance(msg, m.OptionsMessage):
            return session.encode(stream, fr.OP_SUPPORTED, m.supported_body(fr.SUPPORTED_COMPRESSION))
        if isinstance(msg, m.StartupMessage):
            name = msg.options.get("COMPRESSION")
            if name:
                if name.lower() not in fr.SUPPORTED_COMPRESSION:
                    raise ProtocolError(f"Unknown compression algorithm: {name}")
                out = fr.encode_frame(stream, fr.OP_READY, b"")
                session.compressor = fr.Compressor(name.lower())
            else:
                out = fr.encode_frame(stream, fr.OP_READY, b"")
            session.started = True
            return out
        if not session.started:
            raise ProtocolError(f"Unexpected message {type(msg).__name__[:-7].upper()}, expecting STARTUP or OPTIONS")
        if isinstance(msg, m.RegisterMessage):
            for e in msg.events:
                if e not in ("TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"):
                    raise ProtocolError(f"Invalid value '{e}' for Type")
            session.events.update(msg.events)
            return session.encode(stream, fr.OP_READY, b"")
        if isinstance(msg, m.QueryMessage):
            result = await node.executor.query(session, msg.query, msg.params)
        elif isinstance(msg, m.ExecuteMessage):
            result = await node.executor.execute(session, msg.statement_id, msg.params)
        elif isinstance(msg, m.PrepareMessage):
            result = node.executor.prepare(session, msg.query)
        elif isinstance(msg, m.BatchMessage):
            result = await node.executor.batch(session, msg)
        elif isinstance(msg, m.AuthResponseMessage):
            raise ProtocolError("Unexpected message AUTH_RESPONSE: authentication is not enabled")
        else:
            raise ProtocolError(f"Unexpected message {type(msg).__name__}")
        if result.event is not None:
            node.broadcast_schema_event(result.event)
        body = result.body
        flags = 0
        if result.warnings:
            from server import wire

            body = wire.string_list(result.warnings) + body
            flags = fr.FLAG_WARNING
        return session.encode(stream, fr.OP_RESULT, body, flags)
