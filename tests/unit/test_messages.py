"""Tests for server.messages and server.errors, differentially against the DataStax Python driver.

Requests are encoded by the driver (`cassandra.protocol`) and decoded by our FrameDecoder + decode_request;
responses are built by our code and decoded by the driver's ProtocolHandler (both the Cython and pure-Python one).
"""

from __future__ import annotations

import io
import random
import socket
import struct
import uuid

import pytest
from cassandra import ConsistencyLevel, SchemaTargetType, WriteType
from cassandra import connection as dconn
from cassandra import cqltypes as dt
from cassandra import protocol as dp
from cassandra.query import UNSET_VALUE, BatchType

from server import errors as er
from server import frame as fr
from server import messages as m
from server import wire
from server.frame import FrameDecoder, encode_frame
from server.messages import ColumnSpec
from server.wire import UNSET, WireError

HANDLERS = [dp.ProtocolHandler, dp._ProtocolHandler]
HANDLER_IDS = ["default", "python"]


# ---------------------------------------------------------------- helpers


def driver_encode(msg, stream: int = 0, compressor=None) -> bytes:
    return dp.ProtocolHandler.encode_message(
        msg, stream, protocol_version=4, compressor=compressor, allow_beta_protocol_version=False
    )


def our_decode(data: bytes, compressor: fr.Compressor | None = None):
    frames = FrameDecoder().feed(data)
    assert len(frames) == 1
    f = frames[0]
    body = f.body
    if f.flags & fr.FLAG_COMPRESSION:
        assert compressor is not None
        body = compressor.decompress(body)
    return f, m.decode_request(f.opcode, body, bool(f.flags & fr.FLAG_CUSTOM_PAYLOAD))


def driver_decode(frame: bytes, handler=dp.ProtocolHandler, result_metadata=None):
    version, flags, stream, opcode, length = struct.unpack(">BBhBi", frame[:9])
    assert version == 0x84
    assert length == len(frame) - 9
    return handler.decode_message(4, {}, stream, flags, opcode, frame[9:], None, result_metadata)


def respond(opcode: int, body: bytes, stream: int = 3, flags: int = 0, handler=dp.ProtocolHandler, **kw):
    msg = driver_decode(encode_frame(stream, opcode, body, flags), handler, **kw)
    assert msg.stream_id == stream
    return msg


def opt(code: int, *subs: bytes) -> bytes:
    return wire.short(code) + b"".join(subs)


T_ASCII, T_BIGINT, T_BLOB, T_BOOL, T_DOUBLE, T_INT, T_TIMESTAMP, T_UUID, T_TEXT = (
    0x01, 0x02, 0x03, 0x04, 0x07, 0x09, 0x0B, 0x0C, 0x0D
)  # fmt: skip
T_LIST, T_MAP, T_SET, T_TUPLE = 0x20, 0x21, 0x22, 0x31


def ser(cls, value) -> bytes:
    return cls.serialize(value, 4)


# ---------------------------------------------------------------- consistency names


def test_consistency_codes_match_driver():
    assert m.CONSISTENCY_NAMES == ConsistencyLevel.value_to_name
    assert all(m.CL[name] == code for code, name in ConsistencyLevel.value_to_name.items())


# ---------------------------------------------------------------- requests (driver -> us)


def test_startup():
    data = driver_encode(dp.StartupMessage(cqlversion="3.0.0", options={"COMPRESSION": "lz4", "DRIVER_NAME": "é"}))
    f, msg = our_decode(data)
    assert f.opcode == fr.OP_STARTUP
    assert isinstance(msg, m.StartupMessage)
    assert msg.options == {"CQL_VERSION": "3.0.0", "COMPRESSION": "lz4", "DRIVER_NAME": "é"}


def test_options():
    f, msg = our_decode(driver_encode(dp.OptionsMessage(), stream=17))
    assert (f.stream, f.opcode, f.body) == (17, fr.OP_OPTIONS, b"")
    assert isinstance(msg, m.OptionsMessage)


def test_register():
    events = ["TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"]
    f, msg = our_decode(driver_encode(dp.RegisterMessage(events)))
    assert f.opcode == fr.OP_REGISTER
    assert msg == m.RegisterMessage(events)


def test_auth_response():
    f, msg = our_decode(driver_encode(dp.AuthResponseMessage(b"\x00cassandra\x00cassandra")))
    assert f.opcode == fr.OP_AUTH_RESPONSE
    assert msg == m.AuthResponseMessage(b"\x00cassandra\x00cassandra")


def test_prepare():
    q = "INSERT INTO ks.t (k, v) VALUES (?, ?) -- ünïcode"
    f, msg = our_decode(driver_encode(dp.PrepareMessage(q), stream=300))
    assert (f.stream, f.opcode) == (300, fr.OP_PREPARE)
    assert msg == m.PrepareMessage(q)


def test_query_defaults():
    f, msg = our_decode(driver_encode(dp.QueryMessage("SELECT * FROM system.local", ConsistencyLevel.ONE)))
    assert f.opcode == fr.OP_QUERY
    assert isinstance(msg, m.QueryMessage)
    assert msg.query == "SELECT * FROM system.local"
    assert msg.params == m.QueryParams(
        consistency=1,
        values=[],
        names=None,
        skip_metadata=False,
        page_size=None,
        paging_state=None,
        serial_consistency=ConsistencyLevel.SERIAL,
        timestamp=None,
    )


