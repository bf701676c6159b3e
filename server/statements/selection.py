"""What a SELECT returns: the columns, functions and aggregates of its selector list, applied to live rows."""

from __future__ import annotations

import decimal
import json
import math
import struct
import uuid
from decimal import Decimal

from cql_grammar import ast
from server import messages as msg
from server.errors import InvalidRequest, SyntaxException
from server.statements import casts
from server.statements.tables import column_of
from server.statements.terms import ARITHMETIC_OPS, checked_blob, compile_term, operation_failed, timeuuid_ms
from server.wire import UNSET
from storage import cqltypes
from storage import token as tokens

_BIGINT = struct.Struct(">q")
_INT = struct.Struct(">i")
_DAY_MS = 86_400_000

AGGREGATES = ("count", "min", "max", "sum", "avg")


class Selector:
    """One output column: name, type, and how to compute it from a row (or fold rows, for aggregates)."""

    aggregate = False

    def __init__(self, name: str, type_, fn) -> None:
        self.name = name
        self.type = type_
        self.fn = fn

    def value(self, row) -> bytes | None:
        return self.fn(row)


class Aggregate(Selector):
    aggregate = True

    def __init__(self, name: str, type_, kind: str, arg: Selector | None) -> None:
        super().__init__(name, type_, None)
        self.kind = kind
        self.arg = arg

    def value(self, rows) -> bytes | None:  # inside a function of aggregates: the group's rows
        return self.fold(rows)

    def fold(self, rows: list) -> bytes | None:
        if self.kind == "count":
            if self.arg is None:
                return _BIGINT.pack(len(rows))
            return _BIGINT.pack(sum(1 for r in rows if self.arg.value(r) is not None))
        t = self.arg.type
        vals = [t.deserialize(v) for v in (self.arg.value(r) for r in rows) if v is not None]
        if self.kind in ("min", "max"):
            if not vals:
                return None
            import functools

            key = functools.cmp_to_key(t.compare)
            return t.serialize(min(vals, key=key) if self.kind == "min" else max(vals, key=key))
        total = sum(vals) if vals else 0
        if self.kind == "sum":
            return t.serialize(_wrap(t, total))
        if not vals:
            return t.serialize(_wrap(t, 0))
        if t.cql_name() in ("float", "double"):
            return t.serialize(total / len(vals))
        if t.cql_name() == "decimal":
            return t.serialize(Decimal(total) / len(vals))
        return t.serialize(_wrap(t, int(total / len(vals))))


def _wrap(t, n):
    bits = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64}.get(t.cql_name())
    if bits is None or not isinstance(n, int):
        return n
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >> (bits - 1) else n


class Selection:
    def __init__(self, table, selectors: list[Selector], json_: bool = False, group_by: list | None = None) -> None:
        self.table = table
        self.selectors = selectors
        self.is_aggregate = any(s.aggregate for s in selectors)
        self.json = json_
        self.group_by = group_by or []
        if self.is_aggregate and not all(s.aggregate for s in selectors) and not self.group_by:
            # Cassandra allows plain columns beside aggregates: they take the first row's value.
            pass
        if json_:
            self.specs = [msg.ColumnSpec(table.keyspace, table.name, "[json]", cqltypes.lookup_native("text").option())]
        else:
            self.specs = [msg.ColumnSpec(table.keyspace, table.name, s.name, s.type.option()) for s in selectors]

    @classmethod
    def prepare(cls, table, stmt: ast.Select, ctx) -> Selection:
        if stmt.selectors is None:
            sels = [column_selector(c) for c in table.star]
        else:
            sels = [build(table, s.expr, s.alias, ctx) for s in stmt.selectors]
        # GROUP BY is validated (and the group key columns set) by the statement, which knows the restrictions.
        group: list = []
        if stmt.distinct:
            for s in sels:
                if s.aggregate:
                    continue
                col = table.columns.get(s.name)
                if col is None or col.kind not in ("partition_key", "static"):
                    raise InvalidRequest(
                        f"SELECT DISTINCT queries must only request partition key columns and/or static columns (not {s.name})"
                    )
        self = cls(table, sels, stmt.json, group)
        self.distinct = stmt.distinct
        return self

    def bind(self, values: list) -> None:
        """Make the bound values visible to selectors with bind markers (c[?])."""
        _BOUND[0] = values

    # rows_out collects per-row results; aggregates collect LiveRows and fold at the end.
    def add(self, row, rows_out: list) -> None:
        if self.is_aggregate:
            rows_out.append(row)
            return
        if getattr(self, "distinct", False):
            key = tuple(row.values.get(c.name) for c in self.table.partition_key)
            if rows_out and getattr(self, "_last_key", None) == key:
                return
            self._last_key = key
        rows_out.append([s.value(row) for s in self.selectors])

    def count(self, rows_out: list) -> int:
        return len(rows_out)

    def finish(self, rows_out: list) -> list[list]:
        if self.is_aggregate:
            return self.finish_groups([rows_out])
        if self.json:
            return [[self._json(r)] for r in rows_out]
        return rows_out

    def finish_groups(self, groups: list[list]) -> list[list]:
        """One result row per group of LiveRows: aggregates fold the group, other selectors take its first row."""
        rows = [[s.fold(g) if s.aggregate else (s.value(g[0]) if g else None) for s in self.selectors] for g in groups]
        if self.json:
            return [[self._json(r)] for r in rows]
        return rows

    def _json(self, row: list) -> bytes:
        # value_to_json gives each value's JSON text; names that need quoting in CQL keep their quotes.
        parts = []
        for s, v in zip(self.selectors, row, strict=True):
            key = s.name if s.name == s.name.lower() else f'"{s.name}"'
            text = "null" if v is None else cqltypes.value_to_json(s.type.deserialize(v), s.type)
            parts.append(f"{json.dumps(key)}: {text}")
        return ("{" + ", ".join(parts) + "}").encode()


