"""Tests for server.frame: sans-IO frame splitting, version refusal, header encoding and body compression."""

from __future__ import annotations

import random
import struct

import lz4.block
import pytest
import snappy
from cassandra import connection as dconn

from server import frame as fr
from server.frame import Compressor, Frame, FrameDecoder, FramingError, UnsupportedVersion, encode_frame


def req(stream: int, opcode: int, body: bytes, flags: int = 0, version: int = 0x04) -> bytes:
    return struct.pack(">BBhBi", version, flags, stream, opcode, len(body)) + body


SAMPLES = [
    (0, fr.OP_OPTIONS, b"", 0),
    (1, fr.OP_STARTUP, b"\x00\x01\x00\x0bCQL_VERSION\x00\x053.0.0", 0),
    (32767, fr.OP_QUERY, b"\x00\x00\x00\x08SELECT 1\x00\x01\x00", fr.FLAG_TRACING),
    (5, fr.OP_PREPARE, bytes(range(256)) * 3, fr.FLAG_CUSTOM_PAYLOAD),
    (-1, fr.OP_REGISTER, b"\x00", 0),
]


def sample_frames() -> list[Frame]:
    return [Frame(4, flags, stream, op, body) for stream, op, body, flags in SAMPLES]


def sample_bytes() -> bytes:
    return b"".join(req(stream, op, body, flags) for stream, op, body, flags in SAMPLES)


# ---------------------------------------------------------------- splitting


def test_whole_frames_one_feed_each():
    d = FrameDecoder()
    for (stream, op, body, flags), want in zip(SAMPLES, sample_frames(), strict=True):
        assert d.feed(req(stream, op, body, flags)) == [want]
    assert d.feed(b"") == []


def test_frame_fields():
    [f] = FrameDecoder().feed(req(0x1234, fr.OP_EXECUTE, b"xyz", fr.FLAG_COMPRESSION | fr.FLAG_TRACING))
    assert (f.version, f.flags, f.stream, f.opcode, f.body) == (4, 3, 0x1234, fr.OP_EXECUTE, b"xyz")
    assert isinstance(f.body, bytes)


def test_negative_stream_is_signed():
    [f] = FrameDecoder().feed(req(-2, fr.OP_OPTIONS, b""))
    assert f.stream == -2


def test_several_frames_in_one_chunk():
    assert FrameDecoder().feed(sample_bytes()) == sample_frames()


def test_byte_by_byte():
    d = FrameDecoder()
    got: list[Frame] = []
    data = sample_bytes()
    ends = set()
    pos = 0
    for sample in SAMPLES:
        pos += 9 + len(sample[2])
        ends.add(pos)
    for i in range(len(data)):
        out = d.feed(data[i : i + 1])
        # A frame comes out exactly when its last byte arrives, never before.
        assert len(out) == (1 if i + 1 in ends else 0), i
        got += out
    assert got == sample_frames()


def test_split_at_every_offset():
    data = sample_bytes()
    want = sample_frames()
    for cut in range(len(data) + 1):
        d = FrameDecoder()
        got = d.feed(data[:cut])
        got += d.feed(data[cut:])
        assert got == want, cut


def test_split_in_three_random_chunks():
    data = sample_bytes()
    rnd = random.Random(4)
    for _ in range(200):
        a, b = sorted(rnd.randrange(len(data) + 1) for _ in range(2))
        d = FrameDecoder()
        assert d.feed(data[:a]) + d.feed(data[a:b]) + d.feed(data[b:]) == sample_frames()


def test_trailing_partial_frame_is_kept():
    whole = req(7, fr.OP_QUERY, b"abcdef")
    nxt = req(8, fr.OP_PREPARE, b"0123456789")
    d = FrameDecoder()
    assert d.feed(whole + nxt[:12]) == [Frame(4, 0, 7, fr.OP_QUERY, b"abcdef")]
    assert d.feed(nxt[12:15]) == []
    assert d.feed(nxt[15:] + nxt[:4]) == [Frame(4, 0, 8, fr.OP_PREPARE, b"0123456789")]
    assert d.feed(nxt[4:]) == [Frame(4, 0, 8, fr.OP_PREPARE, b"0123456789")]


def test_partial_header_kept():
    d = FrameDecoder()
    frame = req(3, fr.OP_OPTIONS, b"")
    assert d.feed(frame[:8]) == []
    assert d.feed(frame[8:]) == [Frame(4, 0, 3, fr.OP_OPTIONS, b"")]