def test_query_all_options():
    qm = dp.QueryMessage(
        "SELECT * FROM ks.t WHERE k = ? AND c IN (?, ?, ?)",
        ConsistencyLevel.LOCAL_QUORUM,
        serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
        fetch_size=5000,
        paging_state=b"\x00\x04abcd\x7f\xff",
        timestamp=1_700_000_000_123_456,
    )
    qm.query_params = [ser(dt.Int32Type, 42), None, UNSET_VALUE, b""]
    _, msg = our_decode(driver_encode(qm, stream=9))
    p = msg.params
    assert msg.query == "SELECT * FROM ks.t WHERE k = ? AND c IN (?, ?, ?)"
    assert p.consistency == ConsistencyLevel.LOCAL_QUORUM
    assert p.values == [b"\x00\x00\x00\x2a", None, UNSET, b""]
    assert p.values[2] is UNSET and m.is_unset(p.values[2]) and not m.is_unset(p.values[1])
    assert p.names is None
    assert p.page_size == 5000
    assert p.paging_state == b"\x00\x04abcd\x7f\xff"
    assert p.serial_consistency == ConsistencyLevel.LOCAL_SERIAL
    assert p.timestamp == 1_700_000_000_123_456


@pytest.mark.parametrize("cl", list(ConsistencyLevel.value_to_name))
def test_query_each_consistency(cl):
    _, msg = our_decode(driver_encode(dp.QueryMessage("SELECT 1", cl)))
    assert msg.params.consistency == cl


def test_query_zero_timestamp_and_tracing_flag():
    qm = dp.QueryMessage("SELECT 1", ConsistencyLevel.ALL, timestamp=0)
    qm.tracing = True
    f, msg = our_decode(driver_encode(qm))
    assert f.flags & fr.FLAG_TRACING
    assert msg.params.timestamp == 0
    assert msg.params.consistency == ConsistencyLevel.ALL


def test_query_with_custom_payload():
    qm = dp.QueryMessage("SELECT v FROM ks.t", ConsistencyLevel.TWO, fetch_size=10)
    qm.custom_payload = {"proxy": b"\x01\x02", "other": b""}
    f, msg = our_decode(driver_encode(qm))
    assert f.flags & fr.FLAG_CUSTOM_PAYLOAD
    assert msg.query == "SELECT v FROM ks.t"
    assert msg.params.consistency == ConsistencyLevel.TWO
    assert msg.params.page_size == 10


@pytest.mark.parametrize("name", ["lz4", "snappy"])
def test_compressed_query_from_driver(name):
    compress, _ = dconn.locally_supported_compressions[name]
    q = "SELECT * FROM ks.t WHERE k = 'x'" + " AND v = 1" * 50
    data = driver_encode(dp.QueryMessage(q, ConsistencyLevel.QUORUM, fetch_size=100), compressor=compress)
    f, msg = our_decode(data, fr.Compressor(name))
    assert f.flags & fr.FLAG_COMPRESSION
    assert msg.query == q
    assert msg.params.page_size == 100


def test_query_named_values():
    # The driver never sends names; build the body by hand from the spec layout.
    body = (
        wire.long_string("INSERT INTO t (a, b, c) VALUES (:a, :b, :c)")
        + wire.short(ConsistencyLevel.EACH_QUORUM)
        + bytes([m.Q_VALUES | m.Q_NAMES | m.Q_PAGE_SIZE])
        + wire.short(3)
        + wire.string("a")
        + wire.bytes_(b"\x01")
        + wire.string("b")
        + wire.int_(-1)
        + wire.string("ç")
        + wire.int_(-2)
        + wire.int_(77)
    )
    msg = m.decode_request(fr.OP_QUERY, body)
    assert msg.params.names == ["a", "b", "ç"]
    assert msg.params.values == [b"\x01", None, UNSET]
    assert msg.params.page_size == 77
    assert msg.params.consistency == ConsistencyLevel.EACH_QUORUM


def test_query_names_flag_without_values_is_ignored():
    body = wire.long_string("SELECT 1") + wire.short(1) + bytes([m.Q_NAMES])
    msg = m.decode_request(fr.OP_QUERY, body)
    assert msg.params.values == [] and msg.params.names is None


def test_query_skip_metadata_flag():
    body = wire.long_string("SELECT 1") + wire.short(1) + bytes([m.Q_SKIP_METADATA])
    assert m.decode_request(fr.OP_QUERY, body).params.skip_metadata is True


