"""CQL type system: one codec object per CQL type, found by name in a registry.

Every type object (a :class:`CqlType`) knows how to turn python values into the protocol v4 wire form and back,
how Cassandra orders its values, and how to build a byte-comparable key from the wire form.

Python value representation (what ``deserialize`` returns and ``serialize`` accepts):

=====================  ====================================================================================
ascii, text/varchar    ``str``
bigint, int, smallint,  ``int``
tinyint, varint,
counter
blob, custom           ``bytes``
boolean                ``bool``
float, double          ``float``
decimal                ``decimal.Decimal``
uuid, timeuuid         ``uuid.UUID``
inet                   ``ipaddress.IPv4Address`` / ``ipaddress.IPv6Address``
timestamp              ``int`` milliseconds since the epoch
date                   ``int`` days since the epoch (may be negative; wire form is uint32 with 2**31 = epoch)
time                   ``int`` nanoseconds since midnight
duration               :class:`Duration` ``(months, days, nanoseconds)``
list<T>                ``list``
set<T>                 ``list`` sorted in T's CQL order, without duplicates
map<K, V>              ``dict`` whose keys are in K's CQL order
tuple<...>             ``tuple`` (missing trailing components allowed; ``None`` for null components)
user type              ``tuple`` of the field values by position (``None`` for null/missing fields)
=====================  ====================================================================================

Collections accept any iterable for serialization (lists, tuples, sets); maps accept a dict or an iterable of pairs.
Map keys must be hashable, so map keys that are lists/sets deserialize as tuples, and maps as tuples of pairs
(see :func:`to_hashable`).

Empty values: Cassandra accepts a zero-length value for most fixed-width types (int, bigint, uuid, timestamp, ...).
``deserialize(b'')`` returns ``None`` for those (text/ascii/blob give ``''``/``b''``), ``compare`` orders ``None``
first, and ``comparable(b'')`` sorts before every real value.

``comparable(data)`` returns a prefix-free byte string whose unsigned lexicographic order is the type's CQL order;
``comparable_desc(data)`` is the same with every byte inverted (reverse order, still prefix-free).
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import json
import math
import re
import struct
import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

__all__ = [
    "MarshalError",
    "Duration",
    "CqlType",
    "NativeType",
    "ListType",
    "SetType",
    "MapType",
    "TupleType",
    "UserType",
    "CustomType",
    "lookup_native",
    "native_types",
    "parse_type_string",
    "type_from_ref",
    "value_to_cql_literal",
    "value_to_json",
    "json_to_value",
    "maybe_quote",
    "to_hashable",
    "format_timestamp",
    "format_date",
    "format_time",
    "format_duration",
    "parse_timestamp",
    "parse_date",
    "parse_time",
    "parse_duration",
    "DURATION_CLASS",
]

DURATION_CLASS = "org.apache.cassandra.db.marshal.DurationType"
_MARSHAL_PKG = "org.apache.cassandra.db.marshal."


class MarshalError(ValueError):
    """A value does not have the right size or format for its type (Cassandra's MarshalException)."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class Duration(NamedTuple):
    months: int
    days: int
    nanoseconds: int


# ---------------------------------------------------------------- helpers

_INT8 = struct.Struct(">b")
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_UINT32 = struct.Struct(">I")
_UINT64 = struct.Struct(">Q")
_FLOAT = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")
_UINT16 = struct.Struct(">H")
_UUID_HALVES = struct.Struct(">QQ")

_EMPTY_KEY = b"\x00"  # comparable form of an empty (zero-length) value
_PRESENT = b"\x01"

_INVERT = bytes(255 - i for i in range(256))


def _invert(data: bytes) -> bytes:
    return data.translate(_INVERT)


def _escape_bytes(data: bytes) -> bytes:
    """Self-delimiting, order-preserving encoding of an arbitrary byte string."""
    return data.replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _proto_string(s: str) -> bytes:
    raw = s.encode("utf-8")
    return _UINT16.pack(len(raw)) + raw


_RESERVED = frozenset(
    """add allow alter and apply asc authorize batch begin by columnfamily create default delete desc describe drop
    entries execute from full grant if in index infinity insert into is keyspace limit materialized mbean mbeans
    modify nan norecursive not null of on or order primary rename replace revoke schema select set table to token
    truncate unlogged unset update use using view where with""".split()
)
_UNQUOTED_RE = re.compile(r"[a-z][a-z0-9_]*\Z")


def maybe_quote(name: str) -> str:
    """Quote an identifier the way Cassandra's ColumnIdentifier.maybeQuote does."""
    if _UNQUOTED_RE.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- base class


class CqlType:
    """Base of all CQL types. Subclasses override the codec methods."""

    is_collection = False
    is_multicell = False
    is_counter = False
    is_udt = False
    is_tuple = False
    kind = "native"
    #: True when a zero-length value is valid (Cassandra "empty" value)
    empty_ok = True

    # -------------------------------------------------- identity

    def cql_name(self) -> str:
        raise NotImplementedError

    def _key(self) -> tuple:
        return (self.kind, self.cql_name())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CqlType) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<CqlType {self.cql_name()}>"

    def __str__(self) -> str:
        return self.cql_name()

    def frozen(self) -> CqlType:
        return self

    def unfrozen(self) -> CqlType:
        return self

    # -------------------------------------------------- codec

    def serialize(self, value: Any) -> bytes:
        raise NotImplementedError

    def deserialize(self, data: bytes) -> Any:
        raise NotImplementedError

    def validate(self, data: bytes) -> None:
        self.deserialize(data)

    def option(self) -> bytes:
        raise NotImplementedError

    # -------------------------------------------------- ordering

    def comparable(self, data: bytes) -> bytes:
        raise NotImplementedError

    def comparable_desc(self, data: bytes) -> bytes:
        return _invert(self.comparable(data))

    def compare(self, a: Any, b: Any) -> int:
        """Compare two python values in Cassandra's order (None, the empty value, first)."""
        if a is None or b is None:
            return (b is None) - (a is None) if (a is None) != (b is None) else 0
        return _cmp(self.comparable(self.serialize(a)), self.comparable(self.serialize(b)))

    def sort_key(self, value: Any) -> bytes:
        """A key for ``sorted``: the comparable form of the value (None sorts first)."""
        if value is None:
            return _EMPTY_KEY
        return self.comparable(self.serialize(value))

    def references_udt(self, keyspace: str, name: str) -> bool:
        return False


# ---------------------------------------------------------------- natives

_NATIVE_REGISTRY: dict[str, NativeType] = {}


def _register(cls: type[NativeType]) -> type[NativeType]:
    inst = cls()
    _NATIVE_REGISTRY[inst.name] = inst
    return cls


def lookup_native(name: str) -> NativeType | None:
    """The native type called `name` (case-insensitive, `varchar` → text), or None."""
    name = name.lower()
    if name == "varchar":
        name = "text"
    return _NATIVE_REGISTRY.get(name)


def native_types() -> dict[str, NativeType]:
    return dict(_NATIVE_REGISTRY)


class NativeType(CqlType):
    name = ""
    type_id = 0
    marshal_class = ""

    def cql_name(self) -> str:
        return self.name

    def option(self) -> bytes:
        return _UINT16.pack(self.type_id)

    def _key(self) -> tuple:
        return ("native", self.name)


class _FixedIntType(NativeType):
    fmt: struct.Struct = _INT32
    size = 4
    size_error = "Expected 4 or 0 byte int (%d)"
    lo = -(2**31)
    hi = 2**31 - 1

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(value)
            except (TypeError, ValueError) as e:
                raise MarshalError(f"Expected an integer for {self.name}, got {value!r}") from e
        if not self.lo <= value <= self.hi:
            raise MarshalError(f"Value {value} out of range for {self.name}")
        return self.fmt.pack(value)

    def validate(self, data: bytes) -> None:
        n = len(data)
        if n != self.size and not (n == 0 and self.empty_ok):
            raise MarshalError(self.size_error % n)

    def deserialize(self, data: bytes) -> int | None:
        n = len(data)
        if n == self.size:
            return self.fmt.unpack(data)[0]
        if n == 0 and self.empty_ok:
            return None
        raise MarshalError(self.size_error % n)

    def comparable(self, data: bytes) -> bytes:
        n = len(data)
        if n != self.size:
            self.validate(data)
            return _EMPTY_KEY
        return b"\x01" + bytes((data[0] ^ 0x80,)) + data[1:]

    def compare(self, a: Any, b: Any) -> int:
        if a is None or b is None:
            return CqlType.compare(self, a, b)
        return _cmp(a, b)


@_register
class TinyintType(_FixedIntType):
    name = "tinyint"
    type_id = 0x14
    marshal_class = "ByteType"
    fmt = _INT8
    size = 1
    size_error = "Expected 1 byte for a tinyint (%d)"
    lo, hi = -128, 127
    empty_ok = False


@_register
class SmallintType(_FixedIntType):
    name = "smallint"
    type_id = 0x13
    marshal_class = "ShortType"
    fmt = _INT16
    size = 2
    size_error = "Expected 2 bytes for a smallint (%d)"
    lo, hi = -(2**15), 2**15 - 1
    empty_ok = False


@_register
class IntType(_FixedIntType):
    name = "int"
    type_id = 0x09
    marshal_class = "Int32Type"


@_register
class BigintType(_FixedIntType):
    name = "bigint"
    type_id = 0x02
    marshal_class = "LongType"
    fmt = _INT64
    size = 8
    size_error = "Expected 8 or 0 byte long (%d)"
    lo, hi = -(2**63), 2**63 - 1


@_register
class CounterType(BigintType):
    name = "counter"
    type_id = 0x05
    marshal_class = "CounterColumnType"
    is_counter = True


