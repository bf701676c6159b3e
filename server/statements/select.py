"""SELECT: restrictions compiled once into partitions to read, clustering slices and filters; a
selection turning live rows into result columns; paging that resumes exactly where it stopped."""

from __future__ import annotations

import operator
import struct
import time
from dataclasses import dataclass
from typing import Any

from cql_grammar import ast
from server import messages as msg
from server.dispatch import Result
from server.errors import InvalidRequest
from server.statements import paging
from server.statements.modification import KeyRestriction
from server.statements.reads import LiveRow, live_rows
from server.statements.selection import Selection
from server.statements.tables import (
    clustering_bytes,
    column_of,
    durations_refused,
    partition_key,
    product,
    resolve_table,
)
from server.statements.terms import BindContext, compile_term, split_tuple
from server.wire import UNSET
from storage import cqltypes
from storage.rows import in_bounds
from storage.schema import CLUSTERING, PARTITION_KEY, STATIC, Table

_BIGINT = struct.Struct(">q")

FILTERING_MSG = (
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. "
    "If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING"
)


def _null_value_message(column) -> str:
    """Cassandra's text for `WHERE col = null`: a counter's value is read as an increment there."""
    if column.type.cql_name() == "counter":
        return "Invalid null value for counter increment/decrement"
    return f"Invalid null value for column {column.name}"


