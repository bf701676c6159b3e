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
        stmts = [ModificationStatement.prepare(node, s, keyspace) for s in tree.statements]
        ts = None
        if tree.using.ttl is not None:
            raise InvalidRequest("Global TTL on the BATCH statement is not supported.")
        ctx = BindContext("", "")
        if tree.using.timestamp is not None:
            ts = compile_term(tree.using.timestamp, cqltypes.lookup_native("bigint"), "[timestamp]", ctx)
        self = cls(tree.kind, stmts, ts)
        specs: dict[int, object] = {}
        for s in stmts:
            for i, spec in enumerate(s.bind_specs):
                specs.setdefault(i, spec)
            for i, spec in s.ctx.specs.items():
                specs[i] = spec
        for i, spec in ctx.specs.items():
            specs[i] = spec
        self.bind_specs = [specs[i] for i in sorted(specs)]
        self._validate()
        return self

    def _validate(self) -> None:
        for s in self.statements:
            if self.kind == "COUNTER" and not s.table.is_counter:
                raise InvalidRequest("Cannot include non-counter statement in a counter batch")
            if self.kind == "LOGGED" and s.table.is_counter:
                raise InvalidRequest("Cannot include a counter statement in a logged batch")
            if self.kind == "UNLOGGED" and s.table.is_counter:
                raise InvalidRequest("Counter and non-counter mutations cannot exist in the same batch")
            if s.is_conditional and s.timestamp is not None:
                raise InvalidRequest("Cannot provide custom timestamp for conditional BATCH")
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

    async def run(self, node, value_lists: list[list], params) -> Result:
        if not self.statements:
            return Result(msg.VOID_BODY)
        if any(s.is_conditional for s in self.statements):
            result = await node.lwt.cas_batch(self, value_lists, params)
            await node.group_commit.wait()
            await node.group_commit.wait()
            return result
        if params.consistency in (8, 9):
            raise InvalidRequest("You must use conditional updates for serializable writes")
        ts_default = params.timestamp if params.timestamp is not None else now_micros()
        writes = []
        for s, values in zip(self.statements, value_lists, strict=True):
            ts, ttl = s.write_params(values, ts_default)
            rf = node.rf(s.table.keyspace)
            current = None
            if s.needs_read:

                def current(token, pk, ck, _t=s.table, _rf=rf):
                    return node.read_current(_t, token, pk, ck, _rf)

            for mu in s.mutations(values, ts, ttl, current):
                writes.append((mu, rf))
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
