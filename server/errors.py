"""Protocol errors: one class per native-protocol error code, each knowing its body layout.

Raised where a problem is found; turned into an ERROR frame in exactly one place (dispatch).
"""

from __future__ import annotations

from server import wire


class CqlError(Exception):
    code = 0x0000

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extra(self) -> bytes:
        return b""

    def body(self) -> bytes:
        return wire.int_(self.code) + wire.string(self.message) + self.extra()


class ServerError(CqlError):
    code = 0x0000


class ProtocolError(CqlError):
    code = 0x000A


class BadCredentials(CqlError):
    code = 0x0100


class Unavailable(CqlError):
    code = 0x1000

    def __init__(self, message: str, consistency: int, required: int, alive: int) -> None:
        super().__init__(message)
        self.consistency, self.required, self.alive = consistency, required, alive

    def extra(self) -> bytes:
        return wire.short(self.consistency) + wire.int_(self.required) + wire.int_(self.alive)


class Overloaded(CqlError):
    code = 0x1001


class IsBootstrapping(CqlError):
    code = 0x1002


class TruncateError(CqlError):
    code = 0x1003


class WriteTimeout(CqlError):
    code = 0x1100

    def __init__(self, message: str, consistency: int, received: int, block_for: int, write_type: str) -> None:
        super().__init__(message)
        self.consistency, self.received, self.block_for, self.write_type = consistency, received, block_for, write_type

    def extra(self) -> bytes:
        return (
            wire.short(self.consistency)
            + wire.int_(self.received)
            + wire.int_(self.block_for)
            + wire.string(self.write_type)
        )


class ReadTimeout(CqlError):
    code = 0x1200

    def __init__(self, message: str, consistency: int, received: int, block_for: int, data_present: bool) -> None:
        super().__init__(message)
        self.consistency, self.received, self.block_for, self.data_present = (
            consistency,
            received,
            block_for,
            data_present,
        )

    def extra(self) -> bytes:
        return (
            wire.short(self.consistency)
            + wire.int_(self.received)
            + wire.int_(self.block_for)
            + bytes([1 if self.data_present else 0])
        )


class FunctionFailure(CqlError):
    """A function (arithmetic included) failed on its arguments: Cassandra's FUNCTION_FAILURE."""

    code = 0x1400

    def __init__(self, message: str, keyspace: str, function: str, arg_types: list[str]) -> None:
        super().__init__(message)
        self.keyspace, self.function, self.arg_types = keyspace, function, arg_types

    def extra(self) -> bytes:
        return wire.string(self.keyspace) + wire.string(self.function) + wire.string_list(self.arg_types)


class SyntaxException(CqlError):
    code = 0x2000


class Unauthorized(CqlError):
    code = 0x2100


class InvalidRequest(CqlError):
    code = 0x2200


class ConfigurationException(CqlError):
    code = 0x2300


class AlreadyExists(CqlError):
    code = 0x2400

    def __init__(self, message: str, keyspace: str, table: str = "") -> None:
        super().__init__(message)
        self.keyspace, self.table = keyspace, table

    def extra(self) -> bytes:
        return wire.string(self.keyspace) + wire.string(self.table)


class Unprepared(CqlError):
    code = 0x2500

    def __init__(self, message: str, statement_id: bytes) -> None:
        super().__init__(message)
        self.statement_id = statement_id

    def extra(self) -> bytes:
        return wire.short_bytes(self.statement_id)


def unavailable(consistency: int, required: int, alive: int) -> Unavailable:
    from server.messages import CONSISTENCY_NAMES

    name = CONSISTENCY_NAMES.get(consistency, str(consistency))
    return Unavailable(f"Cannot achieve consistency level {name}", consistency, required, alive)
