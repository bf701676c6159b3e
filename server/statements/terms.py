"""Terms compiled against their receiver: a constant, a bind marker, or a function, each turned into a
getter `values -> bytes | None | UNSET` once at prepare time so that execution never looks at the AST."""

from __future__ import annotations

import decimal
import math
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cql_grammar import ast
from server.errors import FunctionFailure, InvalidRequest, SyntaxException
from server.literals import LiteralError, literal_to_value
from server.wire import UNSET
from storage import cqltypes
from storage.cqltypes import MarshalError

Getter = Callable[[list], Any]


@dataclass(slots=True)
class BindSpec:
    keyspace: str
    table: str
    name: str
    type: Any


class BindContext:
    """Collects the receiver of every bind marker while a statement is prepared."""

    def __init__(self, keyspace: str, table: str) -> None:
        self.keyspace = keyspace
        self.table = table
        self.specs: dict[int, BindSpec] = {}

    def receive(self, marker: ast.BindMarker, name: str, type_) -> None:
        self.specs[marker.index] = BindSpec(self.keyspace, self.table, marker.name or name, type_)

    def spec_list(self) -> list[BindSpec]:
        if not self.specs:
            return []
        n = max(self.specs) + 1
        missing = [i for i in range(n) if i not in self.specs]
        if missing:
            raise InvalidRequest("Bind markers are not supported in this position")
        return [self.specs[i] for i in range(n)]


def _timeuuid_now() -> uuid.UUID:
    return uuid.uuid1()


_MS = struct.Struct(">q")


def timeuuid_ms(u: uuid.UUID) -> int:
    """The instant of a version-1 uuid, in milliseconds since the Unix epoch."""
    return (u.time - 0x01B21DD213814000) // 10000


def compile_term(term, type_, name: str, ctx: BindContext) -> Getter:
    """Compile a term whose receiver is a column (or element) `name` of type `type_`."""
    if isinstance(term, (ast.ColumnRef, ast.BinaryOp)):
        column = _first_column(term)
        if column is not None:
            # Cassandra's grammar has no column names among terms: the same input is a syntax error there.
            raise SyntaxException(f"line 1:0 no viable alternative at input '{column}'")
        if isinstance(term, ast.BinaryOp):
            return _arithmetic(term, type_, name, ctx)
    if isinstance(term, ast.BindMarker):
        ctx.receive(term, name, type_)
        idx = term.index

        def get_marker(values: list, _i=idx, _t=type_, _n=name):
            try:
                v = values[_i]
            except IndexError:
                raise InvalidRequest(
                    f"There were {len(values)} markers(?) in CQL but {_i + 1} bound variables"
                ) from None
            if v is None or v is UNSET:
                return v
            try:
                _t.validate(v)
            except MarshalError as e:
                raise InvalidRequest(f"Exception while binding column {_n}: {e}") from None
            return v

        return get_marker
    if isinstance(term, ast.FunctionCall):
        return compile_function(term, type_, name, ctx)
    if isinstance(term, ast.Literal) and term.kind == "null":
        return lambda values: None
    if isinstance(term, (ast.CollectionLiteral, ast.TupleLiteral, ast.UdtLiteral)):
        leaves: dict[int, tuple] = {}
        _compile_leaves(term, type_, name, ctx, leaves)
        if leaves:
            return _composite_getter(term, type_, name, leaves)
    try:
        value = literal_to_value(term, type_, name)
    except LiteralError as e:
        raise InvalidRequest(str(e)) from None
    data = None if value is None else type_.serialize(value)
    return lambda values, _d=data: _d