@_register
class TimestampType(BigintType):
    name = "timestamp"
    type_id = 0x0B
    marshal_class = "TimestampType"
    size_error = "Expected 8 or 0 byte long for date (%d)"

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, datetime.datetime):
            value = _datetime_to_ms(value)
        return super().serialize(value)


@_register
class TimeType(BigintType):
    name = "time"
    type_id = 0x12
    marshal_class = "TimeType"
    size_error = "Expected 8 byte long for time (%d)"
    lo, hi = 0, 86_399_999_999_999
    empty_ok = False

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, datetime.time):
            value = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000_000 + value.microsecond * 1000
        return super().serialize(value)


@_register
class DateType(NativeType):
    name = "date"
    type_id = 0x11
    marshal_class = "SimpleDateType"
    empty_ok = False

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, datetime.date):
            value = (value - _EPOCH_DATE).days
        if isinstance(value, bool) or not isinstance(value, int):
            raise MarshalError(f"Expected an integer number of days for date, got {value!r}")
        if not -(2**31) <= value < 2**31:
            raise MarshalError(f"Date value {value} out of range")
        return _UINT32.pack(value + 2**31)

    def validate(self, data: bytes) -> None:
        if len(data) != 4:
            raise MarshalError(f"Expected 4 byte long for date ({len(data)})")

    def deserialize(self, data: bytes) -> int:
        if len(data) != 4:
            raise MarshalError(f"Expected 4 byte long for date ({len(data)})")
        return _UINT32.unpack(data)[0] - 2**31

    def comparable(self, data: bytes) -> bytes:
        self.validate(data)
        return data

    def compare(self, a: Any, b: Any) -> int:
        return _cmp(a, b)


@_register
class VarintType(NativeType):
    name = "varint"
    type_id = 0x0E
    marshal_class = "IntegerType"

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(value)
            except (TypeError, ValueError) as e:
                raise MarshalError(f"Expected an integer for varint, got {value!r}") from e
        return _varint_bytes(value)

    def validate(self, data: bytes) -> None:
        return None

    def deserialize(self, data: bytes) -> int | None:
        if not data:
            return None
        return int.from_bytes(data, "big", signed=True)

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        return _int_comparable(int.from_bytes(data, "big", signed=True))

    def compare(self, a: Any, b: Any) -> int:
        if a is None or b is None:
            return CqlType.compare(self, a, b)
        return _cmp(a, b)


def _varint_bytes(value: int) -> bytes:
    n = ((value if value >= 0 else ~value).bit_length() + 8) // 8
    return value.to_bytes(n, "big", signed=True)


def _length_comparable(n: int) -> bytes:
    """Order-preserving, prefix-free encoding of a non-negative integer."""
    raw = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    if len(raw) > 255:
        raise MarshalError("value too large")
    return bytes((len(raw),)) + raw


def _int_comparable(v: int) -> bytes:
    if v == 0:
        return b"\x02"
    if v > 0:
        raw = v.to_bytes((v.bit_length() + 7) // 8, "big")
        return b"\x03" + _length_comparable(len(raw)) + raw
    m = -v
    raw = m.to_bytes((m.bit_length() + 7) // 8, "big")
    return b"\x01" + _invert(_length_comparable(len(raw)) + raw)


@_register
class DecimalType(NativeType):
    name = "decimal"
    type_id = 0x06
    marshal_class = "DecimalType"

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, decimal.Decimal):
            if isinstance(value, float):
                value = decimal.Decimal(repr(value))
            else:
                try:
                    value = decimal.Decimal(value)
                except (TypeError, ValueError, decimal.InvalidOperation) as e:
                    raise MarshalError(f"Expected a decimal, got {value!r}") from e
        if not value.is_finite():
            raise MarshalError(f"Decimal value {value} is not finite")
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        unscaled = int("".join(map(str, digits)) or "0")
        if sign:
            unscaled = -unscaled
        scale = -exponent
        if not -(2**31) <= scale < 2**31:
            raise MarshalError("Decimal scale out of range")
        return _INT32.pack(scale) + _varint_bytes(unscaled)

    def validate(self, data: bytes) -> None:
        if 0 < len(data) < 4:
            raise MarshalError(f"Expected 0 or at least 4 bytes ({len(data)})")

    def deserialize(self, data: bytes) -> decimal.Decimal | None:
        if not data:
            return None
        self.validate(data)
        scale = _INT32.unpack_from(data)[0]
        unscaled = int.from_bytes(data[4:], "big", signed=True) if len(data) > 4 else 0
        digits = tuple(int(c) for c in str(abs(unscaled)))
        return decimal.Decimal((1 if unscaled < 0 else 0, digits, -scale))

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        self.validate(data)
        scale = _INT32.unpack_from(data)[0]
        unscaled = int.from_bytes(data[4:], "big", signed=True) if len(data) > 4 else 0
        if unscaled == 0:
            return b"\x02"
        digits = str(abs(unscaled)).rstrip("0")
        # value = 0.d1d2d3... * 10**exp
        exp = len(str(abs(unscaled))) - scale
        body = _UINT64.pack(exp + 2**63) + bytes(int(c) + 1 for c in digits) + b"\x00"
        return b"\x03" + body if unscaled > 0 else b"\x01" + _invert(body)

    def compare(self, a: Any, b: Any) -> int:
        if a is None or b is None:
            return CqlType.compare(self, a, b)
        return _cmp(a, b)


class _FloatingType(NativeType):
    fmt: struct.Struct = _DOUBLE
    size = 8
    size_error = "Expected 8 or 0 byte value for a double (%d)"
    ubits: struct.Struct = _UINT64
    canonical_nan = 0x7FF8000000000000
    sign_bit = 1 << 63
    mask = (1 << 64) - 1

    def serialize(self, value: Any) -> bytes:
        try:
            return self.fmt.pack(value)
        except (struct.error, TypeError) as e:
            if isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool):
                try:
                    return self.fmt.pack(float(value))
                except (OverflowError, struct.error) as e2:
                    raise MarshalError(f"Value {value} out of range for {self.name}") from e2
            raise MarshalError(f"Expected a number for {self.name}, got {value!r}") from e

    def validate(self, data: bytes) -> None:
        if len(data) not in (0, self.size):
            raise MarshalError(self.size_error % len(data))

    def deserialize(self, data: bytes) -> float | None:
        if len(data) == self.size:
            return self.fmt.unpack(data)[0]
        if not data:
            return None
        raise MarshalError(self.size_error % len(data))

    def comparable(self, data: bytes) -> bytes:
        if len(data) != self.size:
            self.validate(data)
            return _EMPTY_KEY
        if math.isnan(self.fmt.unpack(data)[0]):
            bits = self.canonical_nan
        else:
            bits = self.ubits.unpack(data)[0]
        bits = bits ^ self.mask if bits & self.sign_bit else bits ^ self.sign_bit
        return b"\x01" + self.ubits.pack(bits)

    def compare(self, a: Any, b: Any) -> int:
        if a is None or b is None:
            return CqlType.compare(self, a, b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) - math.isnan(b)
        if a == b == 0:
            return (math.copysign(1, a) > 0) - (math.copysign(1, b) > 0)
        return _cmp(a, b)


@_register
class DoubleType(_FloatingType):
    name = "double"
    type_id = 0x07
    marshal_class = "DoubleType"


@_register
class FloatType(_FloatingType):
    name = "float"
    type_id = 0x08
    marshal_class = "FloatType"
    fmt = _FLOAT
    size = 4
    size_error = "Expected 4 or 0 byte value for a float (%d)"
    ubits = _UINT32
    canonical_nan = 0x7FC00000
    sign_bit = 1 << 31
    mask = (1 << 32) - 1


@_register
class BooleanType(NativeType):
    name = "boolean"
    type_id = 0x04
    marshal_class = "BooleanType"

    def serialize(self, value: Any) -> bytes:
        return b"\x01" if value else b"\x00"

    def validate(self, data: bytes) -> None:
        if len(data) > 1:
            raise MarshalError(f"Expected 1 or 0 byte value ({len(data)})")

    def deserialize(self, data: bytes) -> bool | None:
        if len(data) == 1:
            return data != b"\x00"
        if not data:
            return None
        raise MarshalError(f"Expected 1 or 0 byte value ({len(data)})")

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        self.validate(data)
        return b"\x01\x00" if data == b"\x00" else b"\x01\x01"

    def compare(self, a: Any, b: Any) -> int:
        if a is None or b is None:
            return CqlType.compare(self, a, b)
        return _cmp(bool(a), bool(b))


@_register
class BlobType(NativeType):
    name = "blob"
    type_id = 0x03
    marshal_class = "BytesType"

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise MarshalError(f"Expected bytes for {self.name}, got {type(value).__name__}")

    def validate(self, data: bytes) -> None:
        return None

    def deserialize(self, data: bytes) -> bytes:
        return bytes(data)

    def comparable(self, data: bytes) -> bytes:
        return _escape_bytes(data)

    def compare(self, a: Any, b: Any) -> int:
        return _cmp(a, b)