def test_maximum_body_length_is_accepted_while_incomplete():
    d = FrameDecoder()
    header = struct.pack(">BBhBi", 4, 0, 0, fr.OP_QUERY, fr.MAX_BODY)
    assert d.feed(header + b"x" * 10) == []


@pytest.mark.parametrize("length", [fr.MAX_BODY + 1, 2**31 - 1, -1, -(2**31)])
def test_bad_body_length(length):
    header = struct.pack(">BBhBi", 4, 0, 0, fr.OP_QUERY, length)
    with pytest.raises(FramingError):
        FrameDecoder().feed(header)


def test_bad_body_length_after_good_frame():
    d = FrameDecoder()
    good = req(1, fr.OP_OPTIONS, b"")
    assert d.feed(good) == [Frame(4, 0, 1, fr.OP_OPTIONS, b"")]
    d.feed(struct.pack(">BBhBi", 4, 0, 2, fr.OP_QUERY, -5)[:8])
    with pytest.raises(FramingError):
        d.feed(b"\xfb")


# ---------------------------------------------------------------- unsupported versions


@pytest.mark.parametrize("version", [0x42, 0x41, 5, 3, 0x05 | 0x80])
def test_unsupported_version_v3_header(version):
    header = struct.pack(">BBhBi", version, 0, 0x0123, fr.OP_OPTIONS, 0)
    d = FrameDecoder()
    # Three bytes do not carry the whole two-byte stream yet.
    assert d.feed(header[:3]) == []
    with pytest.raises(UnsupportedVersion) as ei:
        d.feed(header[3:4])
    e = ei.value
    assert e.version == version & 0x7F
    assert e.stream == 0x0123
    assert e.reply_version == 0x84


def test_unsupported_version_message_text():
    with pytest.raises(UnsupportedVersion) as ei:
        FrameDecoder().feed(struct.pack(">BBhBi", 0x42, 0, 9, fr.OP_STARTUP, 0))
    assert str(ei.value) == "Invalid or unsupported protocol version (66); supported versions are (4/v4)"
    assert ei.value.stream == 9
    assert ei.value.reply_version == fr.RESPONSE_VERSION == 0x84


def test_unsupported_version_negative_stream():
    with pytest.raises(UnsupportedVersion) as ei:
        FrameDecoder().feed(struct.pack(">BBhBi", 5, 0, -7, fr.OP_STARTUP, 0))
    assert ei.value.stream == -7


def test_v5_message_mentions_its_version():
    with pytest.raises(UnsupportedVersion, match=r"protocol version \(5\); supported versions are \(4/v4\)"):
        FrameDecoder().feed(struct.pack(">BBhBi", 5, 0, 0, fr.OP_OPTIONS, 0))


@pytest.mark.parametrize("version", [1, 2])
def test_old_header_refused_after_three_bytes(version):
    old = struct.pack(">BBbBi", version, 0, 42, fr.OP_STARTUP, 0)
    assert len(old) == 8
    d = FrameDecoder()
    assert d.feed(old[:2]) == []
    with pytest.raises(UnsupportedVersion) as ei:
        d.feed(old[2:3])
    e = ei.value
    assert (e.version, e.stream, e.reply_version) == (version, 42, 0x80 | version)
    assert f"protocol version ({version})" in str(e)


def test_version_zero_gets_a_v4_reply():
    with pytest.raises(UnsupportedVersion) as ei:
        FrameDecoder().feed(bytes([0, 0, 5]))
    assert (ei.value.version, ei.value.stream, ei.value.reply_version) == (0, 5, 0x84)


def test_old_header_one_byte_stream_is_signed():
    with pytest.raises(UnsupportedVersion) as ei:
        FrameDecoder().feed(bytes([2, 0, 0xFE]))
    assert ei.value.stream == -2


def test_unsupported_version_after_good_frame_in_later_feed():
    d = FrameDecoder()
    assert len(d.feed(req(1, fr.OP_OPTIONS, b""))) == 1
    with pytest.raises(UnsupportedVersion) as ei:
        d.feed(struct.pack(">BBhBi", 3, 0, 77, fr.OP_OPTIONS, 0))
    assert ei.value.stream == 77


# ---------------------------------------------------------------- encoding


