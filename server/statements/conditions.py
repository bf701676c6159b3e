"""IF conditions: prepared against a column, bound to values, asked whether a row satisfies them."""

from __future__ import annotations

from cql_grammar import ast
from server.errors import InvalidRequest
from server.statements.tables import column_of
from server.statements.terms import BindContext, compile_term, split_list
from server.wire import UNSET
from storage import cqltypes
from storage.schema import CLUSTERING, PARTITION_KEY

SLICE_OPS = ("<", "<=", ">", ">=")


class Condition:
    def __init__(self, column, op: str, value_type, getters, element=None, field_index=None, in_marker=None):
        self.column = column
        self.op = op
        self.vtype = value_type
        self.getters = getters
        self.element = element
        self.field_index = field_index
        self.in_marker = in_marker

    @classmethod
    def prepare(cls, table, c: ast.Condition, ctx: BindContext) -> Condition:
        col = column_of(table, c.column)
        t = col.type
        if t.cql_name() == "counter":
            raise InvalidRequest("Conditions on counters are not supported")
        value_type = t
        element = None
        field_index = None
        name = col.name
        if c.element is not None:
            if cqltypes.is_list(t):
                element = compile_term(c.element, cqltypes.lookup_native("int"), f"idx({name})", ctx)
                value_type = t.element
            elif isinstance(t, cqltypes.MapType):
                element = compile_term(c.element, t.key, f"key({name})", ctx)
                value_type = t.value
            elif isinstance(t, cqltypes.SetType):
                raise InvalidRequest(f"Invalid element access syntax for set column {name}")
            else:
                raise InvalidRequest(f"Invalid element access syntax for non-collection column {name}")
            name = f"value({name})"
        elif c.field is not None:
            if not isinstance(t, cqltypes.UserType) or c.field not in t.field_names:
                raise InvalidRequest(f"Unknown field {c.field} for column {col.name}")
            field_index = t.field_names.index(c.field)
            value_type = t.field_types[field_index]
            name = f"{col.name}.{c.field}"
        op = c.op
        in_marker = None
        if op == "IN":
            if isinstance(c.value, ast.BindMarker):
                ctx.receive(c.value, f"in({name})", cqltypes.ListType(value_type))
                idx = c.value.index
                in_marker = lambda values, _i=idx: values[_i]  # noqa: E731
                getters = []
            else:
                getters = [compile_term(v, value_type, name, ctx) for v in c.value]
        elif op == "CONTAINS":
            if not t.is_collection:
                raise InvalidRequest(f"Cannot use CONTAINS on non-collection column {col.name}")
            et = t.value if isinstance(t, cqltypes.MapType) else t.element
            getters = [compile_term(c.value, et, name, ctx)]
        elif op == "CONTAINS KEY":
            if not isinstance(t, cqltypes.MapType):
                raise InvalidRequest(f"Cannot use CONTAINS KEY on non-map column {col.name}")
            getters = [compile_term(c.value, t.key, name, ctx)]
        else:
            getters = [compile_term(c.value, value_type, name, ctx)]
            if isinstance(c.value, ast.Literal) and c.value.kind == "null" and op not in ("=", "!="):
                raise InvalidRequest(f'Invalid comparison with null for operator "{op}"')
            if op in SLICE_OPS and "duration" in value_type.cql_name():
                raise InvalidRequest(f"Slice conditions ( {op} ) are not supported on durations")
        if col.kind in (PARTITION_KEY, CLUSTERING):
            raise InvalidRequest(f"PRIMARY KEY column '{col.name}' cannot have IF conditions")
        return cls(col, op, value_type, getters, element, field_index, in_marker)

    def applies_to(self, row: dict, values: list) -> bool:
        raw = row.get(self.column.name)
        t = self.column.type
        current = raw
        if self.element is not None:
            key = self.element(values)
            if key is None:
                kind = "list" if cqltypes.is_list(t) else "map"
                raise InvalidRequest(f"Invalid null value for {kind} element access")
            if key is UNSET:
                raise InvalidRequest("Invalid 'unset' value in condition")
            current = None
            if raw is not None:
                coll = t.deserialize(raw)
                if cqltypes.is_list(t):
                    i = int.from_bytes(key, "big", signed=True)
                    if i < 0:
                        raise InvalidRequest(f"Invalid negative list index {i}")
                    current = None if i >= len(coll) else self.vtype.serialize(coll[i])
                else:
                    v = coll.get(t.key.deserialize(key))
                    current = None if v is None else self.vtype.serialize(v)
        elif self.field_index is not None and raw is not None:
            fields = t.deserialize(raw)
            f = fields[self.field_index] if self.field_index < len(fields) else None
            current = None if f is None else self.vtype.serialize(f)
        op = self.op
        if op == "IN":
            if self.in_marker is not None:
                bound = self.in_marker(values)
                if bound is None:
                    raise InvalidRequest("Invalid null list in IN condition")
                if bound is UNSET:
                    raise InvalidRequest("Invalid 'unset' value in condition")
                candidates = split_list(bound, self.vtype)
            else:
                candidates = [g(values) for g in self.getters]
            return any(self._compare("=", current, v) for v in candidates if v is not UNSET)
        v = self.getters[0](values)
        if v is UNSET:
            raise InvalidRequest("Invalid 'unset' value in condition")
        if op in ("CONTAINS", "CONTAINS KEY"):
            if v is None:
                raise InvalidRequest(f'Invalid comparison with null for operator "{op}"')
            if current is None:
                return False
            coll = t.deserialize(current)
            if op == "CONTAINS KEY":
                return t.key.deserialize(v) in coll
            et = t.value if isinstance(t, cqltypes.MapType) else t.element
            items = coll.values() if isinstance(t, cqltypes.MapType) else coll
            return et.deserialize(v) in list(items)
        if v is None and op in SLICE_OPS:
            raise InvalidRequest(f'Invalid comparison with null for operator "{op}"')
        return self._compare(op, current, v)

    def _compare(self, op: str, current: bytes | None, v: bytes | None) -> bool:
        if v is None or current is None:
            if op == "=":
                return v is None and current is None
            if op == "!=":
                return (v is None) != (current is None)
            return False
        t = self.vtype
        c = t.compare(t.deserialize(current), t.deserialize(v))
        return {"=": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
