"""Request bodies into message objects, response objects into bodies (protocol v4). No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from server import frame as fr
from server import wire
from server.wire import Reader, Unset, WireError

# Consistency levels by code, and back.
CONSISTENCY_NAMES = {
    0: "ANY",
    1: "ONE",
    2: "TWO",
    3: "THREE",
    4: "QUORUM",
    5: "ALL",
    6: "LOCAL_QUORUM",
    7: "EACH_QUORUM",
    8: "SERIAL",
    9: "LOCAL_SERIAL",
    10: "LOCAL_ONE",
}
CL = {name: code for code, name in CONSISTENCY_NAMES.items()}

Q_VALUES = 0x01
Q_SKIP_METADATA = 0x02
Q_PAGE_SIZE = 0x04
Q_PAGING_STATE = 0x08
Q_SERIAL = 0x10
Q_TIMESTAMP = 0x20
Q_NAMES = 0x40


@dataclass(slots=True)
class QueryParams:
    consistency: int = 1
    values: list = field(default_factory=list)  # bytes | None | UNSET per value
    names: list[str] | None = None
    skip_metadata: bool = False
    page_size: int | None = None
    paging_state: bytes | None = None
    serial_consistency: int = 8
    timestamp: int | None = None


def read_params(r: Reader) -> QueryParams:
    p = QueryParams()
    p.consistency = r.short()
    flags = r.byte()
    if flags & Q_VALUES:
        count = r.short()
        if flags & Q_NAMES:
            names, values = [], []
            for _ in range(count):
                names.append(r.string())
                values.append(r.value())
            p.names, p.values = names, values
        else:
            p.values = [r.value() for _ in range(count)]
    p.skip_metadata = bool(flags & Q_SKIP_METADATA)
    if flags & Q_PAGE_SIZE:
        p.page_size = r.int_()
    if flags & Q_PAGING_STATE:
        p.paging_state = r.bytes_()
    if flags & Q_SERIAL:
        p.serial_consistency = r.short()
    if flags & Q_TIMESTAMP:
        p.timestamp = r.long_()
    return p


@dataclass(slots=True)
class StartupMessage:
    options: dict[str, str]


@dataclass(slots=True)
class OptionsMessage:
    pass


@dataclass(slots=True)
class QueryMessage:
    query: str
    params: QueryParams


@dataclass(slots=True)
class PrepareMessage:
    query: str


@dataclass(slots=True)
class ExecuteMessage:
    statement_id: bytes
    params: QueryParams


@dataclass(slots=True)
class BatchEntry:
    query: str | None
    statement_id: bytes | None
    values: list


@dataclass(slots=True)
class BatchMessage:
    kind: int  # 0 logged, 1 unlogged, 2 counter
    entries: list[BatchEntry]
    consistency: int
    serial_consistency: int
    timestamp: int | None


@dataclass(slots=True)
class RegisterMessage:
    events: list[str]


@dataclass(slots=True)
class AuthResponseMessage:
    token: bytes | None


def _startup(r: Reader) -> StartupMessage:
    return StartupMessage(r.string_map())


def _options(r: Reader) -> OptionsMessage:
    return OptionsMessage()


def _query(r: Reader) -> QueryMessage:
    return QueryMessage(r.long_string(), read_params(r))


def _prepare(r: Reader) -> PrepareMessage:
    return PrepareMessage(r.long_string())


def _execute(r: Reader) -> ExecuteMessage:
    return ExecuteMessage(r.short_bytes(), read_params(r))


def _batch(r: Reader) -> BatchMessage:
    kind = r.byte()
    if kind > 2:
        raise WireError(f"Invalid BATCH message type {kind}")
    entries = []
    for _ in range(r.short()):
        entry_kind = r.byte()
        if entry_kind == 0:
            query, sid = r.long_string(), None
        elif entry_kind == 1:
            query, sid = None, r.short_bytes()
        else:
            raise WireError(f"Invalid query kind in BATCH messages. Must be 0 or 1 but got {entry_kind}")
        values = [r.value() for _ in range(r.short())]
        entries.append(BatchEntry(query, sid, values))
    consistency = r.short()
    flags = r.byte()
    if flags & Q_NAMES:
        # The spec documents named values in batches as unusable; Cassandra refuses them too.
        raise WireError("Named values are not supported in batches")
    serial = r.short() if flags & Q_SERIAL else 8
    timestamp = r.long_() if flags & Q_TIMESTAMP else None
    return BatchMessage(kind, entries, consistency, serial, timestamp)


def _register(r: Reader) -> RegisterMessage:
    return RegisterMessage(r.string_list())


def _auth_response(r: Reader) -> AuthResponseMessage:
    return AuthResponseMessage(r.bytes_())


DECODERS = {
    fr.OP_STARTUP: _startup,
    fr.OP_OPTIONS: _options,
    fr.OP_QUERY: _query,
    fr.OP_PREPARE: _prepare,
    fr.OP_EXECUTE: _execute,
    fr.OP_BATCH: _batch,
    fr.OP_REGISTER: _register,
    fr.OP_AUTH_RESPONSE: _auth_response,
}


def decode_request(opcode: int, body: bytes, has_custom_payload: bool = False):
    """Decode a request body. Raises WireError for a malformed body, KeyError for an unknown opcode."""
    decoder = DECODERS[opcode]
    r = Reader(body)
    if has_custom_payload:
        r.bytes_map()  # accepted and ignored, as Cassandra does without a payload handler
    return decoder(r)


# ---------------------------------------------------------------- responses

RESULT_VOID = 1
RESULT_ROWS = 2
RESULT_SET_KEYSPACE = 3
RESULT_PREPARED = 4
RESULT_SCHEMA_CHANGE = 5

ROWS_GLOBAL_SPEC = 0x0001
ROWS_HAS_MORE = 0x0002
ROWS_NO_METADATA = 0x0004

VOID_BODY = wire.int_(RESULT_VOID)


@dataclass(slots=True)
class ColumnSpec:
    keyspace: str
    table: str
    name: str
    type_option: bytes  # the type's [option] bytes


def metadata(columns: list[ColumnSpec], paging_state: bytes | None = None, no_metadata: bool = False) -> bytes:
    flags = 0
    parts: list[bytes] = []
    if paging_state is not None:
        flags |= ROWS_HAS_MORE
    if no_metadata:
        flags |= ROWS_NO_METADATA
    elif columns and all(c.keyspace == columns[0].keyspace and c.table == columns[0].table for c in columns):
        flags |= ROWS_GLOBAL_SPEC
    head = wire.int_(flags) + wire.int_(len(columns))
    if paging_state is not None:
        parts.append(wire.bytes_(paging_state))
    if not no_metadata:
        if flags & ROWS_GLOBAL_SPEC:
            parts.append(wire.string(columns[0].keyspace) + wire.string(columns[0].table))
            parts.extend(wire.string(c.name) + c.type_option for c in columns)
        else:
            parts.extend(
                wire.string(c.keyspace) + wire.string(c.table) + wire.string(c.name) + c.type_option for c in columns
            )
    return head + b"".join(parts)


def rows_body(
    columns: list[ColumnSpec],
    rows: list[list[bytes | None]],
    paging_state: bytes | None = None,
    no_metadata: bool = False,
) -> bytes:
    return rows_head(columns, paging_state, no_metadata) + rows_of(rows)


def rows_head(columns: list[ColumnSpec], paging_state: bytes | None = None, no_metadata: bool = False) -> bytes:
    """A ROWS result up to its rows: the same bytes for every result of one shape (callers may cache it)."""
    return wire.int_(RESULT_ROWS) + metadata(columns, paging_state, no_metadata)


def rows_of(rows: list[list[bytes | None]]) -> bytes:
    """The rows of a ROWS result, after `rows_head`."""
    out = [wire.int_(len(rows))]
    bytes_ = wire.bytes_
    for row in rows:
        out.extend(bytes_(v) for v in row)
    return b"".join(out)


def set_keyspace_body(keyspace: str) -> bytes:
    return wire.int_(RESULT_SET_KEYSPACE) + wire.string(keyspace)


def prepared_body(
    statement_id: bytes, bind_columns: list[ColumnSpec], pk_indexes: list[int], result_columns: list[ColumnSpec] | None
) -> bytes:
    flags = 0
    if bind_columns and all(
        c.keyspace == bind_columns[0].keyspace and c.table == bind_columns[0].table for c in bind_columns
    ):
        flags |= ROWS_GLOBAL_SPEC
    out = [wire.int_(RESULT_PREPARED), wire.short_bytes(statement_id)]
    out.append(wire.int_(flags) + wire.int_(len(bind_columns)) + wire.int_(len(pk_indexes)))
    out.extend(wire.short(i) for i in pk_indexes)
    if flags & ROWS_GLOBAL_SPEC:
        out.append(wire.string(bind_columns[0].keyspace) + wire.string(bind_columns[0].table))
        out.extend(wire.string(c.name) + c.type_option for c in bind_columns)
    else:
        out.extend(
            wire.string(c.keyspace) + wire.string(c.table) + wire.string(c.name) + c.type_option for c in bind_columns
        )
    if result_columns is None:
        out.append(metadata([], no_metadata=True))
    else:
        out.append(metadata(result_columns))
    return b"".join(out)


def schema_change_options(change: str, target: str, keyspace: str, name: str | None = None, args=None) -> bytes:
    out = wire.string(change) + wire.string(target) + wire.string(keyspace)
    if target in ("TABLE", "TYPE"):
        out += wire.string(name or "")
    elif target in ("FUNCTION", "AGGREGATE"):
        out += wire.string(name or "") + wire.string_list(list(args or []))
    return out


def schema_change_body(change: str, target: str, keyspace: str, name: str | None = None) -> bytes:
    return wire.int_(RESULT_SCHEMA_CHANGE) + schema_change_options(change, target, keyspace, name)


def schema_change_event_body(change: str, target: str, keyspace: str, name: str | None = None) -> bytes:
    return wire.string("SCHEMA_CHANGE") + schema_change_options(change, target, keyspace, name)


def supported_body(compression: tuple[str, ...]) -> bytes:
    return wire.string_multimap(
        {"CQL_VERSION": ["3.4.7"], "COMPRESSION": list(compression), "PROTOCOL_VERSIONS": ["4/v4"]}
    )


def is_unset(v) -> bool:
    return isinstance(v, Unset)