def test_execute():
    qid = uuid.uuid4().bytes
    em = dp.ExecuteMessage(
        qid,
        [ser(dt.UTF8Type, "k1"), ser(dt.LongType, -5), None, UNSET_VALUE],
        ConsistencyLevel.LOCAL_ONE,
        serial_consistency_level=ConsistencyLevel.SERIAL,
        fetch_size=2,
        paging_state=b"\x00" * 20,
        timestamp=12345,
    )
    f, msg = our_decode(driver_encode(em, stream=32767))
    assert (f.stream, f.opcode) == (32767, fr.OP_EXECUTE)
    assert isinstance(msg, m.ExecuteMessage)
    assert msg.statement_id == qid
    p = msg.params
    assert p.consistency == ConsistencyLevel.LOCAL_ONE
    assert p.values == [b"k1", b"\xff" * 7 + b"\xfb", None, UNSET]
    assert p.page_size == 2
    assert p.paging_state == b"\x00" * 20
    assert p.serial_consistency == ConsistencyLevel.SERIAL
    assert p.timestamp == 12345
    assert p.names is None


def test_execute_no_values():
    _, msg = our_decode(driver_encode(dp.ExecuteMessage(b"\xab" * 16, [], ConsistencyLevel.ANY)))
    assert msg.statement_id == b"\xab" * 16
    assert msg.params.values == []
    assert msg.params.consistency == ConsistencyLevel.ANY


@pytest.mark.parametrize("kind", [BatchType.LOGGED, BatchType.UNLOGGED, BatchType.COUNTER])
def test_batch(kind):
    sid = b"\x10" * 16
    bm = dp.BatchMessage(
        kind,
        [
            (False, "INSERT INTO ks.t (k, v) VALUES (?, ?)", [ser(dt.Int32Type, 1), None]),
            (True, sid, [UNSET_VALUE, b"\x00"]),
            (False, "UPDATE ks.t SET v = 3 WHERE k = 2", []),
        ],
        ConsistencyLevel.QUORUM,
        serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
        timestamp=99,
    )
    f, msg = our_decode(driver_encode(bm))
    assert f.opcode == fr.OP_BATCH
    assert isinstance(msg, m.BatchMessage)
    assert msg.kind == kind.value
    assert msg.entries == [
        m.BatchEntry("INSERT INTO ks.t (k, v) VALUES (?, ?)", None, [b"\x00\x00\x00\x01", None]),
        m.BatchEntry(None, sid, [UNSET, b"\x00"]),
        m.BatchEntry("UPDATE ks.t SET v = 3 WHERE k = 2", None, []),
    ]
    assert msg.consistency == ConsistencyLevel.QUORUM
    assert msg.serial_consistency == ConsistencyLevel.LOCAL_SERIAL
    assert msg.timestamp == 99


def test_batch_defaults():
    bm = dp.BatchMessage(BatchType.UNLOGGED, [(True, b"id", [])], ConsistencyLevel.ONE)
    _, msg = our_decode(driver_encode(bm))
    assert msg.entries == [m.BatchEntry(None, b"id", [])]
    assert (msg.consistency, msg.serial_consistency, msg.timestamp) == (1, 8, None)


def test_many_driver_frames_in_a_stream_split_randomly():
    msgs = [
        dp.OptionsMessage(),
        dp.StartupMessage("3.0.0", {}),
        dp.QueryMessage("SELECT 1", ConsistencyLevel.ONE, fetch_size=7),
        dp.PrepareMessage("SELECT * FROM t WHERE k = ?"),
        dp.ExecuteMessage(b"q" * 16, [b"x"], ConsistencyLevel.TWO),
        dp.BatchMessage(BatchType.LOGGED, [(False, "INSERT", [None])], ConsistencyLevel.ALL),
        dp.RegisterMessage(["SCHEMA_CHANGE"]),
    ]
    data = b"".join(driver_encode(x, stream=i) for i, x in enumerate(msgs))
    rnd = random.Random(7)
    for _ in range(50):
        cuts = sorted(rnd.sample(range(1, len(data)), 5))
        d = FrameDecoder()
        frames = []
        for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
            frames += d.feed(data[a:b])
        assert [f.stream for f in frames] == list(range(len(msgs)))
        decoded = [m.decode_request(f.opcode, f.body) for f in frames]
        assert [type(x).__name__ for x in decoded] == [type(x).__name__ for x in msgs]
        assert decoded[2].params.page_size == 7
        assert decoded[4].params.values == [b"x"]
        assert decoded[5].entries[0].values == [None]


# ---------------------------------------------------------------- malformed requests

WELL_FORMED = {
    fr.OP_STARTUP: driver_encode(dp.StartupMessage("3.0.0", {"COMPRESSION": "snappy"}))[9:],
    fr.OP_QUERY: driver_encode(
        dp.QueryMessage("SELECT x", 1, serial_consistency_level=9, fetch_size=3, paging_state=b"ps", timestamp=1)
    )[9:],
    fr.OP_PREPARE: driver_encode(dp.PrepareMessage("SELECT y"))[9:],
    fr.OP_EXECUTE: driver_encode(dp.ExecuteMessage(b"id", [b"a", None, UNSET_VALUE], 4, fetch_size=9))[9:],
    fr.OP_BATCH: driver_encode(dp.BatchMessage(BatchType.LOGGED, [(False, "Q", [b"v"]), (True, b"i", [])], 1, 8, 5))[
        9:
    ],
    fr.OP_REGISTER: driver_encode(dp.RegisterMessage(["STATUS_CHANGE", "SCHEMA_CHANGE"]))[9:],
    fr.OP_AUTH_RESPONSE: driver_encode(dp.AuthResponseMessage(b"token"))[9:],
}


