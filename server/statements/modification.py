"""INSERT, UPDATE and DELETE: prepared once against the schema, then bound per request into mutations.

A conditional statement (IF ...) does not write here: it hands a CasRequest to the Paxos path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cql_grammar import ast
from server.errors import InvalidRequest, SyntaxException
from server.literals import term_text
from server.statements import collection_ops
from server.statements import conditions as cond
from server.statements.tables import clustering_bytes, column_of, now_micros, partition_key, product, resolve_table
from server.statements.terms import BindContext, compile_term, split_list, split_tuple
from server.wire import UNSET
from storage import cqltypes
from storage.mutation import Mutation
from storage.schema import CLUSTERING, PARTITION_KEY, STATIC, Table

# Cassandra's NumberType and StringType: what `+` (and for numbers `-`) may apply to under IF.
ARITHMETIC_TYPES = frozenset({"tinyint", "smallint", "int", "bigint", "varint", "float", "double", "decimal"})
TEXT_TYPES = frozenset({"text", "ascii", "varchar"})

MAX_TTL = 20 * 365 * 24 * 60 * 60


@dataclass(slots=True)
class Op:
    kind: str  # set, add, sub, prepend, set_elem, set_field, del, del_elem, del_field
    column: Any
    value: Any = None  # getter
    key: Any = None  # getter for element ops
    field: str | None = None


class KeyRestriction:
    """The values (one or several, for IN) a key column is restricted to, or a slice on the last one."""

    def __init__(self, column, eq=None, in_=None, in_marker=None, multi=None) -> None:
        self.column = column
        self.eq = eq
        self.in_ = in_
        self.in_marker = in_marker
        self.multi = multi
        self.slice: dict[str, Any] = {}
        self.multi_slice: tuple | None = None  # (columns, {op: tuple getter}) for (c1, c2) > (..)

    @property
    def is_slice(self) -> bool:
        return bool(self.slice) or self.multi_slice is not None

    def values(self, values: list) -> list[bytes]:
        if self.eq is not None:
            out = [self.eq(values)]
        elif self.in_marker is not None:
            raw = self.in_marker(values)
            if raw is None:
                raise InvalidRequest(f"Invalid null value for {self.column.name}")
            out = split_list(raw, self.column.type)
        else:
            out = [g(values) for g in self.in_]
        for v in out:
            if v is None:
                raise InvalidRequest(f"Invalid null value in condition for column {self.column.name}")
            if v is UNSET:
                raise InvalidRequest(f"Invalid unset value for column {self.column.name}")
        if self.in_ is not None or self.in_marker is not None:
            # IN values are deduplicated and visited in key order, as Cassandra does.
            out = sorted(set(out), key=self.column.type.comparable)
        return out


def compile_key_restrictions(table: Table, where: tuple, ctx: BindContext, allow_slices: bool, verb: str):
    restrictions: dict[str, KeyRestriction] = {}
    others = []
    for rel in where:
        if isinstance(rel.lhs, ast.TokenRef):
            raise InvalidRequest(f"The token function cannot be used in WHERE clauses for {verb} statements")
        if isinstance(rel.lhs, tuple):
            _multi_column(table, rel, ctx, restrictions, verb)
            continue
        if not isinstance(rel.lhs, str):
            raise InvalidRequest(f"Unsupported restriction in WHERE clause of {verb} statements")
        col = column_of(table, rel.lhs)
        if col.kind not in (PARTITION_KEY, CLUSTERING):
            others.append(rel)
            continue
        r = restrictions.get(col.name)
        if rel.op == "=":
            if r is not None:
                raise InvalidRequest(
                    f"{col.name} cannot be restricted by more than one relation if it includes an Equal"
                )
            restrictions[col.name] = KeyRestriction(col, eq=compile_term(rel.rhs, col.type, col.name, ctx))
        elif rel.op == "IN":
            if r is not None:
                raise InvalidRequest(f"{col.name} cannot be restricted by more than one relation if it includes a IN")
            if isinstance(rel.rhs, ast.BindMarker):
                ctx.receive(rel.rhs, f"in({col.name})", cqltypes.ListType(col.type))
                idx = rel.rhs.index
                restrictions[col.name] = KeyRestriction(col, in_marker=lambda values, _i=idx: values[_i])
            else:
                getters = [compile_term(t, col.type, col.name, ctx) for t in rel.rhs]
                restrictions[col.name] = KeyRestriction(col, in_=getters)
        elif rel.op in ("<", "<=", ">", ">=") and col.kind == PARTITION_KEY:
            raise InvalidRequest(
                "Only EQ and IN relation are supported on the partition key (unless you use the token() function)"
            )
        elif rel.op in ("<", "<=", ">", ">=") and allow_slices and col.kind == CLUSTERING:
            if r is None:
                r = restrictions[col.name] = KeyRestriction(col)
            elif not r.is_slice:
                raise InvalidRequest(
                    f"{col.name} cannot be restricted by more than one relation if it includes an Equal"
                )
            r.slice[rel.op] = compile_term(rel.rhs, col.type, col.name, ctx)
        else:
            raise InvalidRequest(f"Invalid operator {rel.op} for PRIMARY KEY part {col.name}")
    if others:
        names = ", ".join(r.lhs for r in others)
        raise InvalidRequest(f"Non PRIMARY KEY columns found in where clause: {names} ")
    missing = [c.name for c in table.partition_key if c.name not in restrictions]
    if missing:
        raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    return restrictions


def _mentions_column(term) -> bool:
    if isinstance(term, ast.ColumnRef):
        return True
    if isinstance(term, ast.BinaryOp):
        return _mentions_column(term.left) or _mentions_column(term.right)
    return False


class MultiIn:
    """(c1, c2) IN ((..), (..)): whole clustering prefixes, not a product of per-column values."""

    def __init__(self, columns: list, items) -> None:
        self.columns = columns
        self.items = items  # values -> list of component lists

    def values(self, values: list) -> list[list[bytes]]:
        out = []
        for comps in self.items(values):
            for c, v in zip(self.columns, comps, strict=True):
                if v is None:
                    raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
                if v is UNSET:
                    raise InvalidRequest(f"Invalid unset value for column {c.name}")
            out.append(list(comps))
        return out


def _multi_column(table: Table, rel, ctx: BindContext, restrictions: dict, verb: str) -> None:
    cols = [column_of(table, n) for n in rel.lhs]
    for c in cols:
        if c.kind != CLUSTERING:
            raise InvalidRequest(
                f"Multi-column relations can only be applied to clustering columns but was applied to: {c.name}"
            )
        existing = restrictions.get(c.name)
        if existing is not None and not (existing.multi_slice is not None and rel.op in ("<", "<=", ">", ">=")):
            raise InvalidRequest(f"{c.name} cannot be restricted by more than one relation if it includes an Equal")
    if [c.position for c in cols] != list(range(cols[0].position, cols[0].position + len(cols))):
        raise InvalidRequest("Clustering columns must appear in the PRIMARY KEY order in multi-column relations")
    tuple_t = cqltypes.TupleType([c.type for c in cols])
    label = "(" + ",".join(c.name for c in cols) + ")"

    def tuple_getter(term):
        if isinstance(term, ast.TupleLiteral):
            if len(term.items) != len(cols):
                raise InvalidRequest(
                    f"Expected {len(cols)} elements in value tuple, but got {len(term.items)}: {label}"
                )
            getters = [compile_term(t, c.type, c.name, ctx) for t, c in zip(term.items, cols, strict=True)]
            return lambda values: [g(values) for g in getters]
        g = compile_term(term, tuple_t, label, ctx)
        return lambda values: split_tuple(g(values), tuple_t)

    if rel.op == "=":
        getter = tuple_getter(rel.rhs)
        for i, c in enumerate(cols):
            restrictions[c.name] = KeyRestriction(c, eq=lambda values, _g=getter, _i=i: _g(values)[_i])
    elif rel.op == "IN":
        if isinstance(rel.rhs, ast.BindMarker):
            list_t = cqltypes.ListType(tuple_t)
            ctx.receive(rel.rhs, f"in({label})", list_t)
            idx = rel.rhs.index

            def items(values, _i=idx):
                raw = values[_i]
                if raw is None or raw is UNSET:
                    raise InvalidRequest(f"Invalid null value for {label}")
                return [split_tuple(e, tuple_t) for e in split_list(raw, tuple_t)]
        else:
            getters = [tuple_getter(t) for t in rel.rhs]

            def items(values, _gs=getters):
                return [g(values) for g in _gs]

        multi = MultiIn(cols, items)
        for c in cols:
            restrictions[c.name] = KeyRestriction(c, multi=multi)
    elif rel.op in ("<", "<=", ">", ">=") and verb == "DELETE":
        if len({c.order for c in cols}) > 1:
            raise InvalidRequest("Multi-column slices over clustering columns of mixed order are not supported")
        first = restrictions.get(cols[0].name)
        if first is None:
            first = restrictions[cols[0].name] = KeyRestriction(cols[0])
            first.multi_slice = (cols, {})
        elif first.multi_slice is None or first.multi_slice[0] != cols:
            raise InvalidRequest(
                f"{cols[0].name} cannot be restricted by more than one relation if it includes an Equal"
            )
        first.multi_slice[1][rel.op] = tuple_getter(rel.rhs)
    else:
        raise InvalidRequest(f"Invalid operator {rel.op} for multi-column relation in {verb} statements")


class ModificationStatement:
    """A prepared INSERT, UPDATE or DELETE."""

    is_conditional = False

    def __init__(self, table: Table, kind: str, ctx: BindContext) -> None:
        self.table = table
        self.kind = kind
        self.ctx = ctx
        self.ops: list[Op] = []
        self.restrictions: dict[str, KeyRestriction] = {}
        self.ttl = None
        self.timestamp = None
        self.row_marker = kind == "insert"
        self.conditions: list[cond.Condition] = []
        self.if_exists = False
        self.if_not_exists = False
        self.needs_read = False
        self.static_only = False
        self.full_row_delete = False

    # ------------------------------------------------------------ prepare

    @classmethod
    def prepare(cls, node, stmt, keyspace: str | None, in_batch: bool = False) -> ModificationStatement:
        table = resolve_table(node.schema, stmt.table, keyspace)
        ctx = BindContext(table.keyspace, table.name)
        if isinstance(stmt, ast.Insert):
            self = cls(table, "insert", ctx)
            self._prepare_insert(stmt)
        elif isinstance(stmt, ast.Update):
            self = cls(table, "update", ctx)
            self._prepare_update(stmt)
        else:
            self = cls(table, "delete", ctx)
            self._prepare_delete(stmt)
        self._prepare_using(stmt.using)
        self._prepare_conditions(stmt)
        # In a batch, markers are numbered across the whole batch: each statement sees only its own.
        self.bind_specs = list(ctx.specs.values()) if in_batch else ctx.spec_list()
        self.pk_indexes = self._pk_indexes()
        return self

    def _pk_indexes(self) -> list[int]:
        out = []
        for col in self.table.partition_key:
            r = self.restrictions.get(col.name)
            if r is None or r.eq is None:
                return []
            idx = next(
                (i for i, s in enumerate(self.bind_specs) if s.name == col.name and s.type is col.type),
                None,
            )
            if idx is None:
                return []
            out.append(idx)
        return out

    def _prepare_insert(self, stmt: ast.Insert) -> None:
        table, ctx = self.table, self.ctx
        if stmt.json is not None:
            self._prepare_insert_json(stmt)
            return
        if len(stmt.columns) != len(stmt.values):
            raise InvalidRequest("Unmatched column names/values")
        seen = set()
        for name, term in zip(stmt.columns, stmt.values, strict=True):
            col = column_of(table, name)
            if name in seen:
                raise InvalidRequest(f"Multiple definitions found for column {name}")
            seen.add(name)
            if col.kind in (PARTITION_KEY, CLUSTERING):
                self.restrictions[name] = KeyRestriction(col, eq=compile_term(term, col.type, name, ctx))
            else:
                self._add_set(col, term)
        missing = [c.name for c in table.partition_key if c.name not in self.restrictions]
        if missing:
            raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
        missing = [c.name for c in table.clustering if c.name not in self.restrictions]
        if missing:
            only_static = all(op.column.kind == STATIC for op in self.ops) and self.ops
            if not only_static or len(missing) != len(table.clustering):
                raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")
            self.static_only = True
            self.row_marker = False

    def _prepare_insert_json(self, stmt: ast.Insert) -> None:
        from server.statements.json_insert import JsonInsert

        JsonInsert(self, stmt).prepare()

    def _add_set(self, col, term) -> None:
        if col.type.cql_name() == "counter":
            raise InvalidRequest(
                f"Cannot set the value of counter column {col.name} (counters can only be incremented/decremented, not set)"
            )
        self.ops.append(Op("set", col, compile_term(term, col.type, col.name, self.ctx)))

    def _prepare_update(self, stmt: ast.Update) -> None:
        table, ctx = self.table, self.ctx
        for a in stmt.assignments:
            col = column_of(table, a.column)
            if col.kind in (PARTITION_KEY, CLUSTERING):
                raise InvalidRequest(f"PRIMARY KEY part {col.name} found in SET part")
            t = col.type
            if isinstance(a, ast.SetValue):
                if isinstance(a.value, ast.BinaryOp) and _mentions_column(a.value):
                    raise SyntaxException("Only expressions of the form X = X <op> <value> are supported.")
                self._add_set(col, a.value)
            elif isinstance(a, (ast.AddTo, ast.SubtractFrom)):
                kind = "add" if isinstance(a, ast.AddTo) else "sub"
                shown = f"{col.name} = {col.name} {'+' if kind == 'add' else '-'} {term_text(a.value)}"
                if t.cql_name() == "counter":
                    self.ops.append(
                        Op(kind, col, compile_term(a.value, cqltypes.lookup_native("bigint"), col.name, ctx))
                    )
                elif t.is_collection and t.is_multicell:
                    vtype = t
                    if kind == "sub" and isinstance(t, cqltypes.MapType):
                        vtype = cqltypes.SetType(t.key)
                    self.ops.append(Op(kind, col, compile_term(a.value, vtype, col.name, ctx)))
                    self.needs_read |= collection_ops.needs_read(self.ops[-1])
                    continue
                elif t.is_collection:
                    raise InvalidRequest(f"Invalid operation ({shown}) for frozen collection column {col.name}")
                elif kind == "add" and isinstance(t, cqltypes.TupleType):  # a UDT is a tuple here, as in Cassandra
                    raise InvalidRequest(f"Invalid operation ({shown}) for tuple column {col.name}")
                elif stmt.conditions or stmt.if_exists:
                    # Arithmetic on plain columns only under IF, where the Paxos read supplies the old value:
                    # + on numbers and text (CASSANDRA-17857), - on numbers (CASSANDRA-20477).
                    name = t.cql_name()
                    if name not in ARITHMETIC_TYPES and (kind == "sub" or name not in TEXT_TYPES):
                        what = "non-numeric type" if kind == "sub" else "non-numeric and non-text type"
                        raise InvalidRequest(f"Invalid operation ({shown}) for {what} {col.name}")
                    self.ops.append(Op(kind, col, compile_term(a.value, t, col.name, ctx)))
                else:
                    raise InvalidRequest(f"Invalid operation ({shown}) for non counter column {col.name}")
                self.needs_read = True
            elif isinstance(a, ast.Prepend):
                if not (cqltypes.is_list(t) and t.is_multicell):
                    raise InvalidRequest(
                        f"Invalid operation ({col.name} = ? + {col.name}) for non list column {col.name}"
                    )
                self.ops.append(Op("prepend", col, compile_term(a.value, t, col.name, ctx)))
            elif isinstance(a, ast.SetElement):
                if cqltypes.is_list(t) and t.is_multicell:
                    key = compile_term(a.key, cqltypes.lookup_native("int"), f"idx({col.name})", ctx)
                    val = compile_term(a.value, t.element, f"value({col.name})", ctx)
                elif isinstance(t, cqltypes.MapType) and t.is_multicell:
                    key = compile_term(a.key, t.key, f"key({col.name})", ctx)
                    val = compile_term(a.value, t.value, f"value({col.name})", ctx)
                else:
                    what = "frozen collection" if t.is_collection else "non collection"
                    raise InvalidRequest(
                        f"Invalid operation ({col.name}[{term_text(a.key)}] = {term_text(a.value)}) for {what} column {col.name}"
                    )
                self.ops.append(Op("set_elem", col, val, key))
                self.needs_read |= collection_ops.needs_read(self.ops[-1])
            elif isinstance(a, ast.SetField):
                if not isinstance(t, cqltypes.UserType):
                    raise InvalidRequest(f"Invalid operation ({col.name}.{a.field} = ?) for non-UDT column {col.name}")
                if a.field not in t.field_names:
                    raise InvalidRequest(f"UDT column {col.name} does not have a field named {a.field}")
                ftype = t.field_types[t.field_names.index(a.field)]
                self.ops.append(Op("set_field", col, compile_term(a.value, ftype, col.name, ctx), field=a.field))
                self.needs_read = True
        self._where(stmt.where, allow_slices=False)

    def _prepare_delete(self, stmt: ast.Delete) -> None:
        table, ctx = self.table, self.ctx
        for target in stmt.columns:
            col = column_of(table, target.column)
            if col.kind in (PARTITION_KEY, CLUSTERING):
                raise InvalidRequest(f"Invalid identifier {col.name} for deletion (should not be a PRIMARY KEY part)")
            if target.element is not None:
                t = col.type
                if cqltypes.is_list(t) and t.is_multicell:
                    key = compile_term(target.element, cqltypes.lookup_native("int"), f"idx({col.name})", ctx)
                elif isinstance(t, cqltypes.MapType) and t.is_multicell:
                    key = compile_term(target.element, t.key, f"key({col.name})", ctx)
                elif isinstance(t, cqltypes.SetType) and t.is_multicell:
                    key = compile_term(target.element, t.element, col.name, ctx)
                else:
                    raise InvalidRequest(f"Invalid deletion operation for non collection column {col.name}")
                self.ops.append(Op("del_elem", col, key=key))
                self.needs_read |= collection_ops.needs_read(self.ops[-1])
            elif target.field is not None:
                self.ops.append(Op("del_field", col, field=target.field))
                self.needs_read = True
            else:
                self.ops.append(Op("del", col))
        self.full_row_delete = not stmt.columns
        self._where(stmt.where, allow_slices=True)

    def _where(self, where: tuple, allow_slices: bool) -> None:
        table = self.table
        verb = self.kind.upper()
        self.restrictions = compile_key_restrictions(table, where, self.ctx, allow_slices, verb)
        touches_regular = any(op.column.kind != STATIC for op in self.ops) or (self.kind == "delete" and not self.ops)
        ck_given = [c.name for c in table.clustering if c.name in self.restrictions]
        self.static_only = bool(self.ops) and not touches_regular
        # Decided once the conditions are known: a condition on a regular column makes it a row update.
        self._static_with_clustering = self.static_only and bool(ck_given) and bool(table.clustering)
        missing = [c.name for c in table.clustering if c.name not in self.restrictions]
        # Clustering restrictions must be a prefix, the last of them possibly a slice.
        for i, c in enumerate(table.clustering):
            r = self.restrictions.get(c.name)
            if r is None:
                later = [d.name for d in table.clustering[i + 1 :] if d.name in self.restrictions]
                if later:
                    raise InvalidRequest(
                        f'PRIMARY KEY column "{later[0]}" cannot be restricted as preceding column "{c.name}" is not restricted'
                    )
                break
            if r.is_slice and i + 1 < len(table.clustering) and table.clustering[i + 1].name in self.restrictions:
                raise InvalidRequest(
                    f'Clustering column "{table.clustering[i + 1].name}" cannot be restricted (preceding column "{c.name}" is restricted by a non-EQ relation)'
                )
        if self.kind == "update" and missing and not self.static_only:
            raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")
        if self.kind == "delete" and (missing or any(r.is_slice for r in self.restrictions.values())):
            if self.ops and touches_regular and any(r.is_slice for r in self.restrictions.values()):
                raise InvalidRequest("Range deletions are not supported for specific columns")
            if self.ops and touches_regular:
                raise InvalidRequest(
                    "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to delete non static columns"
                )

    def _prepare_using(self, using: ast.Using) -> None:
        int_t = cqltypes.lookup_native("int")
        if using.ttl is not None:
            if self.kind == "delete":
                raise InvalidRequest("Cannot specify a TTL on DELETE statements")
            self.ttl = compile_term(using.ttl, int_t, "[ttl]", self.ctx)
        if using.timestamp is not None:
            self.timestamp = compile_term(using.timestamp, cqltypes.lookup_native("bigint"), "[timestamp]", self.ctx)

    def _prepare_conditions(self, stmt) -> None:
        table = self.table
        if isinstance(stmt, ast.Insert):
            self.if_not_exists = stmt.if_not_exists
        else:
            self.if_exists = stmt.if_exists
            for c in stmt.conditions:
                self.conditions.append(cond.Condition.prepare(table, c, self.ctx))
        self.is_conditional = self.if_exists or self.if_not_exists or bool(self.conditions)
        if self.static_only and any(c.column.kind != STATIC for c in self.conditions):
            self.static_only = False
            self._static_with_clustering = False
        if getattr(self, "_static_with_clustering", False):
            raise InvalidRequest(
                f"Invalid restrictions on clustering columns since the {self.kind.upper()} statement modifies only static columns"
            )
        if not self.is_conditional:
            return
        if table.is_counter:
            raise InvalidRequest("Conditional updates are not supported on counter tables")
        if self.timestamp is not None:
            raise InvalidRequest("Cannot provide custom timestamp for conditional updates")
        for r in self.restrictions.values():
            if r.in_ is not None or r.in_marker is not None or r.multi is not None:
                what = "updates" if self.kind != "delete" else "deletions"
                where = "partition key" if r.column.kind == PARTITION_KEY else "clustering key columns"
                raise InvalidRequest(f"IN on the {where} is not supported with conditional {what}")
            if r.is_slice:
                raise InvalidRequest(
                    "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to delete non static columns"
                )
        missing = [c.name for c in table.clustering if c.name not in self.restrictions]
        regular_cond = any(c.column.kind != STATIC for c in self.conditions)
        if (
            self.kind == "delete"
            and missing
            and (self.full_row_delete or any(op.column.kind != STATIC for op in self.ops))
        ):
            raise InvalidRequest(
                "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to delete non static columns"
            )
        if missing and (regular_cond or (self.if_exists and not self.static_only)):
            if self.kind == "delete":
                raise InvalidRequest(
                    "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF condition on non static columns"
                )
            raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")
        if self.conditions and self.static_only is False and missing and self.kind == "update":
            raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")

    # ------------------------------------------------------------ bind

    def keys(self, values: list) -> list[tuple[int, bytes]]:
        comps = [self.restrictions[c.name].values(values) for c in self.table.partition_key]
        return [partition_key(p) for p in product(comps)]

    def clusterings(self, values: list) -> list[tuple[bytes, list[bytes]]] | None:
        """Full clustering keys (bytes, components), or None when the statement names a prefix/slice."""
        table = self.table
        if not table.clustering or self.static_only:
            return [(b"", [])]
        prefixes = self._prefixes(values, stop_at_slice=False)
        if prefixes is None:
            return None
        return [(clustering_bytes(table, p), p) for p in prefixes]

    def _prefixes(self, values: list, stop_at_slice: bool) -> list[list[bytes]] | None:
        """Clustering prefixes named by equality/IN restrictions (multi-column IN gives whole tuples).
        None when a full key is asked for (stop_at_slice False) and a column is missing or sliced."""
        cols = self.table.clustering
        prefixes: list[list[bytes]] = [[]]
        i = 0
        while i < len(cols):
            r = self.restrictions.get(cols[i].name)
            if r is None or r.is_slice:
                return prefixes if stop_at_slice else None
            if r.multi is not None:
                tuples = r.multi.values(values)
                prefixes = [p + t for p in prefixes for t in tuples]
                i += len(r.multi.columns)
            else:
                prefixes = [p + [v] for p in prefixes for v in r.values(values)]
                i += 1
        return prefixes

    def range_bounds(self, values: list) -> list[tuple[bytes, bool, bytes, bool]]:
        """Clustering ranges a DELETE covers when it does not name full rows."""
        table = self.table
        prefixes = self._prefixes(values, stop_at_slice=True)
        last = None
        depth = len(prefixes[0]) if prefixes else 0
        if depth < len(table.clustering):
            c = table.clustering[depth]
            r = self.restrictions.get(c.name)
            if r is not None and r.is_slice:
                last = (c, r)
        out = []
        for p in prefixes:
            base = clustering_bytes(table, p)
            if last is None:
                out.append((base, True, base, True))
                continue
            c, r = last
            lo, lo_incl, hi, hi_incl = base, True, base, True
            desc = c.order == "desc"
            for op, bound in self._slice_bounds(c, r, values):
                bound = base + bound
                lower = op in (">", ">=") if not desc else op in ("<", "<=")
                if lower:
                    lo, lo_incl = bound, op in (">=", "<=")
                else:
                    hi, hi_incl = bound, op in (">=", "<=")
            out.append((lo, lo_incl, hi, hi_incl))
        return out

    @staticmethod
    def _slice_bounds(c, r: KeyRestriction, values: list):
        """(op, byte-comparable bound) for each bound of a single- or multi-column slice."""
        if r.multi_slice is not None:
            cols, ops = r.multi_slice
            for op, getter in ops.items():
                parts = []
                for col, v in zip(cols, getter(values), strict=True):
                    if v is None or v is UNSET:
                        raise InvalidRequest(f"Invalid null value in condition for column {col.name}")
                    parts.append(col.type.comparable_desc(v) if col.order == "desc" else col.type.comparable(v))
                yield op, b"".join(parts)
            return
        enc = c.type.comparable_desc if c.order == "desc" else c.type.comparable
        for op, getter in r.slice.items():
            v = getter(values)
            if v is None or v is UNSET:
                raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
            yield op, enc(v)

    def write_params(self, values: list, client_ts: int | None) -> tuple[int, int]:
        ts = None
        if self.timestamp is not None:
            raw = self.timestamp(values)
            if raw is None:
                raise InvalidRequest("Invalid null value of timestamp")
            if raw is not UNSET:
                ts = int.from_bytes(raw, "big", signed=True)
                if ts == -(1 << 63):
                    # Long.MIN_VALUE marks "never deleted" in deletion times: not a usable write time.
                    raise InvalidRequest(f"Timestamp {ts} is out of bound: the smallest 64-bit value is reserved")
        if ts is None:
            ts = client_ts if client_ts is not None else now_micros()
        ttl = self.table.options.get("default_time_to_live", 0) or 0
        if self.ttl is not None:
            raw = self.ttl(values)
            if raw is None:
                raise InvalidRequest("Invalid null value of TTL")
            if raw is not UNSET:
                ttl = int.from_bytes(raw, "big", signed=True)
                if ttl < 0:
                    raise InvalidRequest(f"A TTL must be greater or equal to 0, but was {ttl}")
                if ttl > MAX_TTL:
                    raise InvalidRequest(f"ttl is too large. requested ({ttl}) maximum ({MAX_TTL})")
        return ts, ttl

    def mutations(self, values: list, ts: int, ttl: int, current=None, keys=None, cks=None) -> list[Mutation]:
        """Build the mutations. `current(token, pk, ck) -> {column: bytes}` gives the values that
        read-before-write operations (collections, counters, arithmetic under IF) start from;
        `keys` and `cks` are `self.keys(values)` and `self.clusterings(values)` when the caller has them."""
        table = self.table
        now_s = int(time.time())
        expires = now_s + ttl if ttl else 0
        out = []
        if cks is None:
            cks = self.clusterings(values)
        for token, pk in keys if keys is not None else self.keys(values):
            m = Mutation(table.id_bytes, pk, token)
            if cks is None:
                # A DELETE of a clustering prefix or slice: range tombstones.
                if self.full_row_delete and not any(c.name in self.restrictions for c in table.clustering):
                    m.partition_deleted = ts
                else:
                    m.range_tombstones = [(lo, li, hi, hii, ts) for lo, li, hi, hii in self.range_bounds(values)]
                out.append(m)
                continue
            for ck, ck_values in cks:
                if self.kind == "delete" and self.full_row_delete:
                    if table.clustering:
                        m.rows.append((ck, [None, ts, {}, ck_values]))
                    else:
                        m.partition_deleted = ts
                    continue
                cur = current(token, pk, ck) if (self.needs_read and current is not None) else {}
                static_cells: dict = {}
                cells: dict = {}
                for op in self.ops:
                    target = static_cells if op.column.kind == STATIC else cells
                    apply_op(op, values, target, cur, ts, ttl, expires)
                if static_cells:
                    m.static = [None, None, static_cells, None]
                if not self.static_only and (cells or self.row_marker):
                    marker = (ts, ttl, expires) if self.row_marker else None
                    m.rows.append((ck, [marker, None, cells, ck_values]))
            out.append(m)
        return out


def apply_op(op: Op, values: list, cells: dict, cur: dict, ts: int, ttl: int, expires: int) -> None:
    col = op.column
    name = col.name
    t = col.type
    if t.is_collection and t.is_multicell:
        collection_ops.apply(op, values, cells, cur, ts, ttl, expires)
        return
    if op.kind == "del":
        cells[name] = (ts, None, 0, 0)
        return
    if op.kind == "set":
        v = op.value(values)
        if v is UNSET:
            return
        cells[name] = (ts, v, ttl, expires) if v is not None else (ts, None, 0, 0)
        return
    old_raw = cur.get(name)
    old = t.deserialize(old_raw) if old_raw is not None else None
    if op.kind in ("add", "sub"):
        v = op.value(values)
        if v is UNSET:
            return
        if v is None:
            if t.cql_name() == "counter":
                raise InvalidRequest("Invalid null value for counter increment/decrement")
            return
        new = combine(op.kind, t, old, v)
    elif op.kind == "set_field":
        v = op.value(values)
        if v is UNSET:
            return
        fields = list(old) if old is not None else [None] * len(t.field_names)
        fields += [None] * (len(t.field_names) - len(fields))
        i = t.field_names.index(op.field)
        fields[i] = None if v is None else t.field_types[i].deserialize(v)
        new = tuple(fields)
    elif op.kind == "del_field":
        if old is None:
            return
        fields = list(old) + [None] * (len(t.field_names) - len(old))
        fields[t.field_names.index(op.field)] = None
        new = tuple(fields)
    else:  # pragma: no cover - every Op kind is handled above
        raise AssertionError(op.kind)
    if new is None:
        cells[name] = (ts, None, 0, 0)
    else:
        cells[name] = (ts, t.serialize(new), ttl, expires)


def combine(kind: str, t, old, raw: bytes):
    """Counters (`c = c + n`) and, under IF only, arithmetic on numbers and text concatenation."""
    name = t.cql_name()
    if name == "counter":
        delta = int.from_bytes(raw, "big", signed=True)
        return (old or 0) + (delta if kind == "add" else -delta)
    # Arithmetic under IF on a plain column: null stays null (CASSANDRA-17857).
    if old is None:
        return None
    v = t.deserialize(raw)
    return old + v if kind == "add" else old - v  # `-` on text was refused when the statement was prepared
