"""Conversion of CQL literal terms (cql_grammar.ast nodes) into python values of a given CqlType.

``literal_to_value(term, cqltype, column_name)`` follows Cassandra's Term.Raw.prepare: the term is first checked
for assignability to the receiver (Constants/Lists/Sets/Maps/Tuples/UserTypes.testAssignment) and then converted
with the type's ``fromString`` rules. Errors raise :class:`LiteralError` carrying Cassandra's InvalidRequest text.

Values follow the representation documented in ``storage.cqltypes``. A zero-length "empty" value (e.g. ``''`` for
a timestamp or inet) is returned as ``None``.

Bind markers and function calls are not literals: pass ``resolve`` (called as ``resolve(term, cqltype, name)``) to
handle them, otherwise a LiteralError is raised.
"""

from __future__ import annotations

import decimal
import ipaddress
import math
import struct
import uuid
from collections.abc import Callable
from typing import Any

from cql_grammar import ast
from storage import cqltypes as ct
from storage.cqltypes import CqlType, MarshalError

__all__ = ["LiteralError", "literal_to_value", "term_text", "is_assignable"]

Resolver = Callable[[Any, CqlType, str], Any]
UdtLookup = Callable[[str, str], "ct.UserType | None"]


class LiteralError(ValueError):
    """An invalid literal for its receiver (Cassandra's InvalidRequestException)."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


_CONSTANT_TYPE = {
    "string": "STRING",
    "int": "INTEGER",
    "float": "FLOAT",
    "bool": "BOOLEAN",
    "uuid": "UUID",
    "hex": "HEX",
    "duration": "DURATION",
}

# Constants.Literal.testAssignment: which native receivers accept each constant kind
_ASSIGNABLE = {
    "string": {"ascii", "text", "inet", "date", "time", "timestamp"},
    "int": {
        "bigint",
        "counter",
        "date",
        "decimal",
        "double",
        "duration",
        "float",
        "int",
        "smallint",
        "time",
        "timestamp",
        "tinyint",
        "varint",
    },
    "uuid": {"uuid", "timeuuid"},
    "float": {"decimal", "double", "float"},
    "bool": {"boolean"},
    "hex": {"blob"},
    "duration": {"duration"},
}

_FLOAT32 = struct.Struct(">f")


# ---------------------------------------------------------------- text of terms (for messages)


def _float_text(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(v)


def _raw_text(lit: ast.Literal) -> str:
    """The literal as written, without quotes (Constants.Literal.text)."""
    k, v = lit.kind, lit.value
    if k == "string" or k == "duration":
        return str(v)
    if k == "bool":
        return "true" if v else "false"
    if k == "float":
        return _float_text(v)
    if k == "hex":
        return "0x" + bytes(v).hex()
    if k == "null":
        return "NULL"
    return str(v)


def term_text(term: Any) -> str:
    """Term.Raw.getText(): the term as CQL text (strings quoted)."""
    if isinstance(term, ast.Literal):
        if term.kind == "string":
            return f"'{term.value}'"
        return _raw_text(term)
    if isinstance(term, ast.Negate):
        return "-" + term_text(term.term)
    if isinstance(term, ast.CollectionLiteral):
        if term.kind == "list":
            return "[" + ", ".join(term_text(t) for t in term.items) + "]"
        if term.kind == "set":
            return "{" + ", ".join(term_text(t) for t in term.items) + "}"
        return "{" + ", ".join(f"{term_text(k)}: {term_text(v)}" for k, v in term.items) + "}"
    if isinstance(term, ast.TupleLiteral):
        return "(" + ", ".join(term_text(t) for t in term.items) + ")"
    if isinstance(term, ast.UdtLiteral):
        return "{" + ", ".join(f"{ct.maybe_quote(n)}: {term_text(v)}" for n, v in term.fields) + "}"
    if isinstance(term, ast.TypeHint):
        return f"({ct.ref_text(term.type)}){term_text(term.term)}"
    if isinstance(term, ast.BindMarker):
        return "?" if term.name is None else f":{term.name}"
    if isinstance(term, ast.FunctionCall):
        return f"{term.name}(" + ", ".join(term_text(a) for a in term.args) + ")"
    return str(term)


# ---------------------------------------------------------------- assignability (shape only)


def _negated_literal(term: ast.Negate) -> ast.Literal | None:
    inner = term.term
    if isinstance(inner, ast.Literal) and inner.kind in ("int", "float"):
        return ast.Literal(inner.kind, -inner.value)
    if isinstance(inner, ast.Negate):
        lit = _negated_literal(inner)
        if lit is not None:
            return ast.Literal(lit.kind, -lit.value)
    return None


def _is_native(t: CqlType) -> bool:
    return isinstance(t, ct.NativeType)


def _value_compatible(receiver: CqlType, other: CqlType) -> bool:
    """AbstractType.isValueCompatibleWith, approximately."""
    if receiver == other or receiver.frozen() == other.frozen():
        return True
    r, o = receiver.cql_name(), other.cql_name()
    if r == "blob":
        return True
    if r == "text" and o == "ascii":
        return True
    if r == "varint" and o in ("int", "bigint", "smallint", "tinyint"):
        return True
    if {r, o} <= {"bigint", "timestamp"}:
        return True
    return False


def is_assignable(term: Any, t: CqlType, udt_lookup: UdtLookup | None = None, keyspace: str = "") -> bool:
    """testAssignment(...).isAssignable(): can `term` be assigned to a receiver of type `t` (shape check only)?"""
    if isinstance(term, ast.Negate):
        lit = _negated_literal(term)
        return lit is not None and is_assignable(lit, t)
    if isinstance(term, ast.Literal):
        if term.kind == "null":
            return not t.is_counter
        if t.is_collection or isinstance(t, (ct.TupleType, ct.VectorType)):
            return False
        if not _is_native(t):
            return True  # custom types: any constant
        name = t.cql_name()
        if term.kind == "string" and name == "ascii" and not str(term.value).isascii():
            return True  # weakly assignable; conversion fails later with Cassandra's ascii error
        return name in _ASSIGNABLE.get(term.kind, ())
    if isinstance(term, ast.CollectionLiteral):
        if term.kind == "list":
            if isinstance(t, ct.VectorType):
                return all(is_assignable(e, t.element, udt_lookup, keyspace) for e in term.items)
            return type(t) is ct.ListType and all(is_assignable(e, t.element, udt_lookup, keyspace) for e in term.items)
        if term.kind == "set":
            return isinstance(t, ct.SetType) and all(
                is_assignable(e, t.element, udt_lookup, keyspace) for e in term.items
            )
        if not term.items:
            return isinstance(t, (ct.MapType, ct.SetType))
        return isinstance(t, ct.MapType) and all(
            is_assignable(k, t.key, udt_lookup, keyspace) and is_assignable(v, t.value, udt_lookup, keyspace)
            for k, v in term.items
        )
    if isinstance(term, ast.TupleLiteral):
        if not isinstance(t, ct.TupleType) or len(term.items) > len(t.types):
            return False
        return all(is_assignable(e, et, udt_lookup, keyspace) for e, et in zip(term.items, t.types, strict=False))
    if isinstance(term, ast.UdtLiteral):
        if not isinstance(t, ct.UserType):
            return False
        for name, v in term.fields:
            idx = t.field_index(name)
            if idx < 0 or not is_assignable(v, t.types[idx], udt_lookup, keyspace):
                return False
        return True
    if isinstance(term, ast.TypeHint):
        try:
            hinted = ct.type_from_ref(term.type, udt_lookup, keyspace)
        except ValueError:
            return False
        return _value_compatible(t, hinted)
    # bind markers, function calls: decided by the caller
    return True


# ---------------------------------------------------------------- conversion


def literal_to_value(
    term: Any,
    cqltype: CqlType,
    column_name: str,
    *,
    udt_lookup: UdtLookup | None = None,
    keyspace: str = "",
    resolve: Resolver | None = None,
) -> Any:
    """The python value of `term` for a receiver `column_name` of type `cqltype`. Raises LiteralError."""
    return _Converter(udt_lookup, keyspace, resolve).convert(term, cqltype, column_name)


class _Converter:
    def __init__(self, udt_lookup: UdtLookup | None, keyspace: str, resolve: Resolver | None) -> None:
        self.udt_lookup = udt_lookup
        self.keyspace = keyspace
        self.resolve = resolve

    def assignable(self, term: Any, t: CqlType) -> bool:
        return is_assignable(term, t, self.udt_lookup, self.keyspace)

    def convert(self, term: Any, t: CqlType, name: str) -> Any:
        if isinstance(term, ast.Negate):
            lit = _negated_literal(term)
            if lit is None:
                if self.resolve is not None:
                    return self.resolve(term, t, name)
                raise LiteralError(f"Invalid value {term_text(term)} for {name}: not a constant")
            term = lit
        if isinstance(term, ast.Literal):
            return self.constant(term, t, name)
        if isinstance(term, ast.CollectionLiteral):
            if term.kind == "list":
                return self.list_literal(term, t, name)
            if term.kind == "set":
                return self.set_literal(term, t, name)
            return self.map_literal(term, t, name)
        if isinstance(term, ast.TupleLiteral):
            return self.tuple_literal(term, t, name)
        if isinstance(term, ast.UdtLiteral):
            return self.udt_literal(term, t, name)
        if isinstance(term, ast.TypeHint):
            return self.type_hint(term, t, name)
        if self.resolve is not None:
            return self.resolve(term, t, name)
        raise LiteralError(f"Cannot convert {term_text(term)} for {name}: not a literal")

    # -------------------------------------------------- constants

    def constant(self, lit: ast.Literal, t: CqlType, name: str) -> Any:
        if lit.kind == "null":
            if t.is_counter:
                raise LiteralError("Invalid null value for counter increment/decrement")
            return None
        if not is_assignable(lit, t):
            raise LiteralError(
                f'Invalid {_CONSTANT_TYPE.get(lit.kind, lit.kind.upper())} constant ({_raw_text(lit)}) for "{name}" '
                f"of type {t.cql_name()}"
            )
        try:
            return _parse_constant(lit, t)
        except MarshalError as e:
            raise LiteralError(str(e)) from None

    # -------------------------------------------------- collections

    def _elements(self, items: tuple, t: CqlType, name: str, what: str, spec: str) -> list[Any]:
        out = []
        for e in items:
            if not self.assignable(e, t):
                raise LiteralError(
                    f"Invalid {what} literal for {name}: value {term_text(e)} is not of type {t.cql_name()}"
                )
        for e in items:
            v = self.convert(e, t, spec)
            if v is None:
                raise LiteralError("null is not supported inside collections")
            out.append(v)
        return out

    def list_literal(self, term: ast.CollectionLiteral, t: CqlType, name: str) -> Any:
        if isinstance(t, ct.VectorType):
            if len(term.items) != t.dimension:
                raise LiteralError(
                    f"Invalid vector literal for {name} of type {t.cql_name()}; expected {t.dimension} elements,"
                    f" but given {len(term.items)}"
                )
            return self._elements(term.items, t.element, name, "vector", f"value({name})")
        if type(t) is not ct.ListType:
            raise LiteralError(f"Invalid list literal for {name} of type {t.cql_name()}")
        return self._elements(term.items, t.element, name, "list", f"value({name})")

    def set_literal(self, term: ast.CollectionLiteral, t: CqlType, name: str) -> Any:
        if not isinstance(t, ct.SetType):
            if isinstance(t, ct.MapType) and not term.items:
                return {}
            raise LiteralError(f"Invalid set literal for {name} of type {t.cql_name()}")
        values = self._elements(term.items, t.element, name, "set", f"value({name})")
        return _sorted_unique(values, t.element)

    def map_literal(self, term: ast.CollectionLiteral, t: CqlType, name: str) -> Any:
        if not isinstance(t, ct.MapType):
            if isinstance(t, ct.SetType) and not term.items:
                return []
            raise LiteralError(f"Invalid map literal for {name} of type {t.cql_name()}")
        for k, v in term.items:
            if not self.assignable(k, t.key):
                raise LiteralError(
                    f"Invalid map literal for {name}: key {term_text(k)} is not of type {t.key.cql_name()}"
                )
            if not self.assignable(v, t.value):
                raise LiteralError(
                    f"Invalid map literal for {name}: value {term_text(v)} is not of type {t.value.cql_name()}"
                )
        entries: list[tuple[Any, Any]] = []
        for k, v in term.items:
            kv = self.convert(k, t.key, f"key({name})")
            vv = self.convert(v, t.value, f"value({name})")
            if kv is None or vv is None:
                raise LiteralError("null is not supported inside collections")
            entries.append((kv, vv))
        keyed: dict[bytes, tuple[Any, Any]] = {}
        for kv, vv in entries:
            keyed[t.key.sort_key(kv)] = (ct.to_hashable(kv) if _needs_hashable(t.key) else kv, vv)
        return {k: v for _, (k, v) in sorted(keyed.items(), key=lambda e: e[0])}

    # -------------------------------------------------- tuples / UDTs

    def tuple_literal(self, term: ast.TupleLiteral, t: CqlType, name: str) -> Any:
        if not isinstance(t, ct.TupleType):
            raise LiteralError(f"Invalid tuple type literal for {name} of type {t.cql_name()}")
        n = len(t.types)
        if len(term.items) > n:
            raise LiteralError(
                f"Invalid tuple literal for {name}: too many elements. Type {t.cql_name()} expects {n} but got "
                f"{len(term.items)}"
            )
        for i, (e, et) in enumerate(zip(term.items, t.types, strict=False)):
            if not self.assignable(e, et):
                raise LiteralError(f"Invalid tuple literal for {name}: component {i} is not of type {et.cql_name()}")
        vals = [self.convert(e, et, f"{name}[{i}]") for i, (e, et) in enumerate(zip(term.items, t.types, strict=False))]
        vals.extend([None] * (n - len(vals)))
        return tuple(vals)

    def udt_literal(self, term: ast.UdtLiteral, t: CqlType, name: str) -> Any:
        if not isinstance(t, ct.UserType):
            raise LiteralError(f"Invalid user type literal for {name} of type {t.cql_name()}")
        given: dict[str, Any] = {}
        for fname, v in term.fields:
            if t.field_index(fname) < 0:
                raise LiteralError(f"Unknown field '{fname}' in value of user defined type {t.name}")
            given[fname] = v
        vals: list[Any] = []
        for fname, ftype in zip(t.field_names, t.types, strict=True):
            v = given.get(fname)
            if v is None:
                vals.append(None)
                continue
            if not self.assignable(v, ftype):
                raise LiteralError(
                    f"Invalid user type literal for {name}: field {ct.maybe_quote(fname)} is not of type "
                    f"{ftype.cql_name()}"
                )
            vals.append(self.convert(v, ftype, f"{name}.{fname}"))
        return tuple(vals)

    # -------------------------------------------------- casts

    def type_hint(self, term: ast.TypeHint, t: CqlType, name: str) -> Any:
        try:
            hinted = ct.type_from_ref(term.type, self.udt_lookup, self.keyspace)
        except ValueError as e:
            raise LiteralError(str(e)) from None
        if not self.assignable(term.term, hinted):
            raise LiteralError(f"Cannot cast value {term_text(term.term)} to type {ct.ref_text(term.type)}")
        if not _value_compatible(t, hinted):
            raise LiteralError(f"Cannot assign value {term_text(term)} to {name} of type {t.cql_name()}")
        return self.convert(term.term, t, name)


def _needs_hashable(t: CqlType) -> bool:
    return t.is_collection or isinstance(t, ct.TupleType)


def _sorted_unique(values: list[Any], t: CqlType) -> list[Any]:
    keyed: dict[bytes, Any] = {}
    for v in values:
        keyed.setdefault(t.sort_key(v), v)
    return [keyed[k] for k in sorted(keyed)]


# ---------------------------------------------------------------- fromString per type


def _int_range(text: str, v: int, bits: int, word: str) -> int:
    if not -(2 ** (bits - 1)) <= v < 2 ** (bits - 1):
        raise MarshalError(f"Unable to make {word} from '{text}'")
    return v


def _to_float32(v: float) -> float:
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(v))[0]
    except OverflowError:
        return math.copysign(math.inf, v)


def _parse_constant(lit: ast.Literal, t: CqlType) -> Any:
    kind, v = lit.kind, lit.value
    text = _raw_text(lit)
    if isinstance(t, ct.CustomType):
        if kind == "hex":
            return bytes(v)
        raise MarshalError(f"Unable to parse '{text}' for custom type {t.class_name}")
    if kind == "hex":
        return bytes(v)
    name = t.cql_name()
    if kind == "bool":
        return bool(v)
    if kind == "uuid":
        u = v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))
        if name == "timeuuid" and u.version != 1:
            raise MarshalError("TimeUUID supports only version 1 UUIDs")
        return u
    if kind == "duration":
        return ct.parse_duration(str(v))
    if kind == "int":
        iv = int(v)
        if name == "int":
            return _int_range(text, iv, 32, "int")
        if name in ("bigint", "counter"):
            return _int_range(text, iv, 64, "long")
        if name == "smallint":
            return _int_range(text, iv, 16, "short")
        if name == "tinyint":
            return _int_range(text, iv, 8, "byte")
        if name == "varint":
            return iv
        if name == "decimal":
            return decimal.Decimal(iv)
        if name == "double":
            return float(iv)
        if name == "float":
            return _to_float32(float(iv))
        if name == "timestamp":
            return ct.parse_timestamp(text)
        if name == "date":
            return ct.parse_date(text)
        if name == "time":
            return ct.parse_time(text)
        if name == "duration":
            return ct.parse_duration(text)
    if kind == "float":
        fv = float(v)
        if name == "double":
            return fv
        if name == "float":
            return _to_float32(fv)
        if name == "decimal":
            # From the digits as written: 1E+20000 is a decimal beyond any double (Cassandra's BigDecimal).
            written = getattr(lit, "text", None)
            exact = _decimal_or_none(written) if written else None
            if exact is None and not math.isfinite(fv):
                raise MarshalError(f"unable to make BigDecimal from '{text}'")
            return exact if exact is not None else decimal.Decimal(repr(fv))
    if kind == "string":
        s = str(v)
        if name == "text":
            return s
        if name == "ascii":
            if not s.isascii():
                raise MarshalError(
                    "Invalid ASCII character in string literal: "
                    "java.nio.charset.UnmappableCharacterException: Input length = 1"
                )
            return s
        if s == "" and name in ("timestamp", "inet", "date", "time"):
            return None  # Cassandra's empty value
        if name == "timestamp":
            if s.lower() == "now":
                import time

                return time.time_ns() // 1_000_000
            return ct.parse_timestamp(s)
        if name == "date":
            return ct.parse_date(s)
        if name == "time":
            return ct.parse_time(s)
        if name == "inet":
            try:
                return ipaddress.ip_address(s.strip())
            except ValueError:
                raise MarshalError(f"Unable to make inet address from '{s}'") from None
    raise MarshalError(f"Unable to convert '{text}' to {name}")


def _decimal_or_none(text: str) -> decimal.Decimal | None:
    try:
        d = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None
    return d if d.is_finite() else None