@pytest.mark.parametrize("opcode", list(WELL_FORMED), ids=lambda op: f"op{op:#04x}")
def test_truncated_bodies(opcode):
    body = WELL_FORMED[opcode]
    m.decode_request(opcode, body)  # the whole body is fine
    for cut in range(len(body)):
        with pytest.raises(WireError):
            m.decode_request(opcode, body[:cut])


def test_truncated_query_body_mid_values():
    body = wire.long_string("SELECT ?") + wire.short(1) + bytes([m.Q_VALUES]) + wire.short(2) + wire.bytes_(b"ab")
    with pytest.raises(WireError):
        m.decode_request(fr.OP_QUERY, body)


def test_truncated_with_custom_payload():
    body = wire.short(1) + wire.string("k") + wire.int_(10) + b"short"
    with pytest.raises(WireError):
        m.decode_request(fr.OP_QUERY, body + WELL_FORMED[fr.OP_QUERY], has_custom_payload=True)


@pytest.mark.parametrize(
    "opcode, body",
    [
        # [long string] query longer than the body
        (fr.OP_QUERY, wire.int_(100) + b"SELECT 1" + wire.short(1) + b"\x00"),
        # negative [long string] length
        (fr.OP_QUERY, wire.int_(-1) + wire.short(1) + b"\x00"),
        (fr.OP_PREPARE, wire.int_(-5)),
        # [string] in a string map longer than the body
        (fr.OP_STARTUP, wire.short(1) + wire.short(50) + b"CQL_VERSION"),
        (fr.OP_REGISTER, wire.short(1) + wire.short(0xFFFF) + b"SCHEMA_CHANGE"),
        # [value] longer than the body
        (fr.OP_QUERY, wire.long_string("S") + wire.short(1) + b"\x01" + wire.short(1) + wire.int_(9) + b"abc"),
        # [value] with a length below -2
        (fr.OP_QUERY, wire.long_string("S") + wire.short(1) + b"\x01" + wire.short(1) + wire.int_(-3)),
        (fr.OP_EXECUTE, wire.short_bytes(b"id") + wire.short(1) + b"\x01" + wire.short(1) + wire.int_(-(2**31))),
        # paging state [bytes] longer than the body
        (fr.OP_QUERY, wire.long_string("S") + wire.short(1) + b"\x08" + wire.int_(4) + b"ab"),
        # [short bytes] id longer than the body
        (fr.OP_EXECUTE, wire.short(16) + b"\x00" * 8),
        (fr.OP_AUTH_RESPONSE, wire.int_(8) + b"tok"),
        # batch: bad kind, bad entry kind, named values
        (fr.OP_BATCH, b"\x03" + wire.short(0) + wire.short(1) + b"\x00"),
        (
            fr.OP_BATCH,
            b"\x00" + wire.short(1) + b"\x02" + wire.long_string("Q") + wire.short(0) + wire.short(1) + b"\x00",
        ),
        (fr.OP_BATCH, b"\x00" + wire.short(0) + wire.short(1) + bytes([m.Q_NAMES])),
        (fr.OP_BATCH, b"\x01" + wire.short(1) + b"\x00" + wire.long_string("Q") + wire.short(1) + wire.int_(-3)),
    ],
)
def test_bad_lengths_and_layouts(opcode, body):
    with pytest.raises(WireError):
        m.decode_request(opcode, body)


@pytest.mark.parametrize(
    "opcode, body",
    [
        (fr.OP_QUERY, wire.int_(3) + b"\xff\xfe\xfd" + wire.short(1) + b"\x00"),
        (fr.OP_PREPARE, wire.int_(2) + b"\xc3\x28"),
        (fr.OP_STARTUP, wire.short(1) + wire.short(1) + b"\x80" + wire.string("v")),
        (fr.OP_STARTUP, wire.short(1) + wire.string("CQL_VERSION") + wire.short(2) + b"\xed\xa0"),
        (fr.OP_REGISTER, wire.short(1) + wire.short(2) + b"\xe2\x82"),
        (fr.OP_QUERY, wire.long_string("S") + wire.short(1) + b"\x41" + wire.short(1) + wire.short(1) + b"\xff"),
        (
            fr.OP_BATCH,
            b"\x00" + wire.short(1) + b"\x00" + wire.int_(1) + b"\xc0" + wire.short(0) + wire.short(1) + b"\0",
        ),
    ],
)
def test_invalid_utf8(opcode, body):
    with pytest.raises(WireError, match="UTF8"):
        m.decode_request(opcode, body)


@pytest.mark.parametrize(
    "opcode", [0x04, fr.OP_ERROR, fr.OP_READY, fr.OP_RESULT, fr.OP_EVENT, fr.OP_SUPPORTED, 0x11, 0xFF]
)
def test_unknown_opcode(opcode):
    with pytest.raises(KeyError):
        m.decode_request(opcode, b"")


def test_trailing_bytes_are_ignored():
    # Spec §1: a receiver may ignore the remainder of a body it does not understand.
    assert m.decode_request(fr.OP_PREPARE, wire.long_string("SELECT 1") + b"\x00\x00\x00\x00").query == "SELECT 1"