def _compile_leaves(term, t, name: str, ctx: BindContext, out: dict) -> None:
    """Compile the bind markers and function calls nested in a collection, tuple or UDT literal."""
    if isinstance(term, (ast.BindMarker, ast.FunctionCall)):
        out[id(term)] = (compile_term(term, t, name, ctx), t)
    elif isinstance(term, ast.CollectionLiteral):
        if isinstance(t, cqltypes.MapType) and term.kind == "map":
            for k, v in term.items:
                _compile_leaves(k, t.key, f"key({name})", ctx, out)
                _compile_leaves(v, t.value, f"value({name})", ctx, out)
        elif isinstance(t, cqltypes.ListType) and term.kind in ("list", "set"):
            for e in term.items:
                _compile_leaves(e, t.element, f"value({name})", ctx, out)
    elif isinstance(term, ast.TupleLiteral) and isinstance(t, cqltypes.TupleType):
        for i, (e, et) in enumerate(zip(term.items, t.types, strict=False)):
            _compile_leaves(e, et, f"{name}[{i}]", ctx, out)
    elif isinstance(term, ast.UdtLiteral) and isinstance(t, cqltypes.UserType):
        for fname, v in term.fields:
            i = t.field_index(fname)
            if i >= 0:
                _compile_leaves(v, t.types[i], f"{name}.{fname}", ctx, out)


def _composite_getter(term, type_, name: str, leaves: dict) -> Getter:
    def get(values: list) -> bytes | None:
        def resolve(leaf, t, n):
            entry = leaves.get(id(leaf))
            if entry is None:
                raise LiteralError(f"Cannot convert {leaf} for {n}: not a literal")
            raw = entry[0](values)
            if raw is UNSET:
                raise InvalidRequest(f"Invalid unset value for {n}")
            return None if raw is None else entry[1].deserialize(raw)

        try:
            value = literal_to_value(term, type_, name, resolve=resolve)
            return None if value is None else type_.serialize(value)
        except (LiteralError, MarshalError) as e:
            raise InvalidRequest(str(e)) from None

    return get


def checked_blob(raw: bytes, target, fname: str) -> bytes:
    """blobAs<type>: the bytes, once they are a valid value of the type. Unchecked, a counter made of
    4 bytes reached the client, whose driver then dropped the connection."""
    try:
        target.validate(raw)
    except (MarshalError, ValueError, struct.error, UnicodeDecodeError):
        raise InvalidRequest(
            f"In call to function system.{fname}, value 0x{raw.hex()} is not a valid binary representation "
            f"for type {target.cql_name()}"
        ) from None
    return raw