def column_selector(col) -> Selector:
    name = col.name
    return Selector(name, col.type, lambda row, _n=name: row.values.get(_n))


def build(table, expr, alias: str | None, ctx=None) -> Selector:
    s = _build(table, expr, ctx)
    if alias:
        s.name = alias
    return s


def _children(expr) -> list:
    """The sub-expressions of a selector expression (function arguments, operands, cast operand)."""
    out = []
    for name in getattr(expr, "__slots__", ()):
        v = getattr(expr, name, None)
        for item in v if isinstance(v, tuple | list) else (v,):
            if hasattr(item, "__slots__") and not isinstance(item, ast.TypeRef):
                out.append(item)
    return out


def _is_aggregate_call(expr) -> bool:
    return isinstance(expr, ast.FunctionCall) and expr.name.lower().rsplit(".", 1)[-1] in AGGREGATES


def _has_aggregate(expr) -> bool:
    return any(_is_aggregate_call(c) or _has_aggregate(c) for c in _children(expr))


def _bare_columns(expr) -> list:
    """Columns of `expr` outside any aggregate call."""
    if isinstance(expr, ast.ColumnRef):
        return [expr.name]
    if _is_aggregate_call(expr):
        return []
    return [name for c in _children(expr) for name in _bare_columns(c)]


def _over_aggregates(expr) -> bool:
    """Whether `expr` computes on the results of aggregates (toDate(max(t)), max(v) + 1). Its columns
    must then all be inside an aggregate, the only place where a column has one value per group."""
    if _is_aggregate_call(expr) or not _has_aggregate(expr):
        return False
    bare = _bare_columns(expr)
    if bare:
        raise InvalidRequest(f"Column {bare[0]} must be inside an aggregate function where the selector uses one")
    return True


class OverAggregates(Selector):
    """A function of aggregates' results, computed once per group over them (each aggregate it reads
    folds the group's rows when asked for its value)."""

    aggregate = True

    def fold(self, rows: list) -> bytes | None:
        return self.fn(rows)


def _build(table, expr, ctx=None) -> Selector:
    if _over_aggregates(expr):
        inner = _build_one(table, expr, ctx)
        return OverAggregates(inner.name, inner.type, inner.fn)
    return _build_one(table, expr, ctx)