# ---------------------------------------------------------------- responses (us -> driver)


def test_ready():
    msg = respond(fr.OP_READY, b"")
    assert isinstance(msg, dp.ReadyMessage)


def test_supported():
    msg = respond(fr.OP_SUPPORTED, m.supported_body(fr.SUPPORTED_COMPRESSION))
    assert isinstance(msg, dp.SupportedMessage)
    assert msg.cql_versions == ["3.4.7"]
    assert msg.options == {"COMPRESSION": ["lz4", "snappy"], "PROTOCOL_VERSIONS": ["4/v4"]}


def test_supported_without_compression():
    msg = respond(fr.OP_SUPPORTED, m.supported_body(()))
    assert msg.options["COMPRESSION"] == []


@pytest.mark.parametrize("handler", HANDLERS, ids=HANDLER_IDS)
def test_result_void(handler):
    msg = respond(fr.OP_RESULT, m.VOID_BODY, handler=handler)
    assert isinstance(msg, dp.ResultMessage)
    assert msg.kind == dp.RESULT_KIND_VOID
    assert msg.warnings is None


def test_result_set_keyspace():
    msg = respond(fr.OP_RESULT, m.set_keyspace_body("my_ks"))
    assert msg.kind == dp.RESULT_KIND_SET_KEYSPACE
    assert msg.new_keyspace == "my_ks"


LIST_INT = dt.ListType.apply_parameters([dt.Int32Type])
MAP_TEXT_BIGINT = dt.MapType.apply_parameters([dt.VarcharType, dt.LongType])
SET_UUID = dt.SetType.apply_parameters([dt.UUIDType])
TUPLE_INT_TEXT = dt.TupleType.apply_parameters([dt.Int32Type, dt.VarcharType])

ROW_COLUMNS = [
    ("k", opt(T_INT), dt.Int32Type),
    ("name", opt(T_TEXT), dt.VarcharType),  # the driver names type 0x000D varchar
    ("a", opt(T_ASCII), dt.AsciiType),
    ("big", opt(T_BIGINT), dt.LongType),
    ("flag", opt(T_BOOL), dt.BooleanType),
    ("raw", opt(T_BLOB), dt.BytesType),
    ("d", opt(T_DOUBLE), dt.DoubleType),
    ("l", opt(T_LIST, opt(T_INT)), LIST_INT),
    ("mp", opt(T_MAP, opt(T_TEXT), opt(T_BIGINT)), MAP_TEXT_BIGINT),
    ("s", opt(T_SET, opt(T_UUID)), SET_UUID),
    ("tup", opt(T_TUPLE, wire.short(2), opt(T_INT), opt(T_TEXT)), TUPLE_INT_TEXT),
]
U1 = uuid.UUID(int=1)
ROW_VALUES = [
    (1, "one", "a", -(2**63), True, b"\x00\xff", 1.5, [1, 2, 3], {"x": 1, "y": -2}, {U1}, (7, "seven")),
    (2, "ünï", "", 2**63 - 1, False, b"", -0.0, [], {}, set(), (None, None)),
]


def _normalize(value):
    if isinstance(value, dt.util.SortedSet | set):
        return set(value)
    if isinstance(value, dict | dt.util.OrderedMap):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def _rows_frame(specs, values, **kw):
    body_rows = [[ser(t, v) for (_, _, t), v in zip(ROW_COLUMNS, row, strict=True)] for row in values]
    return m.rows_body(specs, body_rows, **kw)


@pytest.mark.parametrize("handler", HANDLERS, ids=HANDLER_IDS)
def test_result_rows_global_spec(handler):
    specs = [ColumnSpec("ks", "tbl", name, o) for name, o, _ in ROW_COLUMNS]
    body = _rows_frame(specs, ROW_VALUES)
    # Global table spec flag, column count, ks/table once.
    assert body[4:12] == wire.int_(m.ROWS_GLOBAL_SPEC) + wire.int_(len(specs))
    assert body[12:].startswith(wire.string("ks") + wire.string("tbl") + wire.string("k"))
    msg = respond(fr.OP_RESULT, body, handler=handler)
    assert msg.kind == dp.RESULT_KIND_ROWS
    assert msg.paging_state is None
    assert msg.column_names == [name for name, _, _ in ROW_COLUMNS]
    assert [t.cql_parameterized_type() for t in msg.column_types] == [
        t.cql_parameterized_type() for _, _, t in ROW_COLUMNS
    ]
    assert [(c[0], c[1]) for c in msg.column_metadata] == [("ks", "tbl")] * len(specs)
    got = [[_normalize(v) for v in row] for row in msg.parsed_rows]
    want = [[_normalize(v) for v in row] for row in ROW_VALUES]
    assert got == want


@pytest.mark.parametrize("handler", HANDLERS, ids=HANDLER_IDS)
def test_result_rows_nulls_and_paging_state(handler):
    specs = [ColumnSpec("ks", "t", "k", opt(T_INT)), ColumnSpec("ks", "t", "v", opt(T_TEXT))]
    rows = [[ser(dt.Int32Type, 5), None], [None, b""], [ser(dt.Int32Type, -1), b"z"]]
    ps = b"\x00\x10paging\xff\x00"
    msg = respond(fr.OP_RESULT, m.rows_body(specs, rows, paging_state=ps), handler=handler)
    assert msg.paging_state == ps
    assert [tuple(r) for r in msg.parsed_rows] == [(5, None), (None, ""), (-1, "z")]


