"""Non-frozen collections as one cell per element, as Cassandra stores them.

Inside a row's cell map a list, set or map column `c` is spread over
  c + SEP                 the collection tombstone: (timestamp, None, 0, 0) — everything older is gone
  c + SEP + element key   one element: its value is the element's wire payload
Element keys are bytes (kept as latin-1 text so the cell map stays marshal-able and orders like bytes):
  list  b'\\x01' + (timestamp, sequence) for appends, b'\\x00' + (2**63 - timestamp, sequence) for prepends
  set   the element's byte-comparable form
  map   the key's byte-comparable form
so elements merge by their own timestamps (last write wins per element) and concurrent appends all
survive. Payloads are already length-prefixed, so a collection's wire form is its live payloads in key
order behind a count — assembling needs no type.
"""

from __future__ import annotations

import itertools
import struct

SEP = "\x00"
_I32 = struct.Struct(">i")
_APPEND = struct.Struct(">cqI")
_seq = itertools.count()


def tombstone_name(column: str) -> str:
    return column + SEP


def element_name(column: str, key: bytes) -> str:
    return column + SEP + key.decode("latin-1")


def is_element(name: str) -> bool:
    return SEP in name


def base_column(name: str) -> str:
    return name.split(SEP, 1)[0]


def element_key(name: str) -> bytes:
    return name.split(SEP, 1)[1].encode("latin-1")


def append_key(ts: int) -> bytes:
    return _APPEND.pack(b"\x01", ts, next(_seq) & 0xFFFFFFFF)


def prepend_key(ts: int) -> bytes:
    # Decreasing in both time and sequence: each prepend goes before everything written earlier.
    return _APPEND.pack(b"\x00", (1 << 63) - 1 - max(ts, 0), 0xFFFFFFFF - (next(_seq) & 0xFFFFFFFF))


def value_payload(data: bytes) -> bytes:
    return _I32.pack(len(data)) + data


def entry_payload(key: bytes, value: bytes) -> bytes:
    return _I32.pack(len(key)) + key + _I32.pack(len(value)) + value


def split_payload(payload: bytes) -> bytes:
    """The element of a list/set payload."""
    (n,) = _I32.unpack_from(payload)
    return payload[4 : 4 + n]


def assemble(cells: dict, shadow: int | None, now_s: int) -> tuple[dict, dict]:
    """From a row's raw cells: (collections by column as wire bytes, live element cells by name).

    Elements older than their collection's tombstone, than `shadow` (row/range/partition deletion),
    deleted or expired are left out; a collection with no live element is absent (null)."""
    tombs: dict[str, int] = {}
    elements: dict[str, list] = {}
    for name, cell in cells.items():
        if SEP not in name:
            continue
        column, key = name.split(SEP, 1)
        if not key:
            tombs[column] = cell[0]
            continue
        elements.setdefault(column, []).append((key, name, cell))
    out: dict[str, bytes] = {}
    live: dict[str, tuple] = {}
    for column, items in elements.items():
        floor = tombs.get(column)
        if shadow is not None and (floor is None or shadow > floor):
            floor = shadow
        payloads = []
        for _key, name, cell in sorted(items):
            ts, value, _ttl, expires = cell
            if value is None or (floor is not None and ts <= floor) or (expires and expires <= now_s):
                continue
            payloads.append(value)
            live[name] = cell
        if payloads:
            out[column] = _I32.pack(len(payloads)) + b"".join(payloads)
    return out, live