@dataclass(slots=True)
class Filter:
    column: Any
    op: str
    getter: Any
    in_getters: list | None = None
    in_values: Any = None  # values -> list of serialized candidates (IN ? / key restriction IN)
    # Served by a secondary index: the index holds serialized values, so equality is byte equality
    # (two decimals of equal value but different scale are different index entries, as in Cassandra).
    exact: bool = False

    def matches(self, row: LiveRow, values: list) -> bool:
        raw = row.values.get(self.column.name)
        t = self.column.type
        if self.op == "IN":
            cands = self.in_values(values) if self.in_values is not None else [g(values) for g in self.in_getters]
            for c in cands:
                if c is UNSET:
                    raise InvalidRequest(f"Invalid unset value for column {self.column.name}")
            return raw is not None and any(
                c is not None and t.compare(t.deserialize(raw), t.deserialize(c)) == 0 for c in cands
            )
        v = self.getter(values)
        if v is UNSET:
            raise InvalidRequest(f"Invalid unset value for column {self.column.name}")
        if v is None:
            raise InvalidRequest(_null_value_message(self.column))
        if raw is None:
            return False
        if self.op in ("CONTAINS", "CONTAINS KEY"):
            coll = t.deserialize(raw)
            if self.op == "CONTAINS KEY":
                return t.key.deserialize(v) in coll
            if isinstance(t, cqltypes.MapType):
                return t.value.deserialize(v) in coll.values()
            return t.element.deserialize(v) in coll
        if self.op == "MAPENTRY":
            key, val = v
            coll = t.deserialize(raw)
            k = t.key.deserialize(key)
            return k in coll and t.value.compare(coll[k], t.value.deserialize(val)) == 0
        if self.exact:
            return raw == v
        c = t.compare(t.deserialize(raw), t.deserialize(v))
        return {"=": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[self.op]


@dataclass(slots=True)
class TupleFilter:
    """A multi-column slice `(c1, c2, ...) op (v1, v2, ...)`, compared in the types' natural order."""

    columns: list
    op: str
    getter: Any

    def matches(self, row: LiveRow, values: list) -> bool:
        bound = _tuple_values(self.getter, values, self.columns)
        c = 0
        for col, b in zip(self.columns, bound, strict=False):
            raw = row.values.get(col.name)
            if raw is None:
                return False
            c = col.type.compare(col.type.deserialize(raw), col.type.deserialize(b))
            if c != 0:
                break
        return {"=": c == 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[self.op]


def _tuple_values(getter, values: list, cols: list) -> list[bytes]:
    parts = getter(values)
    if parts is UNSET:
        raise InvalidRequest("Invalid unset value for tuple (" + ",".join(c.name for c in cols) + ")")
    if parts is None:
        raise InvalidRequest("Invalid null value for tuple (" + ",".join(c.name for c in cols) + ")")
    for c, v in zip(cols, parts, strict=False):
        if v is None:
            raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
        if v is UNSET:
            raise InvalidRequest(f"Invalid unset value for column {c.name}")
    return list(parts)


class SelectStatement:
    def __init__(self, table: Table, ctx: BindContext) -> None:
        self.table = table
        self.ctx = ctx
        self.pk: dict[str, KeyRestriction] = {}
        self.ck: dict[str, KeyRestriction] = {}
        self.multi: list = []  # [cols, op, getter] multi-column relations on clustering columns
        self.prefix_steps: list = []  # ("single", KeyRestriction) | ("tuples", cols, [getters] | marker getter)
        self.slice_step = None  # ("single", col, KeyRestriction) | ("multi", [TupleFilter])
        self.token_bounds: list[tuple[str, Any]] = []
        self.filters: list = []
        self.reverse = False
        self.limit = None
        self.per_partition_limit = None
        self.pk_lookup = False
        self.pk_markers: dict[str, int] = {}
        self.post_order = False
        self.virtual = getattr(table, "virtual_rows", None)

    @classmethod
    def prepare(cls, node, stmt: ast.Select, keyspace: str | None) -> SelectStatement:
        table = node.system_tables.resolve(stmt.table, keyspace) or resolve_table(node.schema, stmt.table, keyspace)
        self = cls(table, BindContext(table.keyspace, table.name))
        self.stmt = stmt
        self._where(stmt.where, stmt.allow_filtering)
        for f in self.filters:
            if isinstance(f, Filter) and f.op == "=" and self._indexed(f.column, "="):
                f.exact = True
        self._order(stmt.order_by)
        int_t = cqltypes.lookup_native("int")
        if stmt.distinct and stmt.per_partition_limit is not None:
            raise InvalidRequest("PER PARTITION LIMIT is not allowed with SELECT DISTINCT queries")
        if stmt.per_partition_limit is not None:
            self.per_partition_limit = compile_term(stmt.per_partition_limit, int_t, "[per_partition_limit]", self.ctx)
        if stmt.limit is not None:
            self.limit = compile_term(stmt.limit, int_t, "[limit]", self.ctx)
        self.selection = Selection.prepare(table, stmt, self.ctx)
        if stmt.distinct:
            self._check_distinct()
        self._group_by(stmt)
        if self.selection.is_aggregate and not stmt.group_by and stmt.per_partition_limit is not None:
            raise InvalidRequest("PER PARTITION LIMIT is not allowed with aggregate queries.")
        self.bind_specs = self.ctx.spec_list()
        self.pk_indexes = []
        if self.pk_lookup and all(c.name in self.pk_markers for c in table.partition_key):
            self.pk_indexes = [self.pk_markers[c.name] for c in table.partition_key]
        return self

    def _check_distinct(self) -> None:
        table = self.table
        msg_where = (
            "SELECT DISTINCT with WHERE clause only supports restriction by partition key and/or static columns."
        )
        if self.has_ck_restrictions or self.ck or self.multi:
            raise InvalidRequest(msg_where)
        for f in self.filters:
            if not isinstance(f, Filter) or f.column.kind not in (PARTITION_KEY, STATIC):
                raise InvalidRequest(msg_where)
        if self.selection.is_aggregate or self.pk_lookup:
            return
        names = {s.name for s in self.selection.selectors}
        for c in table.partition_key:
            if c.name not in names:
                raise InvalidRequest(
                    f"SELECT DISTINCT queries must request all the partition key columns (missing {c.name})"
                )

    def _group_by(self, stmt: ast.Select) -> None:
        """GROUP BY: a prefix of the primary key, where columns restricted by EQ may be skipped. Groups
        are keyed by the whole partition key and the first clustering columns up to the last named one."""
        if not stmt.group_by:
            return
        table = self.table
        keys = table.partition_key + table.clustering
        order_msg = (
            "Group by currently only support groups of columns following their declared order in the PRIMARY KEY"
        )
        it = 0
        ck_prefix = 0
        for name in stmt.group_by:
            col = column_of(table, name)
            if col.kind not in (PARTITION_KEY, CLUSTERING):
                raise InvalidRequest(
                    f"Group by is currently only supported on the columns of the PRIMARY KEY, got {col.name}"
                )
            while True:
                if it >= len(keys):
                    raise InvalidRequest(order_msg)
                k = keys[it]
                it += 1
                if k.kind == CLUSTERING:
                    ck_prefix += 1
                if k.name == col.name:
                    break
                if not self._restricted_by_eq(k):
                    raise InvalidRequest(order_msg)
        if stmt.distinct and ck_prefix > 0:
            raise InvalidRequest("Grouping on clustering columns is not allowed for SELECT DISTINCT queries")
        if it < len(keys) and keys[it].kind == PARTITION_KEY:
            raise InvalidRequest("Group by is not supported on only a part of the partition key")
        self.selection.group_by = [c.name for c in table.partition_key] + [c.name for c in table.clustering[:ck_prefix]]

    def _restricted_by_eq(self, col) -> bool:
        r = self.pk.get(col.name) if col.kind == PARTITION_KEY else self.ck.get(col.name)
        if r is not None and r.eq is not None:
            return True
        if any(isinstance(f, Filter) and f.column.name == col.name and f.op == "=" for f in self.filters):
            return True
        return any(op == "=" and any(c.name == col.name for c in cols) for cols, op, _ in self.multi)

    # ------------------------------------------------------------ prepare

    def _token_term(self, term) -> Any:
        """A token bound: a bigint term, or `token(...)` over terms typed as the partition key."""
        ctx, table = self.ctx, self.table
        if isinstance(term, ast.FunctionCall) and term.name.lower() in ("token", "system.token"):
            pk = table.partition_key
            if len(term.args) != len(pk):
                raise InvalidRequest(
                    f"Invalid number of arguments in call to function system.token: {len(pk)} required but "
                    f"{len(term.args)} provided"
                )
            getters = [
                compile_term(a, c.type, f"partition key part {c.name}", ctx) for a, c in zip(term.args, pk, strict=True)
            ]

            def token_of(values, _g=getters, _cols=pk):
                parts = []
                for g, c in zip(_g, _cols, strict=True):
                    v = g(values)
                    if v is UNSET:
                        raise InvalidRequest(f"Invalid unset value for argument in call to function token of {c.name}")
                    if v is None:
                        raise InvalidRequest(f"Invalid null value for partition key part {c.name}")
                    parts.append(v)
                return _BIGINT.pack(partition_key(parts)[0])

            return token_of
        return compile_term(term, cqltypes.lookup_native("bigint"), "partition key token", ctx)

    def _where(self, where: tuple, allow_filtering: bool) -> None:
        table, ctx = self.table, self.ctx
        for rel in where:
            if isinstance(rel.lhs, ast.TokenRef):
                names = [column_of(table, c).name for c in rel.lhs.columns]
                pk_names = [c.name for c in table.partition_key]
                if len(names) != len(pk_names):
                    raise InvalidRequest(
                        f"Invalid number of arguments in call to function system.token: {len(pk_names)} required "
                        f"but {len(names)} provided"
                    )
                if names != pk_names:
                    for i, (n, c) in enumerate(zip(names, table.partition_key, strict=True)):
                        col = table.columns[n]
                        if col.kind == PARTITION_KEY and col.type is not c.type and col.type != c.type:
                            raise InvalidRequest(
                                f"Type error: {n} cannot be passed as argument {i} of function system.token of type "
                                f"{c.type.cql_name()}"
                            )
                    raise InvalidRequest(
                        "The token function arguments must be in the partition key order: " + ", ".join(pk_names)
                    )
                if rel.op not in ("=", "<", "<=", ">", ">="):
                    raise InvalidRequest(f"{rel.op} cannot be used with the token function")
                ops = [o for o, _ in self.token_bounds]
                if (rel.op == "=" and ops) or "=" in ops:
                    raise InvalidRequest(
                        "Columns " + ", ".join(pk_names) + " cannot be restricted by both an equality and an "
                        "inequality relation"
                    )
                if rel.op[0] in "<>" and any(o[0] == rel.op[0] for o in ops):
                    bound = "start" if rel.op[0] == ">" else "end"
                    raise InvalidRequest(
                        f"More than one restriction was found for the {bound} bound on " + ", ".join(pk_names)
                    )
                self.token_bounds.append((rel.op, self._token_term(rel.rhs)))
                continue
            if isinstance(rel.lhs, tuple):
                self._multi(rel)
                continue
            if isinstance(rel.lhs, ast.ElementRef):
                self._element_filter(rel)
                continue
            col = column_of(table, rel.lhs)
            if rel.op == "!=":
                raise InvalidRequest(f'Unsupported "!=" relation: {col.name} != {_term_text(rel.rhs)}')
            if rel.op in ("=", "<", "<=", ">", ">=", "IN") and col.type.is_collection and col.type.is_multicell:
                raise InvalidRequest(
                    f"Collection column '{col.name}' ({col.type.cql_name()}) cannot be restricted by a "
                    f"'{rel.op}' relation"
                )
            if col.kind in (PARTITION_KEY, CLUSTERING) and rel.op in ("=", "IN", "<", "<=", ">", ">="):
                target = self.pk if col.kind == PARTITION_KEY else self.ck
                if col.kind == CLUSTERING:
                    self._check_not_multi(col, rel.op)
                r = target.get(col.name)
                if rel.op == "=":
                    if r is not None:
                        raise InvalidRequest(
                            f"{col.name} cannot be restricted by more than one relation if it includes an Equal"
                        )
                    target[col.name] = KeyRestriction(col, eq=compile_term(rel.rhs, col.type, col.name, ctx))
                    if col.kind == PARTITION_KEY and isinstance(rel.rhs, ast.BindMarker):
                        self.pk_markers[col.name] = rel.rhs.index
                elif rel.op == "IN":
                    if r is not None:
                        raise InvalidRequest(
                            f"{col.name} cannot be restricted by more than one relation if it includes a IN"
                        )
                    if isinstance(rel.rhs, ast.BindMarker):
                        ctx.receive(rel.rhs, f"in({col.name})", cqltypes.ListType(col.type))
                        target[col.name] = KeyRestriction(col, in_marker=_in_marker(rel.rhs.index, col.name))
                    else:
                        target[col.name] = KeyRestriction(
                            col, in_=[compile_term(t, col.type, col.name, ctx) for t in rel.rhs]
                        )
                else:
                    if r is None:
                        r = target[col.name] = KeyRestriction(col)
                    elif not r.is_slice:
                        raise InvalidRequest(
                            f"{col.name} cannot be restricted by more than one relation if it includes an Equal"
                        )
                    if rel.op in r.slice or (rel.op[0] in "<>" and any(k[0] == rel.op[0] for k in r.slice)):
                        bound = "start" if rel.op[0] == ">" else "end"
                        raise InvalidRequest(f"More than one restriction was found for the {bound} bound on {col.name}")
                    r.slice[rel.op] = compile_term(rel.rhs, col.type, col.name, ctx)
                continue
            # Anything else is a filter on the rows read.
            if rel.op == "IN":
                if isinstance(rel.rhs, ast.BindMarker):
                    ctx.receive(rel.rhs, f"in({col.name})", cqltypes.ListType(col.type))
                    r = KeyRestriction(col, in_marker=_in_marker(rel.rhs.index, col.name))
                    self.filters.append(Filter(col, "IN", None, None, r.values))
                else:
                    getters = [compile_term(t, col.type, col.name, ctx) for t in rel.rhs]
                    self.filters.append(Filter(col, "IN", None, getters))
            elif rel.op in ("CONTAINS", "CONTAINS KEY"):
                t = col.type
                if not t.is_collection:
                    raise InvalidRequest(f"Cannot use {rel.op} on non-collection column {col.name}")
                if rel.op == "CONTAINS KEY":
                    if not isinstance(t, cqltypes.MapType):
                        raise InvalidRequest(f"Cannot use CONTAINS KEY on non-map column {col.name}")
                    et = t.key
                else:
                    et = t.value if isinstance(t, cqltypes.MapType) else t.element
                self.filters.append(Filter(col, rel.op, compile_term(rel.rhs, et, col.name, ctx)))
            elif rel.op in ("=", "!=", "<", "<=", ">", ">="):
                if rel.op == "!=":
                    raise InvalidRequest(f'Unsupported "!=" relation: {col.name} != {_term_text(rel.rhs)}')
                if rel.op != "=" and cqltypes.has_duration(col.type):
                    raise InvalidRequest(durations_refused("Slice restrictions", col.type))
                self.filters.append(Filter(col, rel.op, compile_term(rel.rhs, col.type, col.name, ctx)))
            else:
                raise InvalidRequest(f"Unsupported restriction: {rel.lhs} {rel.op} ...")
        # Partition key: a lookup when every component has EQ/IN; otherwise the restrictions filter a scan.
        pk_cols = table.partition_key
        self.pk_lookup = all(c.name in self.pk and not self.pk[c.name].is_slice for c in pk_cols)
        pk_restricted = {c for c in self.pk} | {
            f.column.name for f in self.filters if isinstance(f, Filter) and f.column.kind == PARTITION_KEY
        }
        pk_needs_filtering = bool(pk_restricted) and (
            not self.pk_lookup or any(isinstance(f, Filter) and f.column.kind == PARTITION_KEY for f in self.filters)
        )
        if self.pk and not self.pk_lookup:
            for r in list(self.pk.values()):
                self._to_filter(r)
            self.pk = {}
        check = not allow_filtering and self.virtual is None
        has_index = self._has_supporting_index()
        # Cassandra's rules (StatementRestrictions): a partition key that needs filtering is refused unless an
        # index is usable; with an index (or a key range), more than one restriction left to filter needs
        # ALLOW FILTERING.
        if check and pk_needs_filtering and not has_index:
            raise InvalidRequest(FILTERING_MSG)
        key_range = bool(self.token_bounds) or not pk_restricted or pk_needs_filtering
        uses_index = has_index and (not pk_restricted or pk_needs_filtering)
        to_filter = len(pk_restricted) if (uses_index or pk_needs_filtering) else 0
        ck_needs_filtering = self._plan_clustering(allow_filtering or self.virtual is not None, has_index)
        ck_restricted = {c for c in self.ck} | {c.name for cols, _, _ in self.multi for c in cols}
        ck_restricted |= {f.column.name for f in self.filters if isinstance(f, Filter) and f.column.kind == CLUSTERING}
        ck_restricted |= {c.name for f in self.filters if isinstance(f, TupleFilter) for c in f.columns}
        if ck_needs_filtering and has_index:
            uses_index = True
        if key_range and self._ck_indexed():
            uses_index = True
        if uses_index or ck_needs_filtering:
            to_filter += len(ck_restricted)
        # A TupleFilter is a multi-column slice on clustering columns, counted above.
        regular = [
            f for f in self.filters if isinstance(f, Filter) and f.column.kind not in (PARTITION_KEY, CLUSTERING)
        ]
        if regular:
            if has_index:
                uses_index = True
            elif check:
                raise InvalidRequest(FILTERING_MSG)
            to_filter += len({f.column.name for f in regular})
        contains: dict[str, int] = {}
        for f in regular:
            if f.op in ("CONTAINS", "CONTAINS KEY", "MAPENTRY"):
                contains[f.column.name] = contains.get(f.column.name, 0) + 1
        multiple_contains = any(n > 1 for n in contains.values())
        if check and (key_range or uses_index):
            if to_filter > 1 or (to_filter == 0 and ck_restricted) or (to_filter and multiple_contains):
                raise InvalidRequest(FILTERING_MSG)

    def _has_supporting_index(self) -> bool:
        for f in self.filters:
            if isinstance(f, Filter) and f.op in ("=", "CONTAINS", "CONTAINS KEY", "MAPENTRY"):
                if self._indexed(f.column, f.op):
                    return True
        for r in list(self.pk.values()) + list(self.ck.values()):
            if r.eq is not None and self._indexed(r.column, "="):
                return True
        return self._ck_indexed()

    def _ck_indexed(self) -> bool:
        """Whether an index supports one of the clustering column restrictions."""
        for r in self.ck.values():
            if r.eq is not None and self._indexed(r.column, "="):
                return True
        for cols, op, _ in self.multi:
            if op == "=" and any(self._indexed(c, "=") for c in cols):
                return True
        for f in self.filters:
            if isinstance(f, Filter) and f.column.kind == CLUSTERING and f.op in ("=", "CONTAINS", "CONTAINS KEY"):
                if self._indexed(f.column, f.op):
                    return True
        return False

    def _element_filter(self, rel) -> None:
        col = column_of(self.table, rel.lhs.expr.name if isinstance(rel.lhs.expr, ast.ColumnRef) else rel.lhs.expr)
        t = col.type
        if not isinstance(t, cqltypes.MapType):
            raise InvalidRequest(f"Column {col.name} cannot be used as a map")
        if not t.is_multicell:
            raise InvalidRequest(f"Map-entry equality predicates on frozen map column {col.name} are not supported")
        if rel.op != "=":
            raise InvalidRequest(f"Map-entry predicates only support equality ({col.name}[...] {rel.op} ...)")
        kg = compile_term(rel.lhs.key, t.key, f"key({col.name})", self.ctx)
        vg = compile_term(rel.rhs, t.value, f"value({col.name})", self.ctx)

        def pair(values, _k=kg, _v=vg, _n=col.name):
            k, v = _k(values), _v(values)
            if k is UNSET or v is UNSET:
                return UNSET
            if k is None or v is None:
                return None
            return (k, v)

        self.filters.append(Filter(col, "MAPENTRY", pair))

    def _check_not_multi(self, col, op: str) -> None:
        for cols, mop, _ in self.multi:
            if col in cols:
                if mop in ("=", "IN") or op in ("=", "IN"):
                    raise InvalidRequest(
                        f"{col.name} cannot be restricted by more than one relation if it includes an Equal"
                    )
                raise InvalidRequest(
                    f'Column "{col.name}" cannot be restricted by two inequalities not starting with the same column'
                )

    def _to_filter(self, r: KeyRestriction) -> None:
        if r.eq is not None:
            self.filters.append(Filter(r.column, "=", r.eq))
        elif r.in_ is not None or r.in_marker is not None:
            self.filters.append(Filter(r.column, "IN", None, None, r.values))
        else:
            for op, g in r.slice.items():
                self.filters.append(Filter(r.column, op, g))

    def _indexed(self, col, op: str) -> bool:
        for idx in self.table.indexes.values():
            if idx.get("column") == col.name:
                target = idx.get("target", "values")
                if op == "=" and target in ("values", "full") and not col.type.is_collection:
                    return True
                if op == "=" and target == "full":
                    return True
                if op == "CONTAINS" and target == "values":
                    return True
                if op == "CONTAINS KEY" and target == "keys":
                    return True
                if op == "MAPENTRY" and target == "entries":
                    return True
        return False

    def _multi(self, rel: ast.Relation) -> None:
        table = self.table
        cols = [column_of(table, n) for n in rel.lhs]
        if rel.op == "!=":
            label = "(" + ", ".join(c.name for c in cols) + ")"
            raise InvalidRequest(f'Unsupported "!=" relation: {label} != {_term_text(rel.rhs)}')
        for c in cols:
            if c.kind != CLUSTERING:
                raise InvalidRequest(
                    f"Multi-column relations can only be applied to clustering columns but was applied to: {c.name}"
                )
        for prev, c in zip(cols, cols[1:], strict=False):
            if c.position != prev.position + 1:
                raise InvalidRequest(
                    "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: ("
                    + ", ".join(n for n in rel.lhs)
                    + ")"
                )
        label = "(" + ",".join(c.name for c in cols) + ")"
        if rel.op == "!=":
            raise InvalidRequest(f'Unsupported "!=" relation: {label.replace(",", ", ")} != {_term_text(rel.rhs)}')
        tuple_t = cqltypes.TupleType([c.type for c in cols])

        def tuple_getter(term):
            if isinstance(term, ast.TupleLiteral):
                if len(term.items) != len(cols):
                    raise InvalidRequest(
                        f"Expected {len(cols)} elements in value tuple, but got {len(term.items)}: {_term_text(term)}"
                    )
                gs = [compile_term(t, c.type, c.name, self.ctx) for t, c in zip(term.items, cols, strict=True)]
                return lambda values, _gs=gs: [g(values) for g in _gs]
            g = compile_term(term, tuple_t, label, self.ctx)

            def split(values, _g=g):
                raw = _g(values)
                if raw is None or raw is UNSET:
                    return raw
                return split_tuple(raw, tuple_t)

            return split

        for c in cols:
            if c.name in self.ck:
                r = self.ck[c.name]
                if not r.is_slice or rel.op in ("=", "IN"):
                    raise InvalidRequest(
                        f"{c.name} cannot be restricted by more than one relation if it includes an Equal"
                    )
                raise InvalidRequest(
                    f'Column "{c.name}" cannot be restricted by two inequalities not starting with the same column'
                )
        for ocols, oop, _ in self.multi:
            shared = [c for c in cols if c in ocols]
            if not shared:
                continue
            if oop in ("=", "IN") or rel.op in ("=", "IN"):
                raise InvalidRequest(
                    f"{shared[0].name} cannot be restricted by more than one relation if it includes an Equal"
                )
            if ocols[0] is not cols[0]:
                raise InvalidRequest(
                    f'Column "{shared[0].name}" cannot be restricted by two inequalities not starting with the same '
                    "column"
                )
            if oop[0] == rel.op[0]:
                bound = "start" if rel.op[0] == ">" else "end"
                raise InvalidRequest(f"More than one restriction was found for the {bound} bound on {cols[0].name}")
        if rel.op == "IN":
            if isinstance(rel.rhs, ast.BindMarker):
                list_t = cqltypes.ListType(tuple_t)
                self.ctx.receive(rel.rhs, "in" + label, list_t)
                idx = rel.rhs.index

                def marker_items(values, _i=idx):
                    raw = values[_i]
                    if raw is UNSET:
                        raise InvalidRequest("Invalid unset value for tuple " + label)
                    if raw is None:
                        raise InvalidRequest("Invalid null value for tuple " + label)
                    return [split_tuple(tuple_t.serialize(v), tuple_t) for v in list_t.deserialize(raw)]

                items = marker_items
            else:
                items = [tuple_getter(t) for t in rel.rhs]
        else:
            items = tuple_getter(rel.rhs)
        self.multi.append([cols, rel.op, items])

    def _plan_clustering(self, allow_filtering: bool, has_index: bool = False) -> bool:
        """Turn the clustering restrictions into a prefix of EQ/IN steps and an optional final slice; whatever
        does not fit that shape becomes a filter (which needs ALLOW FILTERING or an index). Returns whether
        some clustering restriction is left to filter."""
        table = self.table
        clustering = table.clustering
        multi_at = {m[0][0].position: m for m in self.multi}
        used_single: set[str] = set()
        used_multi: list = []
        i = 0
        broken_at = None
        slice_col = None
        while i < len(clustering):
            c = clustering[i]
            r = self.ck.get(c.name)
            m = multi_at.get(i)
            if r is not None:
                used_single.add(c.name)
                if r.is_slice:
                    self.slice_step = ("single", c, r)
                    slice_col = c
                    i += 1
                    break
                self.prefix_steps.append(("single", r))
                i += 1
                continue
            if m is not None:
                slices = [x for x in self.multi if x[0][0] is c and x[1] not in ("=", "IN")]
                if slices:
                    used_multi.extend(slices)
                    self.slice_step = ("multi", [TupleFilter(x[0], x[1], x[2]) for x in slices])
                    slice_col = c
                    i += 1
                    break
                used_multi.append(m)
                self.prefix_steps.append(("tuples", m[0], m[2], m[1]))
                i += len(m[0])
                continue
            broken_at = c
            break
        rest_single = [self.ck[c.name] for c in clustering if c.name in self.ck and c.name not in used_single]
        rest_multi = [m for m in self.multi if not any(m is u for u in used_multi)]
        ck_contains = [
            f
            for f in self.filters
            if isinstance(f, Filter) and f.column.kind == CLUSTERING and f.op in ("CONTAINS", "CONTAINS KEY")
        ]
        if not allow_filtering:
            if slice_col is not None and broken_at is None:
                # Cassandra refuses, as each restriction is added, one that follows a slice (unless an index
                # supports it).
                later = [r.column for r in rest_single if not (r.eq is not None and self._indexed(r.column, "="))]
                later += [m[0][0] for m in rest_multi]
                later += [f.column for f in ck_contains if not self._indexed(f.column, f.op)]
                if later:
                    first = min(later, key=lambda c: c.position)
                    raise InvalidRequest(
                        f'Clustering column "{first.name}" cannot be restricted (preceding column "{slice_col.name}" '
                        "is restricted by a non-EQ relation)"
                    )
            if ck_contains and not has_index:
                raise InvalidRequest(
                    "Clustering columns can only be restricted with CONTAINS with a secondary index or filtering"
                )
            if (rest_single or rest_multi) and not has_index:
                later = rest_single[0].column if rest_single else rest_multi[0][0][0]
                bad = broken_at or slice_col
                raise InvalidRequest(
                    f'PRIMARY KEY column "{later.name}" cannot be restricted as preceding column "{bad.name}" is not '
                    "restricted"
                )
        for r in rest_single:
            self._to_filter(r)
        for cols, op, items in rest_multi:
            if op == "IN":
                raise InvalidRequest("Multi-column IN restrictions cannot be used with filtering")
            if op != "=":
                raise InvalidRequest("Multi-column slice restrictions cannot be used for filtering.")
            self.filters.append(TupleFilter(cols, op, items))
        return bool(rest_single or rest_multi or ck_contains)

    @property
    def has_ck_restrictions(self) -> bool:
        return bool(self.prefix_steps or self.slice_step)

    def _order(self, order_by: tuple) -> None:
        if not order_by:
            return
        table = self.table
        cols = []
        for name, _direction in order_by:
            col = column_of(table, name)
            if col.kind != CLUSTERING:
                raise InvalidRequest(
                    f"Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {name}"
                )
            cols.append(col)
        if not self.pk_lookup:
            raise InvalidRequest("ORDER BY is only supported when the partition key is restricted by an EQ or an IN.")
        single_value = set()
        for c in table.clustering:
            r = self.ck.get(c.name)
            if r is not None and (r.eq is not None or (r.in_ is not None and len(r.in_) == 1)):
                single_value.add(c.name)
        for step in self.prefix_steps:
            if step[0] == "tuples" and (step[3] == "=" or (isinstance(step[2], list) and len(step[2]) == 1)):
                single_value.update(c.name for c in step[1])
        i = 0
        reversed_flags = []
        for col, (_name, direction) in zip(cols, order_by, strict=True):
            while (
                i < len(table.clustering)
                and table.clustering[i] is not col
                and table.clustering[i].name in single_value
            ):
                i += 1
            if i >= len(table.clustering) or table.clustering[i] is not col:
                raise InvalidRequest(
                    "Order by currently only supports the ordering of columns following their declared order in "
                    "the PRIMARY KEY"
                )
            i += 1
            natural = col.order.upper() if col.order != "none" else "ASC"
            reversed_flags.append(direction.upper() != natural)
        if len(set(reversed_flags)) > 1:
            raise InvalidRequest("Unsupported order by relation")
        self.reverse = bool(reversed_flags and reversed_flags[0])
        # Rows of several partitions (IN on the partition key) are merged in clustering order.
        self.post_order = any(
            r.in_marker is not None or (r.in_ is not None and len(r.in_) > 1) for r in self.pk.values()
        )

    # ------------------------------------------------------------ execute

    def partitions(self, values: list) -> list[tuple[int, bytes, list[bytes]]] | None:
        """The partitions named by the WHERE, in token order; None means scan them all."""
        table = self.table
        if not self.pk_lookup:
            return None
        comps = [self.pk[c.name].values(values) for c in table.partition_key]
        out = []
        seen = set()
        for p in product(comps):
            token, pk = partition_key(p)
            if pk not in seen:
                seen.add(pk)
                out.append((token, pk, p))
        # As in Cassandra, the partitions named by IN come in the order of their key values.
        return out

    def _prefixes(self, values: list) -> list[list[bytes]]:
        prefixes: list[list[bytes]] = [[]]
        for step in self.prefix_steps:
            if step[0] == "single":
                prefixes = [p + [v] for p in prefixes for v in step[1].values(values)]
                continue
            _, cols, items, op = step
            if op == "IN":
                tuples = items(values) if callable(items) else [g(values) for g in items]
            else:
                tuples = [items(values)]
            checked = [_tuple_values(lambda _v, _t=t: _t, values, cols) for t in tuples]
            prefixes = [p + t for p in prefixes for t in checked]
        if len(prefixes) > 1:
            seen = {}
            for p in prefixes:
                seen.setdefault(clustering_bytes(self.table, p), p)
            prefixes = [seen[k] for k in sorted(seen)]
        return prefixes

    def slices(self, values: list) -> list[tuple[bytes, bool, bytes, bool]]:
        """Clustering slices as byte bounds (prefix semantics, see rows.in_bounds)."""
        table = self.table
        out = []
        single = self.slice_step if self.slice_step and self.slice_step[0] == "single" else None
        for p in self._prefixes(values):
            base = clustering_bytes(table, p)
            lo, lo_incl, hi, hi_incl = base, True, base, True
            if single is not None:
                _, c, r = single
                desc = c.order == "desc"
                enc = c.type.comparable_desc if desc else c.type.comparable
                for op, getter in r.slice.items():
                    v = getter(values)
                    if v is None:
                        raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
                    if v is UNSET:
                        raise InvalidRequest(f"Invalid unset value for column {c.name}")
                    bound = base + enc(v)
                    lower = (op in (">", ">=")) != desc
                    if lower:
                        lo, lo_incl = bound, op in (">=", "<=")
                    else:
                        hi, hi_incl = bound, op in (">=", "<=")
            out.append((lo, lo_incl, hi, hi_incl))
        if self.reverse:
            out.reverse()
        return out

    def _int(self, getter, values, what: str) -> int | None:
        if getter is None:
            return None
        raw = getter(values)
        if raw is None or raw is UNSET:
            return None
        n = int.from_bytes(raw, "big", signed=True)
        if n <= 0:
            raise InvalidRequest(f"{what} must be strictly positive")
        return n

    def _check_values(self, values: list, slice_filters) -> None:
        """Refuse unset/null restriction values up front, whether or not any row is read."""
        for f in list(self.filters) + list(slice_filters or ()):
            if isinstance(f, TupleFilter):
                _tuple_values(f.getter, values, f.columns)
            elif f.op == "IN":
                cands = f.in_values(values) if f.in_values is not None else [g(values) for g in f.in_getters]
                if any(c is UNSET for c in cands):
                    raise InvalidRequest(f"Invalid unset value for column {f.column.name}")
            else:
                v = f.getter(values)
                if v is UNSET:
                    raise InvalidRequest(f"Invalid unset value for column {f.column.name}")
                if v is None and f.op != "MAPENTRY":
                    raise InvalidRequest(_null_value_message(f.column))
        for _, g in self.token_bounds:
            v = g(values)
            if v is UNSET:
                raise InvalidRequest("Invalid unset value for partition key token")
            if v is None:
                raise InvalidRequest("Invalid null value for partition key token")
        for r in self.ck.values():
            for g in r.slice.values():
                if g(values) is UNSET:
                    raise InvalidRequest(f"Invalid unset value for column {r.column.name}")
        if self.has_ck_restrictions and self.prefix_steps:
            self._prefixes(values)

    def _token_ok(self, token: int, values: list) -> bool:
        for op, g in self.token_bounds:
            raw = g(values)
            t = int.from_bytes(raw, "big", signed=True)
            if not _COMPARE[op](token, t):
                return False
        return True

    async def execute(self, node, session, params) -> Result:
        values = node.bind_values(self, params)
        if params.consistency in (8, 9):
            await node.serial_read_barrier(self, values, params)
        rows_out: list[list] = []
        limit = self._int(self.limit, values, "LIMIT")
        ppl = self._int(self.per_partition_limit, values, "PER PARTITION LIMIT")
        page_size = params.page_size if params.page_size and params.page_size > 0 else None
        state = paging.decode(node.paging_key, params.paging_state) if params.paging_state else None
        sel = self.selection
        sel.bind(values)
        now_s = int(time.time())
        if sel.group_by:
            return self._execute_grouped(node, params, values, limit, ppl, page_size, state, now_s)
        remaining = _resume_point(state, limit)[0]
        next_state = None
        aggregate = sel.is_aggregate
        fetch = None if aggregate else page_size
        out_limit = None
        if aggregate:
            # LIMIT counts result rows: the aggregated ones (one, or one per group).
            out_limit, remaining = remaining, None
        # DISTINCT reads one row per partition, also when aggregating (count(*) then counts partitions).
        distinct = getattr(sel, "distinct", False)
        post = self.post_order
        collected: list = []
        if post:
            # Merging several partitions in clustering order needs them all: one unpaged result.
            fetch, remaining, post_limit = None, None, remaining
        for token, pk, count_in_partition, matching in self._matching_rows(
            node, values, params, state, now_s, distinct
        ):
            for row in matching:
                if ppl is not None and count_in_partition >= ppl:
                    break
                if remaining is not None and remaining <= 0:
                    break
                if post:
                    collected.append(row)
                else:
                    sel.add(row, rows_out)
                count_in_partition += 1
                if remaining is not None:
                    remaining -= 1
                if fetch is not None and sel.count(rows_out) >= fetch:
                    # A full page ends here with a paging state, without looking for a next row, as in
                    # Cassandra (its pager is exhausted only by a short page): when the rows end exactly
                    # here, the next page comes back empty. Clients that page until a short page
                    # depend on that.
                    next_state = paging.State(token, pk, row.ck, remaining, count_in_partition)
                    break
                if distinct:
                    break
            if next_state is not None or (remaining is not None and remaining <= 0):
                break
        if post:
            collected.sort(key=lambda r: r.ck, reverse=self.reverse)
            for row in collected if post_limit is None else collected[:post_limit]:
                sel.add(row, rows_out)
        if next_state is not None and remaining is not None and remaining <= 0:
            next_state = None
        out_rows = sel.finish(rows_out)
        if out_limit is not None:
            out_rows = out_rows[:out_limit]
        ps = paging.encode(node.paging_key, next_state) if next_state is not None else None
        body = msg.rows_body(sel.specs, out_rows, ps, no_metadata=params.skip_metadata)
        return Result(body)

    def _execute_grouped(self, node, params, values, limit, ppl, page_size, state, now_s) -> Result:
        """GROUP BY: one result row per group of consecutive rows sharing the group key. LIMIT, PER PARTITION
        LIMIT and the page size count groups; a page always ends on a group boundary."""
        sel = self.selection
        key_cols = sel.group_by
        aggregate = sel.is_aggregate
        distinct = getattr(sel, "distinct", False)
        remaining = _resume_point(state, limit)[0]
        post = self.post_order
        fetch = page_size
        post_limit = None
        if post:
            # Merging several partitions in clustering order needs them all: one unpaged result.
            fetch, post_limit, remaining = None, remaining, None
        groups: list[list] = []
        cur_key: Any = None
        last = None  # (token, pk, ck, groups counted in its partition) of the last row taken
        have_more = False
        stop = False
        for token, pk, count, matching in self._matching_rows(node, values, params, state, now_s, distinct):
            for row in matching:
                key = (pk, tuple(row.values.get(n) for n in key_cols))
                if key != cur_key:
                    if ppl is not None and count >= ppl:
                        break
                    if remaining is not None and remaining <= 0:
                        stop = True
                        break
                    if fetch is not None and len(groups) >= fetch:
                        have_more = stop = True
                        break
                    cur_key = key
                    groups.append([row])
                    count += 1
                    if remaining is not None:
                        remaining -= 1
                elif aggregate:
                    groups[-1].append(row)
                last = (token, pk, row.ck, count)
                if distinct:
                    break
            if stop:
                break
        if not stop and fetch is not None and len(groups) >= fetch and (remaining is None or remaining > 0):
            have_more = True  # the rows ended with the page full: a paging state all the same (see execute)
        if post:
            groups.sort(key=lambda g: g[0].ck, reverse=self.reverse)
            if post_limit is not None:
                groups = groups[:post_limit]
        next_state = None
        if have_more and last is not None:
            next_state = paging.State(last[0], last[1], last[2], remaining, last[3])
        out_rows = sel.finish_groups(groups)
        ps = paging.encode(node.paging_key, next_state) if next_state is not None else None
        body = msg.rows_body(sel.specs, out_rows, ps, no_metadata=params.skip_metadata)
        return Result(body)

    def _matching_rows(self, node, values, params, state, now_s, distinct):
        """The partitions a scan visits, each as (token, partition key, rows already returned from it, its
        live rows that pass the WHERE filters). The partition a page resumes in starts from the count the
        paging state kept; with DISTINCT it was already returned whole, so it is passed over."""
        slice_filters = self.slice_step[1] if self.slice_step and self.slice_step[0] == "multi" else None
        self._check_values(values, slice_filters)
        filters = [*self.filters, *(slice_filters or ())]
        _, resumed_count, last_ck, resume_after = _resume_point(state, None)
        static_ok = not self.has_ck_restrictions
        first = True
        for token, pk, pk_values, header, rows in self._partition_rows(
            node, values, params, resume_after, last_ck, now_s
        ):
            if not self._token_ok(token, values):
                continue
            count = resumed_count if first and resume_after == (token, pk) else 0
            first = False
            if distinct and count > 0:
                continue
            live = live_rows(self.table, pk_values, header, rows, now_s, include_static_only=static_ok)
            if filters:
                live = (row for row in live if all(f.matches(row, values) for f in filters))
            yield token, pk, count, live

    def _partition_rows(self, node, values, params, resume_after, last_ck, now_s):
        table = self.table
        if self.virtual is not None:
            for token, pk, pk_values, rows in self.virtual(node, self._virtual_eq(values)):
                yield token, pk, pk_values, None, rows
            return
        required = node.consistency_count(table.keyspace, params.consistency, token=None)
        rf = node.rf(table.keyspace)
        parts = self.partitions(values)
        if parts is None:
            pk_types = [c.type for c in table.partition_key]
            from storage import token as tokens

            def scan():
                for token, pk in node.replicas.partitions(
                    table.id_bytes, after=resume_after and (resume_after[0], resume_after[1])
                ):
                    yield token, pk, tokens.split_partition_key(pk, len(pk_types))

            source = scan()
            if resume_after is not None:
                source = _prepend(
                    (resume_after[0], resume_after[1], tokens.split_partition_key(resume_after[1], len(pk_types))),
                    source,
                )
        else:
            source = iter(parts)
            if resume_after is not None:
                at = next((i for i, p in enumerate(parts) if (p[0], p[1]) == resume_after), None)
                source = iter(parts[at:] if at is not None else [p for p in parts if (p[0], p[1]) > resume_after])
        slices = self.slices(values) if self.has_ck_restrictions else [(b"", True, b"", True)]
        for token, pk, pk_values in source:
            resuming = resume_after is not None and (token, pk) == resume_after and last_ck is not None
            header = None
            got = []
            for lo, lo_incl, hi, hi_incl in slices:
                start = lo
                # Without clustering columns a partition has one row: ask for exactly it (point lookups).
                end = _successor(hi) if hi else (None if table.clustering else b"\x00")
                if resuming:
                    if self.reverse:
                        end = last_ck if end is None or last_ck < end else end
                    else:
                        start = max(start, last_ck + b"\x00")
                h, rows = node.read_partition(
                    table, token, pk, required, rf, start=start, end=end, reverse=self.reverse
                )
                header = h
                got.extend((ck, r) for ck, r in rows if in_bounds(ck, lo, lo_incl, hi, hi_incl))
            if resuming and header is not None and not got:
                header = [header[0], None, header[2]]
            elif resuming and header is not None:
                header = [header[0], header[1], header[2]]
            yield token, pk, pk_values, header, got

    def _virtual_eq(self, values) -> dict[str, bytes]:
        out = {}
        for name, r in list(self.pk.items()) + list(self.ck.items()):
            if r.eq is not None:
                out[name] = r.eq(values)
            elif r.in_ is not None or r.in_marker is not None:
                out[name] = r.values(values)
        return out


_COMPARE = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _resume_point(state, limit: int | None):
    """(rows still allowed, rows already returned from the resumed partition, last clustering key,
    (token, partition key) to resume after) from a paging state, or a fresh start."""
    if state is None:
        return limit, 0, None, None
    remaining = state.remaining if state.remaining is not None else limit
    return remaining, state.partition_count, state.last_ck, (state.token, state.pk)


def _successor(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with prefix."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return b"\xff" * 16
    p[-1] += 1
    return bytes(p)


def _prepend(first, rest):
    yield first
    yield from rest


def _in_marker(index: int, name: str):
    def get(values, _i=index, _n=name):
        v = values[_i]
        if v is UNSET:
            raise InvalidRequest(f"Invalid unset value for column {_n}")
        return v

    return get


def _term_text(term) -> str:
    if isinstance(term, ast.TupleLiteral):
        return "(" + ", ".join(_term_text(t) for t in term.items) + ")"
    if isinstance(term, ast.BindMarker):
        return "?" if term.name is None else f":{term.name}"
    if isinstance(term, ast.Literal):
        if term.kind == "string":
            return "'" + str(term.value).replace("'", "''") + "'"
        if term.kind == "null":
            return "null"
        return str(term.value).lower() if isinstance(term.value, bool) else str(term.value)
    return str(term)