@pytest.mark.parametrize("handler", HANDLERS, ids=HANDLER_IDS)
def test_result_rows_per_column_specs(handler):
    specs = [ColumnSpec("ks1", "a", "x", opt(T_INT)), ColumnSpec("ks2", "b", "y", opt(T_BOOL))]
    body = m.rows_body(specs, [[ser(dt.Int32Type, 3), ser(dt.BooleanType, True)]])
    assert struct.unpack(">i", body[4:8])[0] & m.ROWS_GLOBAL_SPEC == 0
    msg = respond(fr.OP_RESULT, body, handler=handler)
    assert [(c[0], c[1], c[2]) for c in msg.column_metadata] == [("ks1", "a", "x"), ("ks2", "b", "y")]
    assert [tuple(r) for r in msg.parsed_rows] == [(3, True)]


def test_result_rows_same_table_different_keyspace_is_not_global():
    specs = [ColumnSpec("ks1", "t", "x", opt(T_INT)), ColumnSpec("ks2", "t", "y", opt(T_INT))]
    msg = respond(fr.OP_RESULT, m.rows_body(specs, []))
    assert [c[0] for c in msg.column_metadata] == ["ks1", "ks2"]


@pytest.mark.parametrize("handler", HANDLERS, ids=HANDLER_IDS)
def test_result_rows_no_metadata(handler):
    specs = [ColumnSpec("ks", "t", "k", opt(T_INT)), ColumnSpec("ks", "t", "v", opt(T_TEXT))]
    body = m.rows_body(specs, [[ser(dt.Int32Type, 8), b"eight"]], paging_state=b"next", no_metadata=True)
    flags, count = struct.unpack(">ii", body[4:12])
    assert flags == m.ROWS_NO_METADATA | m.ROWS_HAS_MORE
    assert count == 2
    prepared_md = [("ks", "t", "k", dt.Int32Type), ("ks", "t", "v", dt.UTF8Type)]
    msg = respond(fr.OP_RESULT, body, handler=handler, result_metadata=prepared_md)
    assert msg.paging_state == b"next"
    assert msg.column_names == ["k", "v"]
    assert [tuple(r) for r in msg.parsed_rows] == [(8, "eight")]


@pytest.mark.parametrize("handler", HANDLERS, ids=HANDLER_IDS)
def test_result_rows_empty(handler):
    msg = respond(fr.OP_RESULT, m.rows_body([ColumnSpec("ks", "t", "k", opt(T_INT))], []), handler=handler)
    assert msg.kind == dp.RESULT_KIND_ROWS
    assert list(msg.parsed_rows) == [] and msg.column_names == ["k"]


def test_result_rows_no_columns_layout():
    assert m.rows_body([], []) == wire.int_(m.RESULT_ROWS) + wire.int_(0) + wire.int_(0) + wire.int_(0)


def test_result_rows_with_warnings():
    specs = [ColumnSpec("ks", "t", "k", opt(T_INT))]
    body = wire.string_list(["Aggregation query used without partition key", "second"]) + m.rows_body(
        specs, [[ser(dt.Int32Type, 1)]]
    )
    msg = respond(fr.OP_RESULT, body, flags=fr.FLAG_WARNING)
    assert msg.warnings == ["Aggregation query used without partition key", "second"]
    assert [tuple(r) for r in msg.parsed_rows] == [(1,)]


def test_void_with_warnings():
    msg = respond(fr.OP_RESULT, wire.string_list(["w"]) + m.VOID_BODY, flags=fr.FLAG_WARNING)
    assert msg.kind == dp.RESULT_KIND_VOID and msg.warnings == ["w"]


@pytest.mark.parametrize("handler", HANDLERS, ids=HANDLER_IDS)
def test_result_prepared(handler):
    sid = bytes(range(16))
    binds = [
        ColumnSpec("ks", "t", "pk2", opt(T_TEXT)),
        ColumnSpec("ks", "t", "pk1", opt(T_INT)),
        ColumnSpec("ks", "t", "v", opt(T_LIST, opt(T_INT))),
    ]
    results = [ColumnSpec("ks", "t", "v", opt(T_LIST, opt(T_INT))), ColumnSpec("ks", "t", "w", opt(T_UUID))]
    msg = respond(fr.OP_RESULT, m.prepared_body(sid, binds, [1, 0], results), handler=handler)
    assert msg.kind == dp.RESULT_KIND_PREPARED
    assert msg.query_id == sid
    assert msg.pk_indexes == [1, 0]
    assert [(c.keyspace_name, c.table_name, c.name) for c in msg.bind_metadata] == [
        ("ks", "t", "pk2"),
        ("ks", "t", "pk1"),
        ("ks", "t", "v"),
    ]
    assert [c.type for c in msg.bind_metadata][:2] == [dt.VarcharType, dt.Int32Type]
    assert msg.bind_metadata[2].type.cql_parameterized_type() == "list<int>"
    assert [(c[2], c[3].cql_parameterized_type()) for c in msg.column_metadata] == [("v", "list<int>"), ("w", "uuid")]