def test_encode_frame_v4():
    out = encode_frame(-1, fr.OP_EVENT, b"hello", flags=fr.FLAG_WARNING)
    assert out == b"\x84\x08\xff\xff\x0c\x00\x00\x00\x05hello"


def test_encode_frame_round_trip_through_header_struct():
    for stream in (0, 1, 255, 256, 32767, -1, -32768):
        out = encode_frame(stream, fr.OP_RESULT, b"ab")
        assert struct.unpack(">BBhBi", out[:9]) == (0x84, 0, stream, fr.OP_RESULT, 2)
        assert out[9:] == b"ab"


@pytest.mark.parametrize("version", [1, 2])
def test_encode_frame_old_versions_use_eight_byte_header(version):
    e = UnsupportedVersion(version, 42)
    body = b"\x00\x00\x00\x0a\x00\x03abc"
    out = encode_frame(e.stream, fr.OP_ERROR, body, version=e.reply_version)
    assert len(out) == 8 + len(body)
    assert out[:8] == bytes([0x80 | version, 0, 42, fr.OP_ERROR, 0, 0, 0, len(body)])
    assert out[8:] == body


def test_encode_frame_old_version_negative_stream():
    out = encode_frame(-1, fr.OP_ERROR, b"", version=0x82)
    assert out == b"\x82\x00\xff\x00\x00\x00\x00\x00"


def test_encode_frame_v3_reply_is_nine_byte_header():
    e = UnsupportedVersion(3, 300)
    out = encode_frame(e.stream, fr.OP_ERROR, b"", version=e.reply_version)
    assert out == b"\x84\x00\x01\x2c\x00\x00\x00\x00\x00"


def test_encode_then_decode_as_request():
    data = encode_frame(12, fr.OP_QUERY, b"body", flags=fr.FLAG_CUSTOM_PAYLOAD, version=0x04)
    assert FrameDecoder().feed(data) == [Frame(4, fr.FLAG_CUSTOM_PAYLOAD, 12, fr.OP_QUERY, b"body")]


# ---------------------------------------------------------------- compression

PAYLOADS = [b"", b"x", b"hello world " * 100, bytes(range(256)) * 40, random.Random(1).randbytes(5000)]


@pytest.mark.parametrize("name", ["lz4", "snappy"])
@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: str(len(p)))
def test_compression_round_trip(name, payload):
    c = Compressor(name)
    assert c.name == name
    assert c.decompress(c.compress(payload)) == payload


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: str(len(p)))
def test_lz4_layout(payload):
    out = Compressor("lz4").compress(payload)
    (n,) = struct.unpack(">i", out[:4])
    assert n == len(payload)
    if payload:
        assert lz4.block.decompress(out[4:], uncompressed_size=n) == payload
        # The driver's own decoder flips the length to little-endian and lets lz4 read it.
        assert dconn.lz4_decompress(out) == payload


@pytest.mark.parametrize("payload", PAYLOADS[1:], ids=lambda p: str(len(p)))
def test_lz4_decompresses_driver_output(payload):
    assert Compressor("lz4").decompress(dconn.lz4_compress(payload)) == payload


def test_lz4_highly_compressible_body_is_shorter():
    payload = b"a" * 100_000
    out = Compressor("lz4").compress(payload)
    assert len(out) < 1000
    assert out[:4] == struct.pack(">i", 100_000)


def test_lz4_empty_body():
    c = Compressor("lz4")
    assert c.decompress(b"\x00\x00\x00\x00") == b""
    with pytest.raises(ValueError):
        c.decompress(b"\x00\x00")


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: str(len(p)))
def test_snappy_layout(payload):
    out = Compressor("snappy").compress(payload)
    assert snappy.decompress(out) == payload
    assert Compressor("snappy").decompress(snappy.compress(payload)) == payload


def test_unknown_compressor():
    with pytest.raises(ValueError):
        Compressor("deflate")
    assert fr.SUPPORTED_COMPRESSION == ("lz4", "snappy")


def test_compressed_frame_decoded_body():
    c = Compressor("lz4")
    body = b"\x00\x00\x00\x08SELECT 1\x00\x01\x00" * 10
    d = FrameDecoder()
    [f] = d.feed(req(3, fr.OP_QUERY, c.compress(body), flags=fr.FLAG_COMPRESSION))
    assert f.flags & fr.FLAG_COMPRESSION
    assert c.decompress(f.body) == body