@_register
class TextType(NativeType):
    name = "text"
    type_id = 0x0D
    marshal_class = "UTF8Type"

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise MarshalError(f"Expected a string for {self.name}, got {type(value).__name__}")
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise MarshalError("String didn't validate.") from e

    def validate(self, data: bytes) -> None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MarshalError("String didn't validate.") from e

    def deserialize(self, data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MarshalError("String didn't validate.") from e

    def comparable(self, data: bytes) -> bytes:
        return _escape_bytes(data)

    def compare(self, a: Any, b: Any) -> int:
        # code point order == UTF-8 byte order
        return _cmp(a, b)


@_register
class AsciiType(TextType):
    name = "ascii"
    type_id = 0x01
    marshal_class = "AsciiType"

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise MarshalError(f"Expected a string for {self.name}, got {type(value).__name__}")
        try:
            return value.encode("ascii")
        except UnicodeEncodeError as e:
            raise MarshalError(f"Invalid ASCII character in string literal: {value}") from e

    def validate(self, data: bytes) -> None:
        if not data.isascii():
            for b in data:
                if b > 127:
                    raise MarshalError(f"Invalid byte for ascii: {b - 256}")

    def deserialize(self, data: bytes) -> str:
        self.validate(data)
        return data.decode("ascii")


@_register
class UuidType(NativeType):
    name = "uuid"
    type_id = 0x0C
    marshal_class = "UUIDType"

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, uuid.UUID):
            return value.bytes
        if isinstance(value, str):
            try:
                return uuid.UUID(value).bytes
            except ValueError as e:
                raise MarshalError(f"Unable to make UUID from '{value}'") from e
        raise MarshalError(f"Expected a UUID for {self.name}, got {type(value).__name__}")

    def validate(self, data: bytes) -> None:
        if len(data) not in (0, 16):
            raise MarshalError(f"UUID should be 16 or 0 bytes ({len(data)})")

    def deserialize(self, data: bytes) -> uuid.UUID | None:
        if len(data) == 16:
            self.validate(data)
            return uuid.UUID(bytes=bytes(data))
        self.validate(data)
        return None

    def comparable(self, data: bytes) -> bytes:
        if len(data) != 16:
            self.validate(data)
            return _EMPTY_KEY
        msb, lsb = _UUID_HALVES.unpack(data)
        version = (msb >> 12) & 0xF
        if version == 1:
            msb = _reorder_timestamp(msb)
        return bytes((1, version)) + _UUID_HALVES.pack(msb, lsb)


def _reorder_timestamp(msb: int) -> int:
    return ((msb << 48) & 0xFFFF000000000000) | ((msb << 16) & 0xFFFF00000000) | (msb >> 32)


@_register
class TimeuuidType(UuidType):
    name = "timeuuid"
    type_id = 0x0F
    marshal_class = "TimeUUIDType"

    def serialize(self, value: Any) -> bytes:
        data = super().serialize(value)
        if (data[6] & 0xF0) != 0x10:
            raise MarshalError("Invalid version for TimeUUID type.")
        return data

    def validate(self, data: bytes) -> None:
        super().validate(data)
        if data and (data[6] & 0xF0) != 0x10:
            raise MarshalError("Invalid version for TimeUUID type.")

    def comparable(self, data: bytes) -> bytes:
        if len(data) != 16:
            self.validate(data)
            return _EMPTY_KEY
        msb, lsb = _UUID_HALVES.unpack(data)
        # timestamp first, then the clock/node bytes compared as signed bytes
        return b"\x01" + _UUID_HALVES.pack(_reorder_timestamp(msb), lsb ^ 0x8080808080808080)


@_register
class InetType(NativeType):
    name = "inet"
    type_id = 0x10
    marshal_class = "InetAddressType"

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return value.packed
        if isinstance(value, str):
            try:
                return ipaddress.ip_address(value).packed
            except ValueError as e:
                raise MarshalError(f"Unable to make inet address from '{value}'") from e
        if isinstance(value, (bytes, bytearray)) and len(value) in (4, 16):
            return bytes(value)
        raise MarshalError(f"Expected an inet address, got {value!r}")

    def validate(self, data: bytes) -> None:
        if len(data) not in (0, 4, 16):
            raise MarshalError(f"Expected 4 or 16 byte inetaddress; got {data.hex()}")

    def deserialize(self, data: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        self.validate(data)
        if not data:
            return None
        return ipaddress.ip_address(bytes(data))

    def comparable(self, data: bytes) -> bytes:
        self.validate(data)
        return _escape_bytes(data)


# ---------------------------------------------------------------- duration

NANOS_PER_MICRO = 1000
NANOS_PER_MILLI = 1000 * NANOS_PER_MICRO
NANOS_PER_SECOND = 1000 * NANOS_PER_MILLI
NANOS_PER_MINUTE = 60 * NANOS_PER_SECOND
NANOS_PER_HOUR = 60 * NANOS_PER_MINUTE
NANOS_PER_DAY = 24 * NANOS_PER_HOUR


def _write_unsigned_vint(v: int, out: bytearray) -> None:
    if v < 0x80:
        out.append(v)
        return
    magnitude = 64 - (v | 1).bit_length()  # leading zeros of a 64-bit value
    size = (639 - magnitude * 9) >> 6
    extra = size - 1
    raw = bytearray(v.to_bytes(size, "big")) if size <= 8 else bytearray(b"\x00" + v.to_bytes(8, "big"))
    raw[0] |= (~(0xFF >> extra)) & 0xFF
    out += raw


def _read_unsigned_vint(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise MarshalError("Invalid duration: not enough bytes")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    extra = 8 - (first ^ 0xFF).bit_length()  # number of leading one bits
    end = pos + 1 + extra
    if end > len(data):
        raise MarshalError("Invalid duration: not enough bytes")
    value = first & (0xFF >> extra)
    for b in data[pos + 1 : end]:
        value = (value << 8) | b
    return value, end


def _zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 63) if v >= 0 else ((v << 1) ^ -1) & 0xFFFFFFFFFFFFFFFF


def _unzigzag(v: int) -> int:
    return (v >> 1) ^ -(v & 1)


@_register
class DurationType(NativeType):
    name = "duration"
    type_id = 0x15  # v5 id; v4 uses a custom option (see option())
    marshal_class = "DurationType"

    def option(self) -> bytes:
        return b"\x00\x00" + _proto_string(DURATION_CLASS)

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, str):
            value = parse_duration(value)
        try:
            months, days, nanos = value
        except (TypeError, ValueError) as e:
            raise MarshalError(f"Expected a duration, got {value!r}") from e
        _check_duration(months, days, nanos)
        out = bytearray()
        _write_unsigned_vint(_zigzag(months), out)
        _write_unsigned_vint(_zigzag(days), out)
        _write_unsigned_vint(_zigzag(nanos), out)
        return bytes(out)

    def deserialize(self, data: bytes) -> Duration | None:
        if not data:
            return None
        if len(data) < 3:
            raise MarshalError(f"Expected at least 3 bytes for a duration ({len(data)})")
        m, pos = _read_unsigned_vint(data, 0)
        d, pos = _read_unsigned_vint(data, pos)
        n, pos = _read_unsigned_vint(data, pos)
        if pos != len(data):
            raise MarshalError("Invalid duration: unexpected extraneous bytes")
        months, days, nanos = _unzigzag(m), _unzigzag(d), _unzigzag(n)
        if not (-(2**31) <= months < 2**31 and -(2**31) <= days < 2**31 and -(2**63) <= nanos < 2**63):
            raise MarshalError("Invalid duration: value out of range")
        _check_duration(months, days, nanos)
        return Duration(months, days, nanos)

    def comparable(self, data: bytes) -> bytes:
        # DurationType is byte-ordered in Cassandra
        return _escape_bytes(data)

    def compare(self, a: Any, b: Any) -> int:
        if a is None or b is None:
            return CqlType.compare(self, a, b)
        return _cmp(self.serialize(a), self.serialize(b))


def _check_duration(months: int, days: int, nanos: int) -> None:
    if not ((months >= 0 and days >= 0 and nanos >= 0) or (months <= 0 and days <= 0 and nanos <= 0)):
        raise MarshalError(
            f"The duration months, days and nanoseconds must be all of the same sign ({months}, {days}, {nanos})"
        )
    if not (-(2**31) <= months < 2**31 and -(2**31) <= days < 2**31 and -(2**63) <= nanos < 2**63):
        raise MarshalError("Duration value out of range")


# ---------------------------------------------------------------- custom


class CustomType(CqlType):
    """A custom (Java class) type we don't know: values are opaque bytes ordered bytewise."""

    kind = "custom"

    def __init__(self, class_name: str) -> None:
        self.class_name = class_name

    def cql_name(self) -> str:
        return "'" + self.class_name + "'"

    def option(self) -> bytes:
        return b"\x00\x00" + _proto_string(self.class_name)

    def serialize(self, value: Any) -> bytes:
        return BLOB.serialize(value)

    def validate(self, data: bytes) -> None:
        return None

    def deserialize(self, data: bytes) -> bytes:
        return bytes(data)

    def comparable(self, data: bytes) -> bytes:
        return _escape_bytes(data)


# ---------------------------------------------------------------- collections


def _read_len(data: bytes, pos: int, what: str) -> tuple[int, int]:
    if pos + 4 > len(data):
        raise MarshalError(f"Not enough bytes to read a {what}")
    return _INT32.unpack_from(data, pos)[0], pos + 4


def _read_value(data: bytes, pos: int, what: str) -> tuple[bytes | None, int]:
    n, pos = _read_len(data, pos, what)
    if n < 0:
        return None, pos
    end = pos + n
    if end > len(data):
        raise MarshalError(f"Not enough bytes to read a {what}")
    return data[pos:end], end


def _split_collection(data: bytes, per_item: int, what: str) -> list[bytes]:
    """Raw element values of a serialized list/set (per_item=1) or map (per_item=2)."""
    count, pos = _read_len(data, 0, what)
    if count < 0 or count * per_item * 4 > len(data) - pos:  # each value needs its 4-byte length at least
        raise MarshalError(f"Not enough bytes to read a {what}")
    out: list[bytes] = []
    for _ in range(count * per_item):
        v, pos = _read_value(data, pos, what)
        if v is None:
            raise MarshalError("null is not supported inside collections")
        out.append(v)
    if pos != len(data):
        raise MarshalError(f"Unexpected extraneous bytes after {what} value")
    return out