def test_result_prepared_without_result_metadata():
    binds = [ColumnSpec("ks", "a", "x", opt(T_INT)), ColumnSpec("ks", "b", "y", opt(T_BLOB))]
    body = m.prepared_body(b"\x01\x02", binds, [], None)
    msg = respond(fr.OP_RESULT, body)
    assert msg.query_id == b"\x01\x02"
    assert msg.pk_indexes == []
    assert [(c.table_name, c.name, c.type) for c in msg.bind_metadata] == [
        ("a", "x", dt.Int32Type),
        ("b", "y", dt.BytesType),
    ]
    assert msg.column_metadata is None
    # The result metadata says NO_METADATA with zero columns.
    assert body.endswith(wire.int_(m.ROWS_NO_METADATA) + wire.int_(0))


def test_result_prepared_no_binds_empty_results():
    msg = respond(fr.OP_RESULT, m.prepared_body(b"id", [], [], []))
    assert msg.bind_metadata == [] and msg.pk_indexes == []
    assert msg.column_metadata == []


SCHEMA_CASES = [
    (("CREATED", "KEYSPACE", "ks1"), {"change_type": "CREATED", "target_type": "KEYSPACE", "keyspace": "ks1"}),
    (
        ("DROPPED", "TABLE", "ks", "tbl"),
        {"change_type": "DROPPED", "target_type": "TABLE", "keyspace": "ks", "table": "tbl"},
    ),
    (
        ("UPDATED", "TYPE", "ks", "addr"),
        {"change_type": "UPDATED", "target_type": "TYPE", "keyspace": "ks", "type": "addr"},
    ),
]


@pytest.mark.parametrize("args, want", SCHEMA_CASES, ids=lambda x: x[1] if isinstance(x, tuple) else None)
def test_result_schema_change(args, want):
    msg = respond(fr.OP_RESULT, m.schema_change_body(*args))
    assert msg.kind == dp.RESULT_KIND_SCHEMA_CHANGE
    assert msg.schema_change_event == want


@pytest.mark.parametrize("args, want", SCHEMA_CASES, ids=lambda x: x[1] if isinstance(x, tuple) else None)
def test_event_schema_change(args, want):
    msg = respond(fr.OP_EVENT, m.schema_change_event_body(*args), stream=-1)
    assert isinstance(msg, dp.EventMessage)
    assert msg.event_type == "SCHEMA_CHANGE"
    assert msg.event_args == want


@pytest.mark.parametrize("target", [SchemaTargetType.FUNCTION, SchemaTargetType.AGGREGATE])
def test_schema_change_function_signature(target):
    body = wire.string("SCHEMA_CHANGE") + m.schema_change_options("CREATED", target, "ks", "fn", ["int", "text"])
    msg = respond(fr.OP_EVENT, body, stream=-1)
    desc = msg.event_args[target.lower()]
    assert (desc.name, list(desc.argument_types)) == ("fn", ["int", "text"])
    # Without arguments the signature is an empty [string list].
    msg = respond(fr.OP_RESULT, m.schema_change_body("DROPPED", target, "ks", "f0"))
    desc = msg.schema_change_event[target.lower()]
    assert (desc.name, list(desc.argument_types)) == ("f0", [])


@pytest.mark.parametrize("kind, change", [("STATUS_CHANGE", "UP"), ("TOPOLOGY_CHANGE", "NEW_NODE")])
def test_event_node_change(kind, change):
    body = wire.string(kind) + wire.string(change) + wire.inet(socket.inet_aton("10.0.0.7"), 9042)
    msg = respond(fr.OP_EVENT, body, stream=-1)
    assert msg.event_type == kind
    assert msg.event_args == {"change_type": change, "address": ("10.0.0.7", 9042)}


# ---------------------------------------------------------------- errors (us -> driver)