def _build_one(table, expr, ctx=None) -> Selector:
    if isinstance(expr, ast.ColumnRef):
        return column_selector(column_of(table, expr.name))
    if isinstance(expr, ast.BinaryOp):
        return _arithmetic(table, expr, ctx)
    if isinstance(expr, ast.FunctionCall):
        return _function(table, expr, ctx)
    if isinstance(expr, ast.Cast):
        inner = _build(table, expr.expr, ctx)
        target = cqltypes.type_from_ref(expr.type, lambda ks, n: None, table.keyspace)
        src = inner.type
        if src == target:
            return inner  # Cassandra leaves out a cast to the operand's own type, name included
        casts.check(inner.name, src.cql_name(), target.cql_name())
        name = f"cast({inner.name} as {target.cql_name()})"
        if target.cql_name() in ("timestamp", "date"):  # Cassandra's casts here are toTimestamp and toDate
            call = ast.FunctionCall("to" + target.cql_name(), (expr.expr,))
            return Selector(name, target, _function(table, call, ctx).fn)

        def cast(row, _i=inner, _t=target, _s=src, _sn=src.cql_name(), _tn=target.cql_name()):
            raw = _i.value(row)
            if raw is None:
                return None
            v = _s.deserialize(raw)
            if v is None:
                return None
            out = casts.convert(v, _sn, _tn, _s)
            return out.encode() if isinstance(out, str) else _t.serialize(out)

        return Selector(name, target, cast)
    if isinstance(expr, ast.FieldRef):
        inner = _build(table, expr.expr, ctx)
        t = inner.type
        if not isinstance(t, cqltypes.UserType) or expr.field not in t.field_names:
            raise InvalidRequest(f"Invalid field selection: {inner.name} of type {t.cql_name()} is not a user type")
        i = t.field_names.index(expr.field)
        ft = t.field_types[i]

        def field(row, _i=inner, _t=t, _ft=ft, _k=i):
            raw = _i.value(row)
            if raw is None:
                return None
            vals = _t.deserialize(raw)
            v = vals[_k] if _k < len(vals) else None
            return None if v is None else _ft.serialize(v)

        return Selector(f"{inner.name}.{expr.field}", ft, field)
    if isinstance(expr, ast.ElementRef):
        return _element(table, expr, ctx)
    raise InvalidRequest(f"Unsupported selector {expr!r}")


# Bound values of the statement being executed, for selectors with bind markers (c[?]); set by
# Selection.bind() right before rows are selected, synchronously.
_BOUND: list = [[]]


def _element(table, expr: ast.ElementRef, ctx) -> Selector:
    """`c[key]`: the element of a set (the key itself, if present) or the value of a map at key. As in
    Cassandra 4, lists do not support element selection."""
    inner = _build(table, expr.expr, ctx)
    t = inner.type
    if not t.is_collection:
        raise InvalidRequest(f"Invalid element selection: {inner.name} is of type {t.cql_name()} is not a collection")
    if isinstance(t, cqltypes.MapType):
        key_t, out_t, per_item = t.key, t.value, 2
    elif isinstance(t, cqltypes.SetType):
        key_t, out_t, per_item = t.element, t.element, 1
    else:
        raise InvalidRequest(f"Element selection is only allowed on sets and maps, but {inner.name} is a list")
    key_text = _term_text(expr.key)
    getter = (
        compile_term(expr.key, key_t, f"{'key' if per_item == 2 else 'value'}({inner.name})", ctx)
        if ctx is not None
        else None
    )
    if getter is None:
        raise InvalidRequest(f"Unsupported selector {expr!r}")

    def element(row, _i=inner, _g=getter, _kt=key_t, _n=per_item):
        raw = _i.value(row)
        key = _g(_BOUND[0])
        if key is UNSET:
            raise InvalidRequest(f"Invalid unset value for element selection on {_i.name}")
        if raw is None or key is None:
            return None
        want = _kt.deserialize(key)
        parts = cqltypes._split_collection(raw, _n, "collection")
        for i in range(0, len(parts), _n):
            if parts[i] is not None and _kt.compare(_kt.deserialize(parts[i]), want) == 0:
                return parts[i + _n - 1]
        return None

    return Selector(f"{inner.name}[{key_text}]", out_t, element)


def _term_text(term) -> str:
    if isinstance(term, ast.BindMarker):
        return "?" if term.name is None else f":{term.name}"
    if isinstance(term, ast.Literal):
        if term.kind == "string":
            return "'" + str(term.value).replace("'", "''") + "'"
        return str(term.value).lower() if isinstance(term.value, bool) else str(term.value)
    return str(term)


NUMERIC = ("tinyint", "smallint", "int", "bigint", "varint", "float", "double", "decimal", "counter")
_DECIMAL128 = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)


def _operand(table, expr, ctx, other_type):
    if isinstance(expr, ast.Literal) or isinstance(expr, ast.Negate):
        from server.literals import literal_to_value

        t = other_type or cqltypes.lookup_native("int" if getattr(expr, "kind", "int") == "int" else "double")
        data = t.serialize(literal_to_value(expr, t, "arithmetic"))
        return Selector(str(getattr(expr, "value", "?")), t, lambda row, _d=data: _d)
    return _build(table, expr, ctx)


