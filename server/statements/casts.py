"""`CAST(x AS type)` in a selection, with the conversions Cassandra's native cast functions define.

Cassandra resolves a cast as a call of its function `cast_as_<type>`, and has such a function only for:
a numeric type (counter included) to another numeric type, ascii or text; ascii to text; inet,
boolean, uuid, timeuuid, timestamp, date and time to ascii or text; timeuuid to date and timestamp;
timestamp to date; date to timestamp. A cast to the operand's own type is left out altogether (the
column keeps its name). Numeric conversions follow Java's `Number` methods, so narrowing wraps around
(`CAST(1000 AS tinyint)` is -24) and floating point saturates at the target's range first.
"""

from __future__ import annotations

import datetime
import math
import struct
import uuid
from decimal import Decimal
from typing import Any

from server.errors import InvalidRequest
from storage import cqltypes

NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal", "varint", "counter")
_TO_TEXT = NUMERIC + ("inet", "boolean", "timeuuid", "timestamp", "date", "time", "uuid")
_WIDTH = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64}
_FLOAT32 = struct.Struct(">f")
_EPOCH = datetime.datetime(1970, 1, 1)


def sources(target: str) -> tuple[str, ...]:
    """The operand types Cassandra can cast to `target` (the signatures of its `cast_as_<target>`)."""
    if target in _WIDTH or target in ("float", "double", "decimal", "varint"):
        return tuple(t for t in NUMERIC if t != target)
    if target == "ascii":
        return _TO_TEXT
    if target == "text":
        return ("ascii",) + _TO_TEXT
    if target == "date":
        return ("timeuuid", "timestamp")
    if target == "timestamp":
        return ("timeuuid", "date")
    return ()


def check(column_name: str, src: str, target: str) -> None:
    """Refuse a cast Cassandra has no function for, with its message."""
    allowed = sources(target)
    if src in allowed:
        return
    if not allowed:
        raise InvalidRequest(f"{column_name} cannot be cast to {target}")
    signatures = ", ".join(f"system.cast_as_{target} : ({s}) -> {target}" for s in allowed)
    raise InvalidRequest(
        f"Invalid call to function cast_as_{target}, none of its type signatures match "
        f"(known type signatures: {signatures})"
    )


def _wrap(n: int, bits: int) -> int:
    """The low `bits` bits of n as a signed number (Java's narrowing of integers)."""
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >= 1 << (bits - 1) else n


def _float_to_long(v: float, bits: int) -> int:
    """Java's (int) / (long) of a floating point number: toward zero, saturated, NaN as 0."""
    if math.isnan(v):
        return 0
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if math.isinf(v):
        return hi if v > 0 else lo
    return max(lo, min(hi, int(v)))


def _integral(v: Any, src: str, bits: int) -> int:
    """Java's byteValue/shortValue/intValue/longValue of a value of type `src`."""
    if src in ("float", "double"):
        # Floating point narrows through int (for byte and short) or long, saturating there.
        return _wrap(_float_to_long(v, 64 if bits == 64 else 32), bits)
    return _wrap(int(v), bits)  # decimal: truncated toward zero first, as BigDecimal.toBigInteger


def _shortest_float32(v: float) -> str:
    """Java's Float.toString digits: the shortest decimal that reads back as the same 32-bit float."""
    for digits in range(1, 10):
        text = f"{v:.{digits}g}"
        if _FLOAT32.unpack(_FLOAT32.pack(float(text)))[0] == v:
            return text
    return repr(v)


def _to_float32(v: float) -> float:
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(v))[0]
    except OverflowError:  # beyond float's range: Java's (float) gives infinity
        return math.copysign(math.inf, v)


def _to_double(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:  # a varint or decimal beyond double's range
        return math.inf if v > 0 else -math.inf


def convert(v: Any, src: str, target: str, src_type) -> Any:
    """The value of CAST(v AS target) for a non-null v of type `src` (a pair `check` accepted; casts
    to timestamp and date are the selection's toTimestamp and toDate)."""
    if target in ("ascii", "text"):
        return text_of(v, src_type)
    if target in _WIDTH:
        return _integral(v, src, _WIDTH[target])
    if target == "float":
        return _to_float32(_to_double(v))
    if target == "double":
        return _to_double(v)
    if target == "varint":  # BigInteger.valueOf(longValue()): 64 bits, even from a decimal or varint
        return _integral(v, src, 64)
    if target == "decimal":
        if src in ("float", "double"):
            if math.isnan(v) or math.isinf(v):
                raise InvalidRequest(f"Cannot cast {v} to decimal: infinite or NaN")
            return _java_decimal(_shortest_float32(v) if src == "float" else repr(v))
        return Decimal(int(v))
    raise AssertionError(f"no conversion to {target}")


def _java_decimal(text: str) -> Decimal:
    """BigDecimal of Java's Float/Double.toString, which always shows a fractional digit (100.0)."""
    d = Decimal(text)
    exp = d.as_tuple().exponent
    if isinstance(exp, int) and exp >= 0 and abs(d) < 10_000_000:
        return d.quantize(Decimal("0.1"))
    return d


def text_of(v: Any, t) -> str:
    """A value as Cassandra's cast to text writes it (its CQL literal, without quotes)."""
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, float):
        return _java_float_text(v, t.cql_name() == "float")
    if t.cql_name() == "timestamp":
        return _timestamp_text(v)
    if isinstance(v, (int, str, Decimal)) and t.cql_name() not in ("date", "time"):
        return str(v)
    return cqltypes.value_to_cql_literal(v, t).strip("'")


def _timestamp_text(ms: int) -> str:
    """A timestamp as Cassandra's cast writes it: ISO 8601 in UTC with milliseconds (2015-05-21T11:03:02.000Z)."""
    try:
        t = _EPOCH + datetime.timedelta(milliseconds=ms)
    except OverflowError:  # beyond year 9999: the number of milliseconds
        return str(ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _java_float_text(v: float, single: bool) -> str:
    """Java's Float/Double.toString: NaN, Infinity, plain digits with a fractional part between 10⁻³
    and 10⁷, computerized scientific notation (1.0E10) outside."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    digits = _shortest_float32(v) if single else repr(v)
    d = Decimal(digits)
    if v == 0 or 1e-3 <= abs(v) < 1e7:
        text = format(d, "f")
        return text if "." in text else text + ".0"
    sign, ds, exp = d.as_tuple()
    mantissa = "".join(map(str, ds)).rstrip("0") or "0"
    exponent = exp + len(ds) - 1
    body = mantissa[0] + "." + (mantissa[1:] or "0")
    return ("-" if sign else "") + f"{body}E{exponent}"