def compile_function(call: ast.FunctionCall, type_, name: str, ctx: BindContext) -> Getter:
    fname = call.name.lower()
    tname = type_.cql_name()
    if fname in ("now", "currenttimeuuid"):
        _check_return(fname, "timeuuid", tname, name, ("timeuuid", "uuid"))
        return lambda values: _timeuuid_now().bytes
    if fname == "uuid":
        _check_return(fname, "uuid", tname, name, ("uuid",))
        return lambda values: uuid.uuid4().bytes
    if fname == "currenttimestamp":
        _check_return(fname, "timestamp", tname, name, ("timestamp",))
        return lambda values: _MS.pack(int(time.time() * 1000))
    if fname == "currentdate":
        _check_return(fname, "date", tname, name, ("date",))
        return lambda values: struct.pack(">I", (int(time.time()) // 86400 + (1 << 31)) & 0xFFFFFFFF)
    if fname == "currenttime":
        _check_return(fname, "time", tname, name, ("time",))
        return lambda values: _MS.pack(int(time.time() * 1e9) % (86400 * 10**9))
    if fname in ("totimestamp", "dateof") and len(call.args) == 1:
        inner = compile_term(call.args[0], cqltypes.lookup_native("timeuuid"), _arg_name(fname, 0), ctx)
        _check_return(fname, "timestamp", tname, name, ("timestamp",))
        return lambda values: _MS.pack(timeuuid_ms(uuid.UUID(bytes=inner(values))))
    if fname == "todate" and len(call.args) == 1:
        arg_t = _time_source(call.args[0])
        inner = compile_term(call.args[0], arg_t, _arg_name(fname, 0), ctx)
        _check_return(fname, "date", tname, name, ("date",))

        def to_date(values, _t=arg_t):
            raw = inner(values)
            if raw is None:
                return None
            ms = timeuuid_ms(uuid.UUID(bytes=raw)) if _t.cql_name() == "timeuuid" else _t.deserialize(raw)
            return struct.pack(">I", (ms // 86_400_000 + (1 << 31)) & 0xFFFFFFFF)

        return to_date
    if fname in ("mintimeuuid", "maxtimeuuid") and len(call.args) == 1:
        inner = compile_term(call.args[0], cqltypes.lookup_native("timestamp"), _arg_name(fname, 0), ctx)
        _check_return(fname, "timeuuid", tname, name, ("timeuuid",))
        # Cassandra's UUIDGen: the smallest / greatest clock sequence and node for that instant.
        low = 0x8080808080808080 if fname == "mintimeuuid" else 0x7F7F7F7F7F7F7F7F

        def bound(values, _low=low):
            raw = inner(values)
            if raw is None:
                return None
            t = int.from_bytes(raw, "big", signed=True) * 10_000 + 0x01B21DD213814000
            msb = ((t & 0xFFFFFFFF) << 32) | (((t >> 32) & 0xFFFF) << 16) | 0x1000 | ((t >> 48) & 0x0FFF)
            return struct.pack(">QQ", msb, _low)

        return bound
    if fname in ("tounixtimestamp", "unixtimestampof") and len(call.args) == 1:
        inner = compile_term(call.args[0], cqltypes.lookup_native("timeuuid"), _arg_name(fname, 0), ctx)
        _check_return(fname, "bigint", tname, name, ("bigint",))
        return lambda values: _MS.pack(timeuuid_ms(uuid.UUID(bytes=inner(values))))
    if fname.startswith("blobas") and len(call.args) == 1:
        inner = compile_term(call.args[0], cqltypes.lookup_native("blob"), _arg_name(fname, 0), ctx)
        target = cqltypes.lookup_native(fname[len("blobas") :])

        def from_blob(values, _g=inner, _t=target):
            raw = _g(values)
            return raw if raw is None or raw is UNSET else checked_blob(raw, _t, fname)

        return from_blob
    if fname.endswith("asblob") and len(call.args) == 1:
        source = cqltypes.lookup_native(fname[: -len("asblob")])
        return compile_term(call.args[0], source, _arg_name(fname, 0), ctx)
    if fname in ("count", "min", "max", "sum", "avg"):
        raise InvalidRequest("Aggregation function are not supported in the where clause")
    raise InvalidRequest(f"Unknown function {call.name} called")


def _time_source(term):
    """The argument type of toDate/toTimestamp: a timeuuid for now()-like calls and markers, else a timestamp."""
    if isinstance(term, ast.BindMarker) or (
        isinstance(term, ast.FunctionCall)
        and term.name.lower() in ("now", "currenttimeuuid", "mintimeuuid", "maxtimeuuid")
    ):
        return cqltypes.lookup_native("timeuuid")
    return cqltypes.lookup_native("timestamp")


def _arg_name(fname: str, i: int) -> str:
    # Cassandra's name for a function argument's bind marker: never a column's, so drivers do not
    # take it for a routing-key value.
    return f"arg{i}(system.{fname})"


def _check_return(fname: str, returns: str, receiver: str, name: str, ok: tuple[str, ...]) -> None:
    if receiver not in ok and receiver not in ("blob",):
        raise InvalidRequest(
            f"Type error: cannot assign result of function system.{fname} (type {returns}) to {name} (type {receiver})"
        )


_I32 = struct.Struct(">i")


def split_list(raw: bytes, element_type) -> list[bytes | None]:
    """The serialized elements of a serialized list bound to `IN ?`; unlike a list value, its
    elements may be null (`IF v IN ?` bound to [null] matches a null cell)."""
    try:
        (n,) = _I32.unpack_from(raw, 0)
        pos, out = 4, []
        for _ in range(n):
            (size,) = _I32.unpack_from(raw, pos)
            pos += 4
            if size < 0:
                out.append(None)
                continue
            element = raw[pos : pos + size]
            if len(element) != size:
                raise MarshalError("Not enough bytes to read a list element")
            element_type.validate(element)
            # Cassandra rebuilds IN lists through Java values: an empty element of a type whose empty
            # value means null (int, boolean, uuid, ...) becomes null; an empty text or blob stays empty.
            if not element and element_type.deserialize(element) is None:
                element = None
            out.append(element)
            pos += size
    except (struct.error, MarshalError) as e:
        raise InvalidRequest(f"Invalid list of values for IN: {e}") from None
    return out


def split_tuple(raw: bytes, tuple_type) -> list[bytes | None]:
    vals = tuple_type.deserialize(raw)
    return [None if v is None else t.serialize(v) for v, t in zip(vals, tuple_type.types, strict=False)]


def _first_column(term) -> str | None:
    if isinstance(term, ast.ColumnRef):
        return term.name
    if isinstance(term, ast.BinaryOp):
        return _first_column(term.left) or _first_column(term.right)
    return None


def _int_div(a: int, b: int) -> int:
    """Java's integer division: toward zero (Python's // floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _divide(a, b):
    if type(a) is int and type(b) is int:
        return _int_div(a, b)  # b == 0 raises: Cassandra's "division by zero" error
    if b == 0 and (isinstance(a, float) or isinstance(b, float)):  # IEEE 754, as Java: no error
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _remainder(a, b):
    if type(a) is int and type(b) is int:
        return a - b * _int_div(a, b)
    if isinstance(a, float) or isinstance(b, float):
        return math.nan if b == 0 else math.fmod(a, b)  # the dividend's sign, as Java's %
    if isinstance(a, decimal.Decimal) and b != 0 and a.is_finite() and b.is_finite():
        # Exact, whatever the quotient's digits (Decimal's % refuses a quotient beyond the precision).
        digits = max(decimal.getcontext().prec, a.adjusted() - b.adjusted() + len(b.as_tuple().digits) + 2)
        if digits <= 10_000:  # beyond, the division it takes is not worth doing: refused below
            with decimal.localcontext(decimal.Context(prec=digits)):
                return a % b
    return a % b


_OPERATION_FUNCTIONS = {"+": "_add", "-": "_substract", "*": "_multiply", "/": "_divide", "%": "_modulo"}


def operation_failed(op: str, left_type, right_type) -> FunctionFailure:
    """Cassandra's error for a division or remainder by zero of integers, varints or decimals (the
    message is Java's exception text; floating point divides by zero without an error)."""
    types = [left_type.cql_name(), right_type.cql_name()]
    exact = "varint" in types or "decimal" in types
    reason = "BigInteger divide by zero" if exact else "/ by zero"
    return FunctionFailure(
        f"the operation '{types[0]} {op} {types[1]}' failed: {reason}", "system", _OPERATION_FUNCTIONS[op], types
    )


# Integers divide toward zero and keep the dividend's sign in %, as in Java; floating point follows
# IEEE 754 (x / 0.0 is infinite); decimals use their own division.
ARITHMETIC_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _remainder,
}


def _arithmetic(term: ast.BinaryOp, type_, name: str, ctx: BindContext) -> Getter:
    """Arithmetic on constant and bound numeric terms, computed in the receiver's type (Cassandra 4)."""
    left = compile_term(term.left, type_, name, ctx)
    right = compile_term(term.right, type_, name, ctx)
    op = ARITHMETIC_OPS[term.op]

    def get(values, _t=type_):
        a, b = left(values), right(values)
        if a is None or b is None:
            return None
        try:
            return _t.serialize(op(_t.deserialize(a), _t.deserialize(b)))
        except ZeroDivisionError:
            raise operation_failed(term.op, _t, _t) from None
        except decimal.InvalidOperation as e:
            if _t.deserialize(b) == 0:  # 0 / 0 in decimal
                raise operation_failed(term.op, _t, _t) from None
            raise InvalidRequest(f"Invalid arithmetic operation for {name}: {e!r}") from None
        except (TypeError, ValueError, OverflowError) as e:
            raise InvalidRequest(f"Invalid arithmetic operation for {name}: {e}") from None

    return get