def _as_decimal(v, type_name: str):
    """An operand of a decimal operation as Cassandra widens it: a varint exactly, other numbers
    through their double value (BigDecimal.valueOf: an int 2 becomes 2.0)."""
    if isinstance(v, Decimal) or type_name == "varint":
        return Decimal(v)
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        raise InvalidRequest(f"the operation on {v} failed: infinite or NaN cannot be a decimal")
    return Decimal(repr(v))


def _arithmetic(table, expr: ast.BinaryOp, ctx) -> Selector:
    """`a + 1`, `a * b`, ... in a selection (Cassandra 4): computed in the wider operand's type."""
    left = None if isinstance(expr.left, (ast.Literal, ast.Negate)) else _build(table, expr.left, ctx)
    right = None if isinstance(expr.right, (ast.Literal, ast.Negate)) else _build(table, expr.right, ctx)
    for side, term in ((left, expr.right), (right, expr.left)):
        if side is not None and side.type.cql_name() not in NUMERIC:  # before a literal is read as its type
            built = right if side is left else left
            other = built.name if built is not None else _term_text(term)
            names = (side.name, other) if side is left else (other, side.name)
            raise InvalidRequest(f"the '{expr.op}' operation is not supported between {names[0]} and {names[1]}")
    if left is None and right is None:
        left = _operand(table, expr.left, ctx, None)
    left = left or _operand(table, expr.left, ctx, right.type)
    right = right or _operand(table, expr.right, ctx, left.type)
    for side in (left, right):
        if side.type.cql_name() not in NUMERIC:
            raise InvalidRequest(f"the '{expr.op}' operation is not supported between {left.name} and {right.name}")
    order = NUMERIC.index
    out_t = max(left.type, right.type, key=lambda t: order(t.cql_name()) if t.cql_name() != "counter" else 3)
    op = ARITHMETIC_OPS[expr.op]

    to_decimal = out_t.cql_name() == "decimal"

    def compute(row, _l=left, _r=right, _t=out_t):
        a, b = _l.value(row), _r.value(row)
        if a is None or b is None:
            return None
        x, y = _l.type.deserialize(a), _r.type.deserialize(b)
        if to_decimal:  # a decimal with a float or double: computed in decimal, as Cassandra does
            x, y = _as_decimal(x, _l.type.cql_name()), _as_decimal(y, _r.type.cql_name())
        try:
            if to_decimal:
                with decimal.localcontext(_DECIMAL128):
                    return _t.serialize(op(x, y))
            return _t.serialize(op(x, y))
        except ZeroDivisionError:  # decimal.DivisionByZero and DivisionUndefined among them
            raise operation_failed(expr.op, _l.type, _r.type) from None
        except decimal.InvalidOperation as e:
            if y == 0:  # 0 / 0 in decimal
                raise operation_failed(expr.op, _l.type, _r.type) from None
            raise InvalidRequest(f"the operation '{_l.name} {expr.op} {_r.name}' failed: {e!r}") from None

    return Selector(f"{left.name} {expr.op} {right.name}", out_t, compute)