ERROR_CASES = [
    (er.ServerError("boom"), dp.ServerError, None),
    (er.ProtocolError("Invalid or unsupported protocol version (5)"), dp.ProtocolException, None),
    (er.BadCredentials("Provided username cassandra and/or password are incorrect"), dp.BadCredentials, None),
    (
        er.Unavailable("Cannot achieve consistency level QUORUM", m.CL["QUORUM"], 2, 1),
        dp.UnavailableErrorMessage,
        {"consistency": ConsistencyLevel.QUORUM, "required_replicas": 2, "alive_replicas": 1},
    ),
    (er.Overloaded("too busy"), dp.OverloadedErrorMessage, None),
    (er.IsBootstrapping("wait"), dp.IsBootstrappingErrorMessage, None),
    (er.TruncateError("truncate failed"), dp.TruncateError, None),
    (
        er.WriteTimeout("write timed out", m.CL["SERIAL"], 1, 3, "CAS"),
        dp.WriteTimeoutErrorMessage,
        {
            "consistency": ConsistencyLevel.SERIAL,
            "received_responses": 1,
            "required_responses": 3,
            "write_type": WriteType.CAS,
        },
    ),
    (
        er.WriteTimeout("batch log", m.CL["LOCAL_QUORUM"], 0, 2, "BATCH_LOG"),
        dp.WriteTimeoutErrorMessage,
        {
            "consistency": ConsistencyLevel.LOCAL_QUORUM,
            "received_responses": 0,
            "required_responses": 2,
            "write_type": WriteType.BATCH_LOG,
        },
    ),
    (
        er.ReadTimeout("read timed out", m.CL["ALL"], 2, 3, True),
        dp.ReadTimeoutErrorMessage,
        {"consistency": ConsistencyLevel.ALL, "received_responses": 2, "required_responses": 3, "data_retrieved": True},
    ),
    (
        er.ReadTimeout("read timed out", m.CL["ONE"], 0, 1, False),
        dp.ReadTimeoutErrorMessage,
        {
            "consistency": ConsistencyLevel.ONE,
            "received_responses": 0,
            "required_responses": 1,
            "data_retrieved": False,
        },
    ),
    (
        er.FunctionFailure("the operation 'int / int' failed: / by zero", "system", "_divide", ["int", "int"]),
        dp.FunctionFailureMessage,
        {"keyspace": "system", "function": "_divide", "arg_types": ["int", "int"]},
    ),
    (er.SyntaxException("line 1:0 no viable alternative at input 'SELEC'"), dp.SyntaxException, None),
    (er.Unauthorized("User x has no SELECT permission"), dp.UnauthorizedErrorMessage, None),
    (er.InvalidRequest("Keyspace 'nope' does not exist"), dp.InvalidRequestException, None),
    (er.ConfigurationException("bad replication"), dp.ConfigurationException, None),
    (
        er.AlreadyExists('Cannot add already existing table "t" to keyspace "ks"', "ks", "t"),
        dp.AlreadyExistsException,
        {"keyspace": "ks", "table": "t"},
    ),
    (
        er.AlreadyExists('Cannot add existing keyspace "ks"', "ks"),
        dp.AlreadyExistsException,
        {"keyspace": "ks", "table": ""},
    ),
    (
        er.Unprepared("Prepared query with ID 0a0b not found", b"\x0a\x0b" * 8),
        dp.PreparedQueryNotFound,
        b"\x0a\x0b" * 8,
    ),
]


@pytest.mark.parametrize(
    "err, cls, info", ERROR_CASES, ids=lambda x: type(x).__name__ if isinstance(x, er.CqlError) else None
)
def test_error_bodies(err, cls, info):
    msg = respond(fr.OP_ERROR, err.body(), stream=11)
    assert type(msg) is cls
    assert msg.code == err.code == cls.error_code
    assert msg.message == err.message
    assert msg.info == info


def test_every_error_class_is_covered():
    def subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)

    covered = {type(e) for e, _, _ in ERROR_CASES}
    assert set(subclasses(er.CqlError)) <= covered
    codes = [c.code for c in covered]
    assert len(codes) == len(set(codes))


def test_error_with_unicode_message_and_warning_flag():
    err = er.InvalidRequest("colonne « été » inconnue")
    msg = respond(fr.OP_ERROR, wire.string_list(["careful"]) + err.body(), flags=fr.FLAG_WARNING)
    assert isinstance(msg, dp.InvalidRequestException)
    assert msg.message == "colonne « été » inconnue"
    assert msg.warnings == ["careful"]


@pytest.mark.parametrize("version", [0x42, 5, 3, 1, 2])
def test_unsupported_version_reply_read_by_driver(version):
    # What connection.py writes on a refused version: a PROTOCOL_ERROR on the request's stream.
    e = fr.UnsupportedVersion(version, 1)
    out = encode_frame(e.stream, fr.OP_ERROR, er.ProtocolError(str(e)).body(), version=e.reply_version)
    if version < 3:
        header_struct, body = struct.Struct(">BBbBi"), out[8:]
    else:
        header_struct, body = struct.Struct(">BBhBi"), out[9:]
    v, flags, stream, opcode, length = header_struct.unpack(out[: header_struct.size])
    assert (v, stream, opcode, length) == (e.reply_version, 1, fr.OP_ERROR, len(body))
    msg = dp.ProtocolHandler.decode_message(v & 0x7F, {}, stream, flags, opcode, body, None, None)
    assert isinstance(msg, dp.ProtocolException)
    assert msg.message.startswith(f"Invalid or unsupported protocol version ({version})")
    # The driver steps down only when it recognises this wording.
    assert "Invalid or unsupported protocol version" in msg.message


def test_error_body_layout_by_hand():
    body = er.Unavailable("u", 6, 3, 2).body()
    assert body == b"\x00\x00\x10\x00" + b"\x00\x01u" + b"\x00\x06" + b"\x00\x00\x00\x03" + b"\x00\x00\x00\x02"
    body = er.ReadTimeout("r", 1, 0, 1, True).body()
    assert body == b"\x00\x00\x12\x00\x00\x01r\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x01"
    f = io.BytesIO(er.Unprepared("x", b"\x01\x02\x03").body())
    assert dp.read_int(f) == 0x2500 and dp.read_string(f) == "x" and dp.read_binary_string(f) == b"\x01\x02\x03"
