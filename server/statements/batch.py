"""BATCH: every statement validated and built before anything is applied, then all mutations in one
atomic engine write (so a reader never sees part of a batch, across partitions and tables too)."""

from __future__ import annotations

from cql_grammar import ast
from server import messages as msg
from server.dispatch import Result
from server.errors import InvalidRequest
from server.statements.modification import ModificationStatement
from server.statements.tables import now_micros
from server.statements.terms import BindContext, compile_term
from storage import cqltypes
from storage.mutation import Mutation
from storage.rows import merge_rows

KINDS = {0: "LOGGED", 1: "UNLOGGED", 2: "COUNTER"}


class BatchStatement:
    def __init__(self, kind: str, statements: list[ModificationStatement], timestamp=None) -> None:
        self.kind = kind
        self.statements = statements
        self.timestamp = timestamp
        self.bind_specs: list = []
        self.pk_indexes: list[int] = []

    @classmethod
    def prepare(cls, node, tree: ast.Batch, keyspace: str | None) -> BatchStatement:
        stmts = [ModificationStatement.prepare(node, s, keyspace, in_batch=True) for s in tree.statements]
        ts = None
        if tree.using.ttl is not None:
            raise InvalidRequest("Global TTL on the BATCH statement is not supported.")
        ctx = BindContext("", "")
        if tree.using.timestamp is not None:
            ts = compile_term(tree.using.timestamp, cqltypes.lookup_native("bigint"), "[timestamp]", ctx)
        self = cls(tree.kind, stmts, ts)
        specs: dict[int, object] = {}
        for s in stmts:
            specs.update(s.ctx.specs)
        specs.update(ctx.specs)
        if specs and sorted(specs) != list(range(max(specs) + 1)):
            raise InvalidRequest("Bind markers are not supported in this position")
        self.bind_specs = [specs[i] for i in sorted(specs)]
        self._validate()
        return self

    def _validate(self) -> None:
        for s in self.statements:
            if self.kind == "COUNTER" and not s.table.is_counter:
                raise InvalidRequest("Cannot include non-counter statement in a counter batch")
            if self.kind == "LOGGED" and s.table.is_counter:
                raise InvalidRequest("Cannot include a counter statement in a logged batch")
        if self.kind == "UNLOGGED" and len({s.table.is_counter for s in self.statements}) > 1:
            raise InvalidRequest("Counter and non-counter mutations cannot exist in the same batch")
        if any(s.is_conditional for s in self.statements) and self.timestamp is not None:
            raise InvalidRequest("Cannot provide custom timestamp for conditional BATCH")

    @classmethod
    async def from_message(cls, node, session, m: msg.BatchMessage) -> Result:
        stmts = []
        value_lists = []
        for e in m.entries:
            if e.query is not None:
                p = node.executor._get(session, e.query)
            else:
                p = node.executor.prepared_statement(e.statement_id)
            if not isinstance(p.statement, ModificationStatement):
                raise InvalidRequest(
                    "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed."
                )
            stmts.append(p.statement)
            value_lists.append(e.values)
        self = cls(KINDS[m.kind], stmts)
        self._validate()
        params = msg.QueryParams(
            consistency=m.consistency, serial_consistency=m.serial_consistency, timestamp=m.timestamp
        )
        return await self.run(node, value_lists, params)

    async def execute(self, node, session, params) -> Result:
        values = node.bind_values(self, params)
        if self.timestamp is not None:
            raw = self.timestamp(values)
            if raw is not None:
                params = msg.QueryParams(
                    consistency=params.consistency,
                    serial_consistency=params.serial_consistency,
                    timestamp=int.from_bytes(raw, "big", signed=True),
                )
        return await self.run(node, [values] * len(self.statements), params)

    def _combine(self, node, value_lists: list[list], ts_default: int) -> list[tuple[Mutation, int]]:
        """Build the batch's mutations, one per partition. Statements that read before writing
        (collections, counters) see what earlier statements of the batch wrote, and their cells replace
        earlier ones; plain cells at the same timestamp reconcile as Cassandra's do."""
        combined: dict[tuple, tuple[Mutation, int]] = {}
        seen: dict[tuple, dict] = {}  # (table_id, pk, ck) -> current values as this batch leaves them
        for s, values in zip(self.statements, value_lists, strict=True):
            ts, ttl = s.write_params(values, ts_default)
            rf = node.rf(s.table.keyspace)
            rmw = {op.column.name for op in s.ops if op.kind not in ("set", "del")}

            def current(token, pk, ck, _t=s.table, _rf=rf):
                key = (_t.id_bytes, pk, ck)
                if key not in seen:
                    seen[key] = dict(node.read_current(_t, token, pk, ck, _rf))
                return seen[key]

            for mu in s.mutations(values, ts, ttl, current if s.needs_read else None):
                key = (mu.table_id, mu.pk)
                if key not in combined:
                    combined[key] = (Mutation(mu.table_id, mu.pk, mu.token), rf)
                merge_into(combined[key][0], mu, rmw)
                for ck, row in mu.rows:
                    if (mu.table_id, mu.pk, ck) in seen:
                        seen[(mu.table_id, mu.pk, ck)].update({c: cell[1] for c, cell in row[2].items()})
                if mu.static is not None:
                    for (tid, pk, _ck), vals in seen.items():
                        if tid == mu.table_id and pk == mu.pk:
                            vals.update({c: cell[1] for c, cell in mu.static[2].items()})
        return list(combined.values())

    async def run(self, node, value_lists: list[list], params) -> Result:
        if not self.statements:
            return Result(msg.VOID_BODY)
        if any(s.is_conditional for s in self.statements):
            result = await node.lwt.cas_batch(self, value_lists, params)
            await node.group_commit.wait()
            return result
        if params.consistency in (8, 9):
            raise InvalidRequest("You must use conditional updates for serializable writes")
        ts_default = params.timestamp if params.timestamp is not None else now_micros()
        writes = self._combine(node, value_lists, ts_default)
        warnings = None
        size = sum(len(mu.to_bytes()) for mu, _ in writes)
        warn = node.config.batch_size_warn_threshold_kb * 1024
        fail = node.config.batch_size_fail_threshold_kb * 1024
        if size > fail:
            raise InvalidRequest("Batch too large")
        if size > warn and len({(mu.table_id, mu.pk) for mu, _ in writes}) > 1:
            tables = sorted({f"{s.table.keyspace}.{s.table.name}" for s in self.statements})
            warnings = [
                f"Batch for [{', '.join(tables)}] is of size {size}, exceeding specified threshold of {warn} by {size - warn}."
            ]
        required = max(
            node.consistency_count(s.table.keyspace, params.consistency, for_write=True) for s in self.statements
        )
        await node.write(writes, required, params.consistency)
        return Result(msg.VOID_BODY, warnings)


def merge_into(target: Mutation, m: Mutation, override: set[str]) -> None:
    """Fold m into target (same partition). Cells of `override` columns replace what is there."""
    if m.partition_deleted is not None:
        target.partition_deleted = max(target.partition_deleted or m.partition_deleted, m.partition_deleted)
    target.range_tombstones.extend(m.range_tombstones)
    if m.static is not None:
        target.static = _merge_row(target.static, m.static, override)
    rows = dict(target.rows)
    for ck, row in m.rows:
        rows[ck] = _merge_row(rows.get(ck), row, override)
    target.rows = list(rows.items())


def _merge_row(old, new, override: set[str]):
    if old is None:
        return [new[0], new[1], dict(new[2]), new[3]]
    merged = merge_rows(old, new)
    for col, cell in new[2].items():
        if col in override:
            merged[2][col] = cell
    return merged