def _join_values(parts: list[bytes]) -> bytes:
    out = bytearray()
    for p in parts:
        out += _INT32.pack(len(p))
        out += p
    return bytes(out)


def to_hashable(value: Any) -> Any:
    """Turn a deserialized value into something usable as a dict key (lists → tuples, dicts → pair tuples)."""
    if isinstance(value, list):
        return tuple(to_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((to_hashable(k), to_hashable(v)) for k, v in value.items())
    if isinstance(value, tuple):
        return tuple(to_hashable(v) for v in value)
    return value


class _CollectionType(CqlType):
    is_collection = True
    what = "list"
    type_id = 0

    def __init__(self, frozen: bool) -> None:
        self._frozen = frozen
        self.is_multicell = not frozen

    @property
    def is_frozen(self) -> bool:
        return self._frozen

    def _inner(self) -> str:
        raise NotImplementedError

    def cql_name(self) -> str:
        inner = f"{self.what}<{self._inner()}>"
        return f"frozen<{inner}>" if self._frozen else inner

    def _key(self) -> tuple:
        return (self.what, self._frozen, self._subkeys())

    def _subkeys(self) -> tuple:
        raise NotImplementedError

    def validate(self, data: bytes) -> None:
        if not data:  # a bound value, unlike a stored cell, has its element count even when empty
            raise MarshalError(f"Not enough bytes to read a {self.what}")
        self.deserialize(data)


class ListType(_CollectionType):
    kind = "list"
    what = "list"
    type_id = 0x20

    def __init__(self, element: CqlType, frozen: bool = False) -> None:
        super().__init__(frozen)
        self.element = element

    def _inner(self) -> str:
        return self.element.cql_name()

    def _subkeys(self) -> tuple:
        return (self.element._key(),)

    def frozen(self) -> ListType:
        return self if self._frozen else ListType(self.element, True)

    def unfrozen(self) -> ListType:
        return ListType(self.element, False) if self._frozen else self

    def option(self) -> bytes:
        return _UINT16.pack(self.type_id) + self.element.option()

    def references_udt(self, keyspace: str, name: str) -> bool:
        return self.element.references_udt(keyspace, name)

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, (str, bytes, dict)):
            raise MarshalError(f"Expected a {self.what}, got {type(value).__name__}")
        ser = self.element.serialize
        parts = []
        for v in value:
            if v is None:
                raise MarshalError("null is not supported inside collections")
            parts.append(ser(v))
        return _INT32.pack(len(parts)) + _join_values(parts)

    def deserialize(self, data: bytes) -> Any:
        if not data:
            return None
        de = self.element.deserialize
        return [de(p) for p in _split_collection(data, 1, self.what)]

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        comp = self.element.comparable
        out = bytearray(b"\x01")
        for p in _split_collection(data, 1, self.what):
            out += b"\x01"
            out += comp(p)
        out += b"\x00"
        return bytes(out)


class SetType(ListType):
    kind = "set"
    what = "set"
    type_id = 0x22

    def frozen(self) -> SetType:
        return self if self._frozen else SetType(self.element, True)

    def unfrozen(self) -> SetType:
        return SetType(self.element, False) if self._frozen else self

    def _sorted_unique(self, parts: list[bytes]) -> list[bytes]:
        comp = self.element.comparable
        keyed = sorted(((comp(p), p) for p in parts), key=lambda kp: kp[0])
        out: list[bytes] = []
        last = None
        for k, p in keyed:
            if k != last:
                out.append(p)
                last = k
        return out

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, (str, bytes, dict)):
            raise MarshalError(f"Expected a {self.what}, got {type(value).__name__}")
        ser = self.element.serialize
        parts = []
        for v in value:
            if v is None:
                raise MarshalError("null is not supported inside collections")
            parts.append(ser(v))
        parts = self._sorted_unique(parts)
        return _INT32.pack(len(parts)) + _join_values(parts)

    def deserialize(self, data: bytes) -> Any:
        if not data:
            return None
        de = self.element.deserialize
        return [de(p) for p in self._sorted_unique(_split_collection(data, 1, self.what))]

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        comp = self.element.comparable
        keys = sorted({comp(p) for p in _split_collection(data, 1, self.what)})
        return b"\x01" + b"".join(b"\x01" + k for k in keys) + b"\x00"


class MapType(_CollectionType):
    kind = "map"
    what = "map"
    type_id = 0x21

    def __init__(self, key: CqlType, value: CqlType, frozen: bool = False) -> None:
        super().__init__(frozen)
        self.key = key
        self.value = value

    @property
    def element(self) -> CqlType:
        """The values' type (what `m[k]` yields)."""
        return self.value

    def _inner(self) -> str:
        return f"{self.key.cql_name()}, {self.value.cql_name()}"

    def _subkeys(self) -> tuple:
        return (self.key._key(), self.value._key())

    def frozen(self) -> MapType:
        return self if self._frozen else MapType(self.key, self.value, True)

    def unfrozen(self) -> MapType:
        return MapType(self.key, self.value, False) if self._frozen else self

    def option(self) -> bytes:
        return _UINT16.pack(self.type_id) + self.key.option() + self.value.option()

    def references_udt(self, keyspace: str, name: str) -> bool:
        return self.key.references_udt(keyspace, name) or self.value.references_udt(keyspace, name)

    def _entries(self, parts: list[bytes]) -> list[tuple[bytes, bytes, bytes]]:
        comp = self.key.comparable
        keyed = sorted(((comp(parts[i]), parts[i], parts[i + 1]) for i in range(0, len(parts), 2)), key=lambda e: e[0])
        out: list[tuple[bytes, bytes, bytes]] = []
        for e in keyed:
            if out and out[-1][0] == e[0]:
                out[-1] = e  # last one wins
            else:
                out.append(e)
        return out

    def serialize(self, value: Any) -> bytes:
        items = value.items() if isinstance(value, dict) else value
        kser, vser = self.key.serialize, self.value.serialize
        parts: list[bytes] = []
        for k, v in items:
            if k is None or v is None:
                raise MarshalError("null is not supported inside collections")
            parts.append(kser(k))
            parts.append(vser(v))
        entries = self._entries(parts)
        flat: list[bytes] = []
        for _, k, v in entries:
            flat.append(k)
            flat.append(v)
        return _INT32.pack(len(entries)) + _join_values(flat)

    def deserialize(self, data: bytes) -> Any:
        if not data:
            return None
        kde, vde = self.key.deserialize, self.value.deserialize
        hashable = self.key.is_collection or self.key.is_tuple or self.key.is_udt
        out = {}
        for _, k, v in self._entries(_split_collection(data, 2, self.what)):
            key = kde(k)
            if hashable:
                key = to_hashable(key)
            out[key] = vde(v)
        return out

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        vcomp = self.value.comparable
        out = bytearray(b"\x01")
        for kc, _, v in self._entries(_split_collection(data, 2, self.what)):
            out += b"\x01"
            out += kc
            out += vcomp(v)
        out += b"\x00"
        return bytes(out)


class TupleType(CqlType):
    kind = "tuple"
    is_tuple = True
    type_id = 0x31
    what = "tuple"

    def __init__(self, types: Iterable[CqlType]) -> None:
        self.types: tuple[CqlType, ...] = tuple(t.frozen() for t in types)

    def cql_name(self) -> str:
        return "frozen<tuple<" + ", ".join(t.cql_name() for t in self.types) + ">>"

    def _key(self) -> tuple:
        return ("tuple", tuple(t._key() for t in self.types))

    def option(self) -> bytes:
        return _UINT16.pack(self.type_id) + _UINT16.pack(len(self.types)) + b"".join(t.option() for t in self.types)

    def references_udt(self, keyspace: str, name: str) -> bool:
        return any(t.references_udt(keyspace, name) for t in self.types)

    def _too_many(self) -> MarshalError:
        return MarshalError(f"Tuple value contained too many fields (expected {len(self.types)})")

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, (str, bytes)):
            raise MarshalError(f"Expected a tuple, got {type(value).__name__}")
        vals = tuple(value)
        if len(vals) > len(self.types):
            raise self._too_many()
        out = bytearray()
        for t, v in zip(self.types, vals, strict=False):
            if v is None:
                out += b"\xff\xff\xff\xff"
            else:
                p = t.serialize(v)
                out += _INT32.pack(len(p))
                out += p
        return bytes(out)

    def _split(self, data: bytes) -> list[bytes | None]:
        pos = 0
        out: list[bytes | None] = []
        n = len(data)
        for i in range(len(self.types)):
            if pos >= n:
                break
            if pos + 4 > n:
                raise MarshalError(f"Not enough bytes to read {i}th component")
            size = _INT32.unpack_from(data, pos)[0]
            pos += 4
            if size < 0:
                out.append(None)
                continue
            if pos + size > n:
                raise MarshalError(f"Not enough bytes to read {i}th component")
            out.append(data[pos : pos + size])
            pos += size
        if pos != n:
            raise MarshalError(f"Invalid remaining data after end of {self.what} value")
        return out

    def deserialize(self, data: bytes) -> Any:
        if not data:
            return None
        parts = self._split(data)
        vals = [None if p is None else t.deserialize(p) for t, p in zip(self.types, parts, strict=False)]
        vals.extend([None] * (len(self.types) - len(vals)))
        return tuple(vals)

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        parts = self._split(data)
        while parts and parts[-1] is None:
            parts.pop()
        out = bytearray(b"\x01")
        for t, p in zip(self.types, parts, strict=False):
            if p is None:
                out += b"\x01"
            else:
                out += b"\x02"
                out += t.comparable(p)
        out += b"\x00"
        return bytes(out)