def _function(table, call: ast.FunctionCall, ctx=None) -> Selector:
    name = call.name.lower()
    args = call.args
    if name != "count" and any(isinstance(a, ast.Star) for a in args):
        raise SyntaxException(f"no viable alternative at input '*' ({name}(*)...)")  # only count(*) parses
    if name in ("writetime", "ttl"):
        if len(args) != 1 or not isinstance(args[0], ast.ColumnRef):
            if len(args) == 1 and isinstance(args[0], (ast.FieldRef, ast.ElementRef)):
                _build(table, args[0], ctx)  # element/field selection errors name the column, as Cassandra's
            raise InvalidRequest(f"{name} requires exactly one column argument")
        col = column_of(table, args[0].name)
        if col.kind in ("partition_key", "clustering"):
            raise InvalidRequest(f"Cannot use selection function {name} on PRIMARY KEY part {col.name}")
        if col.type.is_collection and col.type.is_multicell:
            raise InvalidRequest(f"Cannot use selection function {name} on non-frozen collection {col.name}")
        if name == "writetime":
            return Selector(
                f"writetime({col.name})",
                cqltypes.lookup_native("bigint"),
                lambda row, _n=col.name: _BIGINT.pack(row.cells[_n][0]) if _n in row.cells else None,
            )

        def ttl(row, _n=col.name):
            cell = row.cells.get(_n)
            if cell is None or not cell[3]:
                return None
            import time

            return _INT.pack(max(0, cell[3] - int(time.time())))

        return Selector(f"ttl({col.name})", cqltypes.lookup_native("int"), ttl)
    if name == "count":
        if len(args) == 1 and (isinstance(args[0], ast.Star) or isinstance(args[0], ast.Literal)):
            return Aggregate("count", cqltypes.lookup_native("bigint"), "count", None)
        arg = _build(table, args[0], ctx)
        return Aggregate(f"system.count({arg.name})", cqltypes.lookup_native("bigint"), "count", arg)
    if name in ("min", "max", "sum", "avg"):
        if len(args) != 1:
            raise InvalidRequest(
                f"Invalid number of arguments in call to function system.{name}: 1 required but {len(args)} provided"
            )
        arg = _build(table, args[0], ctx)
        if name in ("sum", "avg") and arg.type.cql_name() not in (
            "tinyint",
            "smallint",
            "int",
            "bigint",
            "varint",
            "float",
            "double",
            "decimal",
            "counter",
        ):
            raise InvalidRequest(f"Invalid call to function {name}, none of its type signatures match")
        return Aggregate(f"system.{name}({arg.name})", arg.type, name, arg)
    if name == "token":
        pk = table.partition_key
        if len(args) != len(pk):
            raise InvalidRequest(
                f"Invalid number of arguments in call to function system.token: {len(pk)} required but "
                f"{len(args)} provided"
            )
        cols = []
        for i, (a, c) in enumerate(zip(args, pk, strict=True)):
            if not isinstance(a, ast.ColumnRef):
                raise InvalidRequest("Invalid arguments for token(): the partition key columns are required")
            col = column_of(table, a.name)
            if col.type != c.type:
                raise InvalidRequest(
                    f"Type error: {col.name} cannot be passed as argument {i} of function system.token of type "
                    f"{c.type.cql_name()}"
                )
            cols.append(col)
        if [c.name for c in cols] != [c.name for c in pk]:
            raise InvalidRequest("Invalid arguments for token(): the partition key columns are required")

        def token(row, _cols=tuple(c.name for c in cols)):
            parts = [row.values.get(n) for n in _cols]
            return _BIGINT.pack(tokens.murmur3_token(tokens.partition_key_bytes(parts)))

        return Selector(f"system.token({', '.join(c.name for c in cols)})", cqltypes.lookup_native("bigint"), token)
    if name in ("totimestamp", "dateof", "tounixtimestamp", "unixtimestampof", "todate"):
        arg = _build(table, args[0], ctx)
        out_t = cqltypes.lookup_native(
            {"tounixtimestamp": "bigint", "unixtimestampof": "bigint", "todate": "date"}.get(name, "timestamp")
        )

        def conv(row, _a=arg, _out=out_t, _n=name):
            raw = _a.value(row)
            if raw is None:
                return None
            v = _a.type.deserialize(raw)
            if isinstance(v, uuid.UUID):
                ms = timeuuid_ms(v)
            elif _a.type.cql_name() == "date":
                ms = int(v) * _DAY_MS  # a date is days since the epoch
            else:
                ms = int(v)
            if _n == "todate":
                return _out.serialize(ms // _DAY_MS)
            return _out.serialize(ms)

        return Selector(f"system.{name}({arg.name})", out_t, conv)
    if name.endswith("asblob") and len(args) == 1:
        arg = _build(table, args[0], ctx)
        return Selector(f"system.{name}({arg.name})", cqltypes.lookup_native("blob"), arg.fn)
    if name.startswith("blobas") and len(args) == 1:
        arg = _build(table, args[0], ctx)
        target = cqltypes.lookup_native(name[len("blobas") :])

        def from_blob(row, _a=arg, _t=target):
            raw = _a.value(row)
            return None if raw is None else checked_blob(raw, _t, name)

        return Selector(f"system.{name}({arg.name})", target, from_blob)
    if name == "tojson" and len(args) == 1:
        arg = _build(table, args[0], ctx)

        def tojson(row, _a=arg):
            raw = _a.value(row)
            return ("null" if raw is None else cqltypes.value_to_json(_a.type.deserialize(raw), _a.type)).encode()

        return Selector(f"system.tojson({arg.name})", cqltypes.lookup_native("text"), tojson)
    raise InvalidRequest(f"Unknown function '{call.name}'")
