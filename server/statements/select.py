"""SELECT: restrictions compiled once into partitions to read, clustering slices and filters; a
selection turning live rows into result columns; paging that resumes exactly where it stopped."""

from __future__ import annotations

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
from server.statements.tables import clustering_bytes, column_of, partition_key, product, resolve_table
from server.statements.terms import BindContext, compile_term, split_tuple
from server.wire import UNSET
from storage import cqltypes
from storage.rows import in_bounds
from storage.schema import CLUSTERING, PARTITION_KEY, Table

FILTERING_MSG = (
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. "
    "If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING"
)


@dataclass(slots=True)
class Filter:
    column: Any
    op: str
    getter: Any
    in_getters: list | None = None
    in_values: Any = None  # values -> list of serialized candidates (IN ? / key restriction IN)

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
            raise InvalidRequest(f"Invalid null value for column {self.column.name}")
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
        self.multi = None  # (columns, op, getters) for a multi-column clustering relation
        self.token_bounds: list[tuple[str, Any]] = []
        self.filters: list[Filter] = []
        self.reverse = False
        self.limit = None
        self.per_partition_limit = None
        self.virtual = getattr(table, "virtual_rows", None)

    @classmethod
    def prepare(cls, node, stmt: ast.Select, keyspace: str | None) -> SelectStatement:
        table = node.system_tables.resolve(stmt.table, keyspace) or resolve_table(node.schema, stmt.table, keyspace)
        self = cls(table, BindContext(table.keyspace, table.name))
        self.stmt = stmt
        self._where(stmt.where, stmt.allow_filtering)
        self._order(stmt.order_by)
        int_t = cqltypes.lookup_native("int")
        if stmt.limit is not None:
            self.limit = compile_term(stmt.limit, int_t, "[limit]", self.ctx)
        if stmt.per_partition_limit is not None:
            self.per_partition_limit = compile_term(stmt.per_partition_limit, int_t, "[per_partition_limit]", self.ctx)
        self.selection = Selection.prepare(table, stmt, self.ctx)
        self.bind_specs = self.ctx.spec_list()
        self.pk_indexes = []
        return self

    # ------------------------------------------------------------ prepare

    def _where(self, where: tuple, allow_filtering: bool) -> None:
        table, ctx = self.table, self.ctx
        needs_filtering = False
        for rel in where:
            if isinstance(rel.lhs, ast.TokenRef):
                names = [column_of(table, c).name for c in rel.lhs.columns]
                if names != [c.name for c in table.partition_key]:
                    raise InvalidRequest(
                        "The token function arguments must be in the partition key order: "
                        + ", ".join(c.name for c in table.partition_key)
                    )
                self.token_bounds.append(
                    (rel.op, compile_term(rel.rhs, cqltypes.lookup_native("bigint"), "partition key token", ctx))
                )
                continue
            if isinstance(rel.lhs, tuple):
                self._multi(rel)
                continue
            col = column_of(table, rel.lhs)
            if col.kind in (PARTITION_KEY, CLUSTERING) and rel.op in ("=", "IN", "<", "<=", ">", ">="):
                target = self.pk if col.kind == PARTITION_KEY else self.ck
                r = target.get(col.name)
                if rel.op == "=":
                    if r is not None:
                        raise InvalidRequest(
                            f"{col.name} cannot be restricted by more than one relation if it includes an Equal"
                        )
                    target[col.name] = KeyRestriction(col, eq=compile_term(rel.rhs, col.type, col.name, ctx))
                elif rel.op == "IN":
                    if r is not None:
                        raise InvalidRequest(
                            f"{col.name} cannot be restricted by more than one relation if it includes a IN"
                        )
                    if isinstance(rel.rhs, ast.BindMarker):
                        ctx.receive(rel.rhs, f"in({col.name})", cqltypes.ListType(col.type))
                        target[col.name] = KeyRestriction(col, in_marker=lambda v, _i=rel.rhs.index: v[_i])
                    else:
                        target[col.name] = KeyRestriction(
                            col, in_=[compile_term(t, col.type, col.name, ctx) for t in rel.rhs]
                        )
                else:
                    if col.kind == PARTITION_KEY:
                        raise InvalidRequest(
                            "Only EQ and IN relation are supported on the partition key (unless you use the token() function)"
                        )
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
                getters = (
                    [compile_term(t, col.type, col.name, ctx) for t in rel.rhs] if isinstance(rel.rhs, tuple) else None
                )
                if getters is None:
                    raise InvalidRequest(f"IN ? is not supported for filtering on column {col.name}")
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
                if not self._indexed(col, rel.op):
                    needs_filtering = True
            elif rel.op in ("=", "!=", "<", "<=", ">", ">="):
                if rel.op == "!=":
                    raise InvalidRequest(f'Unsupported "!=" relation: {col.name} != ...')
                self.filters.append(Filter(col, rel.op, compile_term(rel.rhs, col.type, col.name, ctx)))
                if not (rel.op == "=" and self._indexed(col, "=")):
                    needs_filtering = True
            else:
                raise InvalidRequest(f"Unsupported restriction: {rel.lhs} {rel.op} ...")
        if self.pk and len(self.pk) < len(table.partition_key):
            needs_filtering = True
        pk_complete = len(self.pk) == len(table.partition_key)
        # Clustering restrictions must form a prefix; otherwise they are filters too.
        prefix_ok = True
        for i, c in enumerate(table.clustering):
            r = self.ck.get(c.name)
            if r is None:
                if any(d.name in self.ck for d in table.clustering[i + 1 :]):
                    prefix_ok = False
                break
            if r.is_slice and any(d.name in self.ck for d in table.clustering[i + 1 :]):
                prefix_ok = False
                break
        if not prefix_ok:
            if not allow_filtering:
                bad = next(c for c in table.clustering if c.name not in self.ck)
                later = next(d.name for d in table.clustering if d.name in self.ck and d.position > bad.position)
                raise InvalidRequest(
                    f'PRIMARY KEY column "{later}" cannot be restricted as preceding column "{bad.name}" is not restricted'
                )
            for r in list(self.ck.values()):
                self._to_filter(r)
            self.ck = {}
        if (self.ck or self.multi) and not pk_complete and not self.virtual:
            needs_filtering = True
        if self.filters and not pk_complete and self.virtual is None:
            pass
        if needs_filtering and not allow_filtering and self.virtual is None:
            indexed_eq = any(f.op == "=" and self._indexed(f.column, "=") for f in self.filters)
            others = [f for f in self.filters if not (f.op == "=" and self._indexed(f.column, "="))]
            if not (indexed_eq and not others and (not self.pk or pk_complete)):
                raise InvalidRequest(FILTERING_MSG)

    def _to_filter(self, r: KeyRestriction) -> None:
        if r.eq is not None:
            self.filters.append(Filter(r.column, "=", r.eq))
        elif r.in_ is not None:
            self.filters.append(Filter(r.column, "IN", None, r.in_))
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
        return False

    def _multi(self, rel: ast.Relation) -> None:
        table = self.table
        cols = [column_of(table, n) for n in rel.lhs]
        for i, c in enumerate(cols):
            if c.kind != CLUSTERING:
                raise InvalidRequest(
                    f"Multi-column relations can only be applied to clustering columns but was applied to: {c.name}"
                )
            if c.position != i:
                raise InvalidRequest(
                    "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: "
                    + ", ".join(f"({', '.join(n for n in rel.lhs)})" for _ in [0])
                )
        tuple_t = cqltypes.TupleType([c.type for c in cols])

        def tuple_getter(term):
            if isinstance(term, ast.TupleLiteral):
                return [compile_term(t, c.type, c.name, self.ctx) for t, c in zip(term.items, cols, strict=True)]
            g = compile_term(term, tuple_t, "(" + ",".join(c.name for c in cols) + ")", self.ctx)

            def split(values, _g=g):
                raw = _g(values)
                return split_tuple(raw, tuple_t)

            return split

        if rel.op == "IN":
            items = [tuple_getter(t) for t in rel.rhs] if isinstance(rel.rhs, tuple) else [tuple_getter(rel.rhs)]
        else:
            items = [tuple_getter(rel.rhs)]
        if self.multi is not None and not (self.multi[1] in "<>" and rel.op in ("<", "<=", ">", ">=")):
            raise InvalidRequest("More than one restriction was found for the multi-column relation")
        if self.multi is None:
            self.multi = [cols, {rel.op: items}]
        else:
            self.multi[1][rel.op] = items

    def _order(self, order_by: tuple) -> None:
        if not order_by:
            return
        table = self.table
        if len(self.pk) < len(table.partition_key):
            raise InvalidRequest("ORDER BY is only supported when the partition key is restricted by an EQ or an IN.")
        reversed_flags = []
        for i, (name, direction) in enumerate(order_by):
            col = column_of(table, name)
            if col.kind != CLUSTERING:
                raise InvalidRequest(
                    f"Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {name}"
                )
            if col.position != i:
                raise InvalidRequest(
                    "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY"
                )
            natural = col.order.upper() if col.order != "none" else "ASC"
            reversed_flags.append(direction.upper() != natural)
        if len(set(reversed_flags)) > 1:
            raise InvalidRequest("Unsupported order by relation")
        self.reverse = reversed_flags[0]

    # ------------------------------------------------------------ execute

    def partitions(self, values: list) -> list[tuple[int, bytes, list[bytes]]] | None:
        """The partitions named by the WHERE, in token order; None means scan them all."""
        table = self.table
        if len(self.pk) < len(table.partition_key):
            return None
        comps = [self.pk[c.name].values(values) for c in table.partition_key]
        out = []
        for p in product(comps):
            token, pk = partition_key(p)
            out.append((token, pk, p))
        out.sort(key=lambda x: (x[0], x[1]))
        return out

    def slices(self, values: list) -> list[tuple[bytes, bool, bytes, bool]]:
        """Clustering slices as byte bounds (prefix semantics, see rows.in_bounds)."""
        table = self.table
        if self.multi is not None:
            return self._multi_slices(values)
        prefixes: list[list[bytes]] = [[]]
        last = None
        for c in table.clustering:
            r = self.ck.get(c.name)
            if r is None:
                break
            if r.is_slice:
                last = (c, r)
                break
            prefixes = [p + [v] for p in prefixes for v in r.values(values)]
        out = []
        for p in prefixes:
            base = clustering_bytes(table, p)
            lo, lo_incl, hi, hi_incl = base, True, base, True
            if last is not None:
                c, r = last
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

    def _multi_slices(self, values: list) -> list[tuple[bytes, bool, bytes, bool]]:
        cols, ops = self.multi
        table = self.table

        def enc(getter) -> bytes:
            parts = getter(values) if callable(getter) else [g(values) for g in getter]
            for c, v in zip(cols, parts, strict=True):
                if v is None or v is UNSET:
                    raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
            return clustering_bytes(table, list(parts))

        if "=" in ops or "IN" in ops:
            items = ops.get("=") or ops.get("IN")
            keys = sorted({enc(g) for g in items}, reverse=self.reverse)
            return [(k, True, k, True) for k in keys]
        lo, lo_incl, hi, hi_incl = b"", True, b"", True
        desc = cols[0].order == "desc"
        for op, items in ops.items():
            b = enc(items[0])
            lower = (op in (">", ">=")) != desc
            if lower:
                lo, lo_incl = b, op in (">=", "<=")
            else:
                hi, hi_incl = b, op in (">=", "<=")
        return [(lo, lo_incl, hi, hi_incl)]

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

    def _token_ok(self, token: int, values: list) -> bool:
        for op, g in self.token_bounds:
            raw = g(values)
            t = int.from_bytes(raw, "big", signed=True)
            if not {"=": token == t, "<": token < t, "<=": token <= t, ">": token > t, ">=": token >= t}[op]:
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
        now_s = int(time.time())
        remaining = limit
        if state is not None and state.remaining is not None:
            remaining = state.remaining
        resumed_count = state.partition_count if state else 0
        last_ck = state.last_ck if state else None
        resume_after = (state.token, state.pk) if state else None
        next_state = None
        have_more = False
        aggregate = sel.is_aggregate
        fetch = None if aggregate else page_size
        first = True
        parts = self._partition_rows(node, values, params, resume_after, last_ck, now_s)
        for token, pk, pk_values, header, rows in parts:
            if not self._token_ok(token, values):
                continue
            count_in_partition = resumed_count if first and resume_after == (token, pk) else 0
            first = False
            static_ok = not (self.ck or self.multi)
            for row in live_rows(self.table, pk_values, header, rows, now_s, include_static_only=static_ok):
                if self.filters and not all(f.matches(row, values) for f in self.filters):
                    continue
                if ppl is not None and count_in_partition >= ppl:
                    break
                if remaining is not None and remaining <= 0:
                    break
                if next_state is not None:
                    have_more = True
                    break
                sel.add(row, rows_out)
                count_in_partition += 1
                if remaining is not None:
                    remaining -= 1
                if fetch is not None and sel.count(rows_out) >= fetch:
                    next_state = paging.State(token, pk, row.ck, remaining, count_in_partition)
            if have_more or (remaining is not None and remaining <= 0):
                break
        if not have_more:
            next_state = None
        if next_state is not None and remaining is not None and remaining <= 0:
            next_state = None
        out_rows = sel.finish(rows_out)
        ps = paging.encode(node.paging_key, next_state) if next_state is not None else None
        body = msg.rows_body(sel.specs, out_rows, ps, no_metadata=params.skip_metadata)
        return Result(body)

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
                source = (p for p in parts if (p[0], p[1]) >= resume_after)
        slices = self.slices(values) if (self.ck or self.multi) else [(b"", True, b"", True)]
        for token, pk, pk_values in source:
            resuming = resume_after is not None and (token, pk) == resume_after and last_ck is not None
            header = None
            got = []
            for lo, lo_incl, hi, hi_incl in slices:
                start = lo
                end = _successor(hi) if hi else None
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
        return out


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