class UserType(TupleType):
    kind = "udt"
    is_udt = True
    is_tuple = False
    type_id = 0x30
    what = "UDT"

    def __init__(
        self,
        keyspace: str,
        name: str,
        field_names: Iterable[str],
        field_types: Iterable[CqlType],
        frozen: bool = True,
    ) -> None:
        self.keyspace = keyspace
        self.name = name
        self.field_names: tuple[str, ...] = tuple(field_names)
        self.field_types: tuple[CqlType, ...] = tuple(field_types)
        # a value of a UDT is always serialized frozen, whatever its fields say
        self.types = tuple(t.frozen() for t in self.field_types)
        self._frozen = frozen
        self.is_multicell = not frozen

    @property
    def is_frozen(self) -> bool:
        return self._frozen

    def cql_name(self) -> str:
        n = maybe_quote(self.name)
        return f"frozen<{n}>" if self._frozen else n

    def _key(self) -> tuple:
        return ("udt", self.keyspace, self.name, self._frozen, self.field_names, tuple(t._key() for t in self.types))

    def frozen(self) -> UserType:
        return self if self._frozen else UserType(self.keyspace, self.name, self.field_names, self.field_types, True)

    def unfrozen(self) -> UserType:
        if not self._frozen:
            return self
        return UserType(self.keyspace, self.name, self.field_names, self.field_types, False)

    def field_index(self, name: str) -> int:
        try:
            return self.field_names.index(name)
        except ValueError:
            return -1

    def option(self) -> bytes:
        out = bytearray(_UINT16.pack(self.type_id))
        out += _proto_string(self.keyspace) + _proto_string(self.name) + _UINT16.pack(len(self.field_names))
        for n, t in zip(self.field_names, self.types, strict=False):
            out += _proto_string(n) + t.option()
        return bytes(out)

    def references_udt(self, keyspace: str, name: str) -> bool:
        if self.keyspace == keyspace and self.name == name:
            return True
        return any(t.references_udt(keyspace, name) for t in self.types)

    def _too_many(self) -> MarshalError:
        return MarshalError(f"UDT value contained too many fields (expected {len(self.types)})")

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, dict):
            unknown = set(value) - set(self.field_names)
            if unknown:
                raise MarshalError(f"Unknown field '{sorted(unknown)[0]}' in value of user defined type {self.name}")
            value = tuple(value.get(n) for n in self.field_names)
        return super().serialize(value)


# ---------------------------------------------------------------- vectors (Cassandra 5)

# Element types whose values have a fixed serialized size (AbstractType.valueLengthIfFixed).
_FIXED_SIZES = {
    "int": 4,
    "bigint": 8,
    "float": 4,
    "double": 8,
    "boolean": 1,
    "uuid": 16,
    "timeuuid": 16,
    "timestamp": 8,
}


def marshal_name(t: CqlType) -> str:
    """The Java class form of a type (AbstractType.toString), as sent inside a custom type option."""
    if isinstance(t, NativeType):
        return _MARSHAL_PKG + t.marshal_class
    if isinstance(t, CustomType):
        return t.class_name
    if isinstance(t, VectorType):
        return f"{_MARSHAL_PKG}VectorType({marshal_name(t.element)}, {t.dimension})"
    if isinstance(t, UserType):
        fields = ",".join(
            f"{n.encode().hex()}:{marshal_name(ft)}" for n, ft in zip(t.field_names, t.types, strict=False)
        )
        inner = f"{_MARSHAL_PKG}UserType({t.keyspace},{t.name.encode().hex()},{fields})"
    elif isinstance(t, TupleType):
        inner = f"{_MARSHAL_PKG}TupleType(" + ",".join(marshal_name(x) for x in t.types) + ")"
    elif isinstance(t, MapType):
        inner = f"{_MARSHAL_PKG}MapType({marshal_name(t.key)},{marshal_name(t.value)})"
    elif isinstance(t, SetType):
        inner = f"{_MARSHAL_PKG}SetType({marshal_name(t.element)})"
    elif isinstance(t, ListType):
        inner = f"{_MARSHAL_PKG}ListType({marshal_name(t.element)})"
    else:
        raise ValueError(f"no marshal class for {t.cql_name()}")
    if isinstance(t, (UserType, _CollectionType)) and t.is_frozen:
        return f"{_MARSHAL_PKG}FrozenType({inner})"
    return inner


class VectorType(CqlType):
    """vector<element, n>: n non-null elements; fixed-size elements are concatenated, others each carry an
    unsigned vint length. Sent to clients as the custom type ``...VectorType(<element class>, n)``."""

    kind = "vector"
    what = "vector"

    def __init__(self, element: CqlType, dimension: int) -> None:
        if dimension <= 0:
            raise ValueError(f"vectors may only have positive dimensions; given {dimension}")
        self.element = element.frozen()
        self.dimension = dimension

    def cql_name(self) -> str:
        return f"vector<{self.element.cql_name()}, {self.dimension}>"

    def _key(self) -> tuple:
        return ("vector", self.element._key(), self.dimension)

    def option(self) -> bytes:
        return b"\x00\x00" + _proto_string(marshal_name(self))

    def references_udt(self, keyspace: str, name: str) -> bool:
        return self.element.references_udt(keyspace, name)

    def fixed_size(self) -> int | None:
        e = self.element
        if isinstance(e, VectorType):
            inner = e.fixed_size()
            return None if inner is None else inner * e.dimension
        if isinstance(e, NativeType):
            return _FIXED_SIZES.get(e.name)
        return None

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, (str, bytes, dict)):
            raise MarshalError(f"Expected a vector, got {type(value).__name__}")
        vals = list(value)
        if len(vals) != self.dimension:
            raise MarshalError(
                f"Invalid vector literal for {self.cql_name()}: expected {self.dimension} elements, got {len(vals)}"
            )
        size = self.fixed_size()
        out = bytearray()
        for v in vals:
            if v is None:
                raise MarshalError("null is not supported inside vectors")
            b = self.element.serialize(v)
            if size is None:
                _write_unsigned_vint(len(b), out)
            out += b
        return bytes(out)

    def _split(self, data: bytes) -> list[bytes]:
        size = self.fixed_size()
        n = self.dimension
        if size is not None:
            if len(data) != size * n:
                raise MarshalError(f"Expected {size * n} bytes for a vector of type {self.cql_name()}, got {len(data)}")
            return [data[i * size : (i + 1) * size] for i in range(n)]
        parts, pos = [], 0
        for _ in range(n):
            if pos >= len(data):
                raise MarshalError(f"Not enough bytes to read a vector of type {self.cql_name()}")
            length, pos = _read_unsigned_vint(data, pos)
            if pos + length > len(data):
                raise MarshalError(f"Not enough bytes to read a vector of type {self.cql_name()}")
            parts.append(data[pos : pos + length])
            pos += length
        if pos != len(data):
            raise MarshalError("Unexpected extraneous bytes after vector value")
        return parts

    def deserialize(self, data: bytes) -> Any:
        if not data:
            return None
        de = self.element.deserialize
        return [de(p) for p in self._split(bytes(data))]

    def comparable(self, data: bytes) -> bytes:
        if not data:
            return _EMPTY_KEY
        comp = self.element.comparable
        out = bytearray(b"\x01")
        for p in self._split(bytes(data)):
            out += b"\x01"
            out += comp(p)
        out += b"\x00"
        return bytes(out)


# ---------------------------------------------------------------- singletons

ASCII = _NATIVE_REGISTRY["ascii"]
BIGINT = _NATIVE_REGISTRY["bigint"]
BLOB = _NATIVE_REGISTRY["blob"]
BOOLEAN = _NATIVE_REGISTRY["boolean"]
COUNTER = _NATIVE_REGISTRY["counter"]
DATE = _NATIVE_REGISTRY["date"]
DECIMAL = _NATIVE_REGISTRY["decimal"]
DOUBLE = _NATIVE_REGISTRY["double"]
DURATION = _NATIVE_REGISTRY["duration"]
FLOAT = _NATIVE_REGISTRY["float"]
INET = _NATIVE_REGISTRY["inet"]
INT = _NATIVE_REGISTRY["int"]
SMALLINT = _NATIVE_REGISTRY["smallint"]
TEXT = _NATIVE_REGISTRY["text"]
TIME = _NATIVE_REGISTRY["time"]
TIMESTAMP = _NATIVE_REGISTRY["timestamp"]
TIMEUUID = _NATIVE_REGISTRY["timeuuid"]
TINYINT = _NATIVE_REGISTRY["tinyint"]
UUID = _NATIVE_REGISTRY["uuid"]
VARINT = _NATIVE_REGISTRY["varint"]


def custom_type(class_name: str) -> CqlType:
    """The type for a quoted custom class name; only DurationType is understood, others are opaque blobs."""
    cls = class_name.strip()
    if "." not in cls:
        cls = _MARSHAL_PKG + cls
    if cls == DURATION_CLASS:
        return DURATION
    return CustomType(cls)


# ---------------------------------------------------------------- type strings and type refs


class _Ref:
    __slots__ = ("name", "args", "keyspace", "custom")

    def __init__(self, name: str, args: tuple = (), keyspace: str | None = None, custom: str | None = None) -> None:
        self.name = name
        self.args = args
        self.keyspace = keyspace
        self.custom = custom


_TOKEN_RE = re.compile(r"""\s*(?:(<|>|,)|"((?:[^"]|"")*)"|'((?:[^']|'')*)'|([A-Za-z0-9_.$]+))""")


def _tokenize(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise ValueError(f"Invalid type string: {text}")
        pos = m.end()
        if m.group(1):
            out.append(("p", m.group(1)))
        elif m.group(2) is not None:
            out.append(("q", m.group(2).replace('""', '"')))
        elif m.group(3) is not None:
            out.append(("s", m.group(3).replace("''", "'")))
        else:
            out.append(("i", m.group(4)))
    return out


def _parse_ref(text: str) -> _Ref:
    toks = _tokenize(text)
    pos = 0

    def parse() -> _Ref:
        nonlocal pos
        if pos >= len(toks):
            raise ValueError(f"Invalid type string: {text}")
        kind, val = toks[pos]
        pos += 1
        if kind == "s":
            return _Ref("custom", custom=val)
        if kind == "p":
            raise ValueError(f"Invalid type string: {text}")
        keyspace = None
        if kind == "i":
            if val.endswith(".") and pos < len(toks) and toks[pos][0] == "q":
                keyspace, val = val[:-1].lower(), toks[pos][1]
                pos += 1
            elif "." in val:
                ks, _, nm = val.partition(".")
                keyspace, val = ks.lower(), nm.lower()
            else:
                val = val.lower()
        elif pos + 1 < len(toks) and toks[pos] == ("i", ".") and toks[pos + 1][0] in "qi":
            keyspace = val
            val = toks[pos + 1][1] if toks[pos + 1][0] == "q" else toks[pos + 1][1].lower()
            pos += 2
        args: list[_Ref] = []
        if pos < len(toks) and toks[pos] == ("p", "<"):
            pos += 1
            while True:
                args.append(parse())
                if pos >= len(toks):
                    raise ValueError(f"Invalid type string: {text}")
                if toks[pos] == ("p", ","):
                    pos += 1
                    continue
                if toks[pos] == ("p", ">"):
                    pos += 1
                    break
                raise ValueError(f"Invalid type string: {text}")
        return _Ref(val, tuple(args), keyspace)

    ref = parse()
    if pos != len(toks):
        raise ValueError(f"Invalid type string: {text}")
    return ref


def parse_type_string(
    text: str, udt_lookup: Callable[[str, str], UserType | None] | None = None, keyspace: str = ""
) -> CqlType:
    """Parse a type as Cassandra writes it in system_schema (or as a user writes it) into a CqlType."""
    return type_from_ref(_parse_ref(text), udt_lookup, keyspace)


_COLLECTIONS = ("list", "set", "map")


def ref_text(ref: Any) -> str:
    """Render a type reference the way Cassandra's CQL3Type.Raw.toString does (as written)."""
    if ref.name == "custom" or (ref.custom and not ref.args):
        return "'" + (ref.custom or "") + "'"
    name = ref.name
    if name in _COLLECTIONS or name in ("frozen", "tuple"):
        return f"{name}<" + ", ".join(ref_text(a) for a in ref.args) + ">"
    if name == "vector" and len(ref.args) == 2:
        return f"vector<{ref_text(ref.args[0])}, {ref.args[1].name}>"
    if lookup_native(name) is not None and not ref.keyspace:
        return name
    n = maybe_quote(name)
    return f"{ref.keyspace}.{n}" if ref.keyspace else n


def _is_freezable(ref: Any) -> bool:
    name = ref.name
    if name in _COLLECTIONS or name in ("tuple", "frozen"):
        return True
    if name == "custom" or ref.custom:
        return False
    return lookup_native(name) is None or bool(ref.keyspace)


def _is_nonfrozen_freezable(ref: Any) -> bool:
    return ref.name != "frozen" and ref.name != "tuple" and _is_freezable(ref)


def type_from_ref(
    ref: Any,
    udt_lookup: Callable[[str, str], UserType | None] | None,
    keyspace: str,
    frozen: bool = False,
) -> CqlType:
    """Resolve a type reference (ast.TypeRef-like: .name, .args, .keyspace, .custom) with Cassandra's checks.

    Raises ValueError with Cassandra's InvalidRequest texts."""
    name = ref.name
    args = tuple(ref.args or ())
    if name == "custom" or (ref.custom and name not in _COLLECTIONS):
        return custom_type(ref.custom or "")
    if name == "frozen":
        if len(args) != 1:
            raise ValueError(f"Invalid type {ref_text(ref)}")
        inner = args[0]
        if not _is_freezable(inner):
            raise ValueError(
                f"frozen<> is only allowed on collections, tuples, and user-defined types (got {ref_text(inner)})"
            )
        return type_from_ref(inner, udt_lookup, keyspace, frozen=True)
    if name in _COLLECTIONS:
        want = 2 if name == "map" else 1
        if len(args) != want:
            raise ValueError(f"Invalid collection type {ref_text(ref)}")
        text = ref_text(ref)
        if not frozen:
            for a in args:
                if _is_nonfrozen_freezable(a):
                    if a.name in _COLLECTIONS:
                        raise ValueError(f"Non-frozen collections are not allowed inside collections: {text}")
                    raise ValueError(f"Non-frozen UDTs are not allowed inside collections: {text}")
        for a in args:
            if a.name == "counter" and not a.keyspace:
                raise ValueError(f"Counters are not allowed inside collections: {text}")
        sub = [type_from_ref(a, udt_lookup, keyspace, frozen=True) for a in args]
        if name == "set" and sub[0] == DURATION:
            raise ValueError(f"Durations are not allowed inside sets: {text}")
        if name == "map" and sub[0] == DURATION:
            raise ValueError(f"Durations are not allowed as map keys: {text}")
        if name == "list":
            return ListType(sub[0], frozen)
        if name == "set":
            return SetType(sub[0], frozen)
        return MapType(sub[0], sub[1], frozen)
    if name == "vector" and len(args) == 2 and not ref.keyspace:
        dimension = int(args[1].name)
        element = args[0]
        if element.name == "counter" and not element.keyspace:
            raise ValueError("vectors may not contain counters")
        return VectorType(type_from_ref(element, udt_lookup, keyspace, frozen=True), dimension)
    if name == "tuple":
        if not args:
            raise ValueError("Invalid tuple type tuple<>")
        for a in args:
            if a.name == "counter" and not a.keyspace:
                raise ValueError("Counters are not allowed inside tuples")
        return TupleType(type_from_ref(a, udt_lookup, keyspace, frozen=True) for a in args)
    if not ref.keyspace:
        native = lookup_native(name)
        if native is not None:
            if args:
                raise ValueError(f"Invalid type {ref_text(ref)}")
            return native
    # a user type
    ks = ref.keyspace or keyspace
    if ref.keyspace and keyspace and ref.keyspace != keyspace:
        raise ValueError(
            f"Statement on keyspace {keyspace} cannot refer to a user type in keyspace {ref.keyspace}; "
            "user types can only be used in the keyspace they are defined in"
        )
    found = udt_lookup(ks, name) if udt_lookup is not None else None
    if found is None:
        raise ValueError(f"Unknown type {ks}.{maybe_quote(name)}")
    return found.frozen() if frozen else found.unfrozen()


# ---------------------------------------------------------------- date/time text forms

_EPOCH_DATE = datetime.date(1970, 1, 1)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _datetime_to_ms(value: datetime.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _split_ms(ms: int) -> tuple[datetime.datetime, int]:
    secs, millis = divmod(ms, 1000)
    days, rem = divmod(secs, 86400)
    # python datetimes stop at year 9999; fall back to proleptic arithmetic with ordinal dates
    return _EPOCH + datetime.timedelta(days=days, seconds=rem), millis


def format_timestamp(ms: int, json_style: bool = False) -> str:
    """'2024-01-01 00:00:00.000000+0000' (literal style) or '2024-01-01 00:00:00.000Z' (JSON style)."""
    try:
        dt, millis = _split_ms(ms)
    except OverflowError:
        return str(ms)
    base = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if json_style:
        return f"{base}.{millis:03d}Z"
    return f"{base}.{millis * 1000:06d}+0000"


def format_date(days: int) -> str:
    try:
        d = _EPOCH_DATE + datetime.timedelta(days=days)
    except OverflowError:
        return str(days + 2**31)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def format_time(ns: int) -> str:
    s, frac = divmod(ns, NANOS_PER_SECOND)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{frac:09d}"


def has_duration(t: CqlType) -> bool:
    """Whether `t` is a duration or holds one (in a collection, tuple or user type)."""
    if t.cql_name() == "duration":
        return True
    if isinstance(t, MapType):
        inner = [t.key, t.value]
    elif isinstance(t, TupleType):  # user types included
        inner = list(t.types)
    else:
        inner = [t.element] if getattr(t, "element", None) is not None else []
    return any(has_duration(s) for s in inner)


def format_duration(d: Duration) -> str:
    """Cassandra's Duration.toString (e.g. '1y2mo3d4h5m6s7ms8us9ns'); zero is rendered '0s'."""
    months, days, nanos = d
    if months == 0 and days == 0 and nanos == 0:
        return "0s"
    out = ["-"] if (months < 0 or days < 0 or nanos < 0) else []

    def app(dividend: int, divisor: int, unit: str) -> int:
        if dividend == 0 or dividend < divisor:
            return dividend
        out.append(f"{dividend // divisor}{unit}")
        return dividend % divisor

    rem = app(abs(months), 12, "y")
    app(rem, 1, "mo")
    app(abs(days), 1, "d")
    if nanos:
        rem = app(abs(nanos), NANOS_PER_HOUR, "h")
        rem = app(rem, NANOS_PER_MINUTE, "m")
        rem = app(rem, NANOS_PER_SECOND, "s")
        rem = app(rem, NANOS_PER_MILLI, "ms")
        rem = app(rem, NANOS_PER_MICRO, "us")
        app(rem, 1, "ns")
    return "".join(out)


_TS_RE = re.compile(
    r"(?P<y>[+-]?\d{4,})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[ T](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?)?"
    r"\s*(?P<z>Z|z|[+-]\d{2}(?::?\d{2})?|UTC|GMT|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?)?\Z"
)


def _zone_offset_minutes(z: str | None) -> int:
    if not z or z in ("Z", "z", "UTC", "GMT"):
        return 0
    if z.startswith(("UTC", "GMT")):
        z = z[3:]
    sign = -1 if z[0] == "-" else 1
    body = z[1:].replace(":", "")
    hours = int(body[:-2] if len(body) > 2 else body)
    minutes = int(body[-2:]) if len(body) > 2 else 0
    return sign * (hours * 60 + minutes)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _valid_ymd(y: int, m: int, d: int) -> bool:
    if not 1 <= m <= 12 or d < 1:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    mdays = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    return d <= mdays


def parse_timestamp(text: str) -> int:
    """Milliseconds since the epoch for a timestamp string (Cassandra's TimestampSerializer formats; UTC default)."""
    src = text.strip()
    if re.fullmatch(r"-?\d+", src):
        try:
            v = int(src)
        except ValueError:  # pragma: no cover
            v = 2**64
        if not -(2**63) <= v < 2**63:
            raise MarshalError(f"Unable to make long (for date) from: '{text}'")
        return v
    m = _TS_RE.match(src)
    if not m:
        raise MarshalError(f"Unable to parse a date/time from '{text}'")
    y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
    h = int(m["h"] or 0)
    mi = int(m["mi"] or 0)
    s = int(m["s"] or 0)
    if not _valid_ymd(y, mo, d) or h > 23 or mi > 59 or s > 59:
        raise MarshalError(f"Unable to parse a date/time from '{text}'")
    frac = (m["f"] or "").ljust(9, "0")
    ms = int(frac[:3]) if frac else 0
    days = _days_from_civil(y, mo, d)
    total = ((days * 24 + h) * 60 + mi) * 60 + s
    total -= _zone_offset_minutes(m["z"]) * 60
    return total * 1000 + ms


def parse_date(text: str) -> int:
    """Days since the epoch (signed) for a date string; a bare number is the raw uint32 (2**31 = epoch)."""
    src = text.strip()
    if re.fullmatch(r"-?\d+", src):
        v = int(src)
        if not 0 <= v <= 2**32 - 1:
            raise MarshalError(f"Unable to make unsigned int (for date) from: '{text}'")
        return v - 2**31
    m = re.fullmatch(r"([+-]?\d{4,})-(\d{2})-(\d{2})", src)
    if not m or not _valid_ymd(int(m[1]), int(m[2]), int(m[3])):
        raise MarshalError(f"Unable to coerce '{text}' to a formatted date (long)")
    days = _days_from_civil(int(m[1]), int(m[2]), int(m[3]))
    if not -(2**31) <= days < 2**31:
        raise MarshalError(f"Unable to coerce '{text}' to a formatted date (long)")
    return days


def parse_time(text: str) -> int:
    """Nanoseconds since midnight for 'hh:mm:ss[.fffffffff]' or a bare number of nanoseconds."""
    src = text.strip()
    if re.fullmatch(r"-?\d+", src):
        v = int(src)
        if not 0 <= v < NANOS_PER_DAY:
            raise MarshalError(f"Unable to make long (for time) from: '{text}'")
        return v
    m = re.fullmatch(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?", src)
    if not m:
        raise MarshalError(f"(TimeType) Unable to coerce '{text}' to a formatted time (long)")
    h, mi, s = int(m[1]), int(m[2]), int(m[3])
    if h > 23 or mi > 59 or s > 59:
        raise MarshalError(f"(TimeType) Unable to coerce '{text}' to a formatted time (long)")
    frac = int((m[4] or "").ljust(9, "0") or 0)
    return ((h * 60 + mi) * 60 + s) * NANOS_PER_SECOND + frac


_DUR_UNITS = {
    "y": (12, 0, 0),
    "mo": (1, 0, 0),
    "w": (0, 7, 0),
    "d": (0, 1, 0),
    "h": (0, 0, NANOS_PER_HOUR),
    "m": (0, 0, NANOS_PER_MINUTE),
    "s": (0, 0, NANOS_PER_SECOND),
    "ms": (0, 0, NANOS_PER_MILLI),
    "us": (0, 0, NANOS_PER_MICRO),
    "µs": (0, 0, NANOS_PER_MICRO),
    "ns": (0, 0, 1),
}
_DUR_STD_RE = re.compile(r"(\d+)(y|mo|w|d|h|s|ms|us|µs|ns|m)", re.IGNORECASE)
# ISO 8601 forms are case-sensitive in Cassandra (Duration.java); the unit form is not.
_DUR_ISO_RE = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?\Z")
_DUR_ISO_WEEK_RE = re.compile(r"P(\d+)W\Z")
_DUR_ISO_ALT_RE = re.compile(r"P(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\Z")
_DUR_UNIT_INDEX = {"y": 1, "mo": 2, "w": 3, "d": 4, "h": 5, "m": 6, "s": 7, "ms": 8, "us": 9, "µs": 9, "ns": 10}
_DUR_UNIT_NAMES = (
    "",
    "years",
    "months",
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "microseconds",
    "nanoseconds",
)


def parse_duration(text: str) -> Duration:
    """Cassandra's Duration.from: '1h30m', '-2d', 'P1Y2M3DT4H5M6S', 'P2W', 'P0001-02-03T04:05:06'."""
    src = text.strip()
    neg = src.startswith("-")
    body = src[1:] if neg else src
    months = days = nanos = 0
    err = MarshalError(f"Unable to convert '{text}' to a duration")
    if body[:1] == "P":
        m = _DUR_ISO_RE.match(body)
        if m and body not in ("P", "PT") and not body.endswith("T"):
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            months, days = y * 12 + mo, d
            nanos = h * NANOS_PER_HOUR + mi * NANOS_PER_MINUTE + s * NANOS_PER_SECOND
        elif m2 := _DUR_ISO_WEEK_RE.match(body):
            days = int(m2[1]) * 7
        elif m3 := _DUR_ISO_ALT_RE.match(body):
            y, mo, d, h, mi, s = (int(g) for g in m3.groups())
            months, days = y * 12 + mo, d
            nanos = h * NANOS_PER_HOUR + mi * NANOS_PER_MINUTE + s * NANOS_PER_SECOND
        else:
            raise err
    else:
        pos = 0
        if not body:
            raise err
        current = 0
        for m in _DUR_STD_RE.finditer(body):
            if m.start() != pos:
                raise err
            unit = m[2].lower()
            index = _DUR_UNIT_INDEX[unit]
            if index == current:
                raise MarshalError(f"Invalid duration. The {_DUR_UNIT_NAMES[index]} are specified multiple times")
            if index < current:
                raise MarshalError(
                    f"Invalid duration. The {_DUR_UNIT_NAMES[current]} should be after {_DUR_UNIT_NAMES[index]}"
                )
            current = index
            mul = _DUR_UNITS[unit]
            n = int(m[1])
            months += n * mul[0]
            days += n * mul[1]
            nanos += n * mul[2]
            pos = m.end()
        if pos != len(body):
            raise err
    if neg:
        months, days, nanos = -months, -days, -nanos
    if not (-(2**31) <= months < 2**31 and -(2**31) <= days < 2**31 and -(2**63) <= nanos < 2**63):
        raise MarshalError(f"Invalid duration. The total duration is out of range: '{text}'")
    return Duration(months, days, nanos)


# ---------------------------------------------------------------- CQL literal rendering


def _float_text(v: float, single: bool = False) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if single:
        # shortest repr that round-trips through float32
        for digits in range(1, 10):
            s = f"{v:.{digits}g}"
            if _FLOAT.unpack(_FLOAT.pack(float(s)))[0] == v:
                v = float(s)
                break
    r = repr(float(v))
    if "e" in r or "E" in r:
        mant, _, exp = r.partition("e")
        if "." not in mant:
            mant += ".0"
        return f"{mant}E{int(exp)}"
    return r


def _quote_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def value_to_cql_literal(value: Any, t: CqlType) -> str:
    """Render a python value as CQL literal text (for DESCRIBE, defaults, ...)."""
    if value is None:
        return "null"
    if isinstance(t, UserType):
        vals = tuple(value.get(n) for n in t.field_names) if isinstance(value, dict) else tuple(value)
        items = [
            f"{maybe_quote(n)}: {value_to_cql_literal(v, ft)}"
            for n, ft, v in zip(t.field_names, t.types, vals, strict=False)
        ]
        return "{" + ", ".join(items) + "}"
    if isinstance(t, TupleType):
        return "(" + ", ".join(value_to_cql_literal(v, ct) for ct, v in zip(t.types, tuple(value), strict=False)) + ")"
    if isinstance(t, MapType):
        items = value.items() if isinstance(value, dict) else value
        return (
            "{"
            + ", ".join(f"{value_to_cql_literal(k, t.key)}: {value_to_cql_literal(v, t.value)}" for k, v in items)
            + "}"
        )
    if isinstance(t, SetType):
        return "{" + ", ".join(value_to_cql_literal(v, t.element) for v in value) + "}"
    if isinstance(t, ListType):
        return "[" + ", ".join(value_to_cql_literal(v, t.element) for v in value) + "]"
    if isinstance(t, CustomType) or t is BLOB:
        return "0x" + bytes(value).hex()
    name = t.cql_name()
    if name in ("text", "ascii"):
        return _quote_str(value)
    if name == "boolean":
        return "true" if value else "false"
    if name in ("int", "bigint", "smallint", "tinyint", "varint", "counter"):
        return str(int(value))
    if name == "double":
        return _float_text(value)
    if name == "float":
        return _float_text(value, single=True)
    if name == "decimal":
        return _decimal_text(value)
    if name in ("uuid", "timeuuid"):
        return str(value)
    if name == "inet":
        return _quote_str(str(value))
    if name == "timestamp":
        return _quote_str(format_timestamp(value))
    if name == "date":
        return _quote_str(format_date(value))
    if name == "time":
        return _quote_str(format_time(value))
    if name == "duration":
        return format_duration(value)
    raise ValueError(f"Cannot render a value of type {name}")


def _decimal_text(d: decimal.Decimal) -> str:
    """BigDecimal.toString()."""
    return str(d).replace("e", "E")


# ---------------------------------------------------------------- JSON


def _json_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def value_to_json(value: Any, t: CqlType) -> str:
    """JSON text of a python value, as Cassandra's AbstractType.toJSONString writes it."""
    if value is None:
        return "null"
    if isinstance(t, UserType):
        vals = tuple(value)
        parts = []
        for n, ft, v in zip(t.field_names, t.types, vals + (None,) * (len(t.types) - len(vals)), strict=False):
            parts.append(f"{_json_str(maybe_quote(n))}: {value_to_json(v, ft)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(t, TupleType):
        return "[" + ", ".join(value_to_json(v, ct) for ct, v in zip(t.types, tuple(value), strict=False)) + "]"
    if isinstance(t, MapType):
        items = value.items() if isinstance(value, dict) else value
        parts = []
        for k, v in items:
            ks = value_to_json(k, t.key)
            if not ks.startswith('"'):
                ks = _json_str(ks)
            parts.append(f"{ks}: {value_to_json(v, t.value)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(t, ListType):
        return "[" + ", ".join(value_to_json(v, t.element) for v in value) + "]"
    if isinstance(t, CustomType) or t is BLOB:
        return '"0x' + bytes(value).hex() + '"'
    name = t.cql_name()
    if name in ("text", "ascii"):
        return _json_str(value)
    if name == "boolean":
        return "true" if value else "false"
    if name in ("int", "bigint", "smallint", "tinyint", "varint", "counter"):
        return str(int(value))
    if name == "double":
        return _float_text(value)
    if name == "float":
        return _float_text(value, single=True)
    if name == "decimal":
        return _decimal_text(value)
    if name in ("uuid", "timeuuid", "inet"):
        return '"' + str(value) + '"'
    if name == "timestamp":
        return '"' + format_timestamp(value, json_style=True) + '"'
    if name == "date":
        return '"' + format_date(value) + '"'
    if name == "time":
        return '"' + format_time(value) + '"'
    if name == "duration":
        return '"' + format_duration(value) + '"'
    raise ValueError(f"Cannot render a value of type {name}")


def _json_type_name(obj: Any) -> str:
    return type(obj).__name__


def json_to_value(obj: Any, t: CqlType) -> Any:
    """Python value of type `t` from a decoded JSON object (Cassandra's fromJSONObject). Raises MarshalError."""
    if obj is None:
        return None
    if isinstance(t, UserType):
        if not isinstance(obj, dict):
            raise MarshalError(f"Expected a map, but got a {_json_type_name(obj)}: {obj}")
        vals: list[Any] = [None] * len(t.field_names)
        for k, v in obj.items():
            fname = k[1:-1].replace('""', '"') if k.startswith('"') and k.endswith('"') and len(k) > 1 else k.lower()
            idx = t.field_index(fname)
            if idx < 0:
                raise MarshalError(f"Unknown field '{fname}' in value of user defined type {t.name}")
            vals[idx] = json_to_value(v, t.types[idx])
        return tuple(vals)
    if isinstance(t, TupleType):
        if not isinstance(obj, list):
            raise MarshalError(f"Expected a list representation of a tuple, but got a {_json_type_name(obj)}: {obj}")
        if len(obj) > len(t.types):
            raise MarshalError(f"Tuple contains extra items (expected {len(t.types)}): {obj}")
        return tuple(json_to_value(v, ct) for ct, v in zip(t.types, obj, strict=False)) + (None,) * (
            len(t.types) - len(obj)
        )
    if isinstance(t, MapType):
        if not isinstance(obj, dict):
            raise MarshalError(f"Expected a map, but got a {_json_type_name(obj)}: {obj}")
        out = {}
        for k, v in obj.items():
            if k is None or v is None:
                raise MarshalError("Invalid null value in map")
            kt = t.key
            if kt.cql_name() in ("text", "ascii"):
                kobj: Any = k
            else:
                try:
                    kobj = json.loads(k, parse_float=decimal.Decimal)
                except ValueError:
                    kobj = k
            key = json_to_value(kobj, kt)
            out[to_hashable(key)] = json_to_value(v, t.value)
        # order keys by CQL order
        return dict(sorted(out.items(), key=lambda kv: t.key.sort_key(kv[0])))
    if isinstance(t, ListType):
        if not isinstance(obj, list):
            raise MarshalError(f"Expected a list, but got a {_json_type_name(obj)}: {obj}")
        items = []
        for v in obj:
            if v is None:
                raise MarshalError(f"Invalid null element in {t.what}")
            items.append(json_to_value(v, t.element))
        if isinstance(t, SetType):
            return t.deserialize(t.serialize(items))
        return items
    if isinstance(t, CustomType) or t is BLOB:
        if not isinstance(obj, str):
            raise MarshalError(f"Expected a string representation of a blob, but got a {_json_type_name(obj)}: {obj}")
        if not obj.startswith("0x"):
            raise MarshalError(f"String representation of blob is missing 0x prefix: {obj}")
        try:
            return bytes.fromhex(obj[2:])
        except ValueError as e:
            raise MarshalError(f"Unable to make byte array from '{obj[2:]}'") from e
    name = t.cql_name()
    if name == "text":
        if not isinstance(obj, str):
            raise MarshalError(f"Expected a UTF-8 string, but got a {_json_type_name(obj)}: {obj}")
        return obj
    if name == "ascii":
        if not isinstance(obj, str):
            raise MarshalError(f"Expected an ascii string, but got a {_json_type_name(obj)}: {obj}")
        if not obj.isascii():
            raise MarshalError(f"Invalid ASCII character in string literal: {obj}")
        return obj
    if name == "boolean":
        if isinstance(obj, bool):
            return obj
        if isinstance(obj, str) and obj.lower() in ("true", "false"):
            return obj.lower() == "true"
        raise MarshalError(f"Expected a boolean value, but got a {_json_type_name(obj)}: {obj}")
    if name in ("int", "bigint", "smallint", "tinyint", "varint", "counter"):
        if isinstance(obj, bool):
            raise MarshalError(f"Expected an {name} value, but got a {_json_type_name(obj)}: {obj}")
        try:
            if isinstance(obj, str):
                v = int(obj.strip())
            elif isinstance(obj, int):
                v = obj
            elif isinstance(obj, (float, decimal.Decimal)) and obj == int(obj):
                v = int(obj)
            else:
                raise ValueError
        except (ValueError, OverflowError) as e:
            raise MarshalError(f"Unable to make {name} from '{obj}'") from e
        t.serialize(v)
        return v
    if name in ("float", "double"):
        if isinstance(obj, bool):
            raise MarshalError(f"Expected a {name} value, but got a {_json_type_name(obj)}: {obj}")
        try:
            v = float(obj)
        except (TypeError, ValueError) as e:
            raise MarshalError(f"Unable to make {name} from '{obj}'") from e
        return t.deserialize(t.serialize(v))
    if name == "decimal":
        if isinstance(obj, bool):
            raise MarshalError(f"Expected a decimal value, but got a {_json_type_name(obj)}: {obj}")
        try:
            return decimal.Decimal(
                str(obj) if isinstance(obj, (str, int)) else repr(obj) if isinstance(obj, float) else obj
            )
        except (decimal.InvalidOperation, TypeError, ValueError) as e:
            raise MarshalError(f"Unable to make BigDecimal from '{obj}'") from e
    if name in ("uuid", "timeuuid"):
        if not isinstance(obj, str):
            raise MarshalError(f"Expected a string representation of a uuid, but got a {_json_type_name(obj)}: {obj}")
        try:
            u = uuid.UUID(obj)
        except ValueError as e:
            raise MarshalError(f"Unable to make UUID from '{obj}'") from e
        t.serialize(u)
        return u
    if name == "inet":
        if not isinstance(obj, str):
            raise MarshalError(
                f"Expected a string representation of an inet value, but got a {_json_type_name(obj)}: {obj}"
            )
        try:
            return ipaddress.ip_address(obj)
        except ValueError as e:
            raise MarshalError(f"Unable to make inet address from '{obj}'") from e
    if name == "timestamp":
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj
        if isinstance(obj, str):
            return parse_timestamp(obj)
        raise MarshalError(
            f"Expected a long or a datestring representation of a timestamp value, but got a "
            f"{_json_type_name(obj)}: {obj}"
        )
    if name == "date":
        if isinstance(obj, int) and not isinstance(obj, bool):
            return parse_date(str(obj))
        if isinstance(obj, str):
            return parse_date(obj)
        raise MarshalError(f"Expected a string representation of a date value, but got a {_json_type_name(obj)}: {obj}")
    if name == "time":
        if isinstance(obj, int) and not isinstance(obj, bool):
            return parse_time(str(obj))
        if isinstance(obj, str):
            return parse_time(obj)
        raise MarshalError(f"Expected a string representation of a time value, but got a {_json_type_name(obj)}: {obj}")
    if name == "duration":
        if not isinstance(obj, str):
            raise MarshalError(
                f"Expected a string representation of a duration, but got a {_json_type_name(obj)}: {obj}"
            )
        return parse_duration(obj)
    raise MarshalError(f"Cannot convert JSON to type {name}")


def is_list(t: CqlType) -> bool:
    """A list type (SetType derives from ListType, so isinstance alone cannot tell them apart)."""
    return isinstance(t, ListType) and not isinstance(t, SetType)
