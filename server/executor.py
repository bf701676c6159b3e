"""From request to result: the statement cache (by query text and by prepared id), binding, and the
route of each statement kind — schema, reads, writes, Paxos — with Cassandra's consistency rules."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from cql_grammar import ast, parse
from cql_grammar.errors import CqlSyntaxError
from server import messages as msg
from server.dispatch import Result
from server.errors import InvalidRequest, SyntaxException, Unprepared, unavailable
from server.statements.access import AccessStatements
from server.statements.admin import ShardAdminStatement, is_admin
from server.statements.batch import BatchStatement
from server.statements.ddl import DDL
from server.statements.modification import ModificationStatement
from server.statements.select import SelectStatement
from storage.replicas import NotEnoughReplicas

SERIAL_CLS = (8, 9)
ACCESS_TYPES = (
    ast.CreateFunction,
    ast.DropFunction,
    ast.MaterializedViewStatement,
    ast.TriggerStatement,
    ast.RoleStatement,
    ast.GrantRole,
    ast.PermissionStatement,
    ast.ListRoles,
)


# Cassandra's text for an EXECUTE of an unknown id (ExecuteMessage).
UNPREPARED_EXECUTE = (
    "Prepared query with ID {} not found (either the query was not prepared on this host (maybe the host has "
    "been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)"
)


class Prepared:
    """A statement ready to bind: built once per (keyspace, text) and schema epoch."""

    __slots__ = ("text", "keyspace", "ast", "statement", "epoch", "id")

    def __init__(self, text: str, keyspace: str | None, tree, statement, epoch: int, id_: bytes) -> None:
        self.text = text
        self.keyspace = keyspace
        self.ast = tree
        self.statement = statement
        self.epoch = epoch
        self.id = id_


class Executor:
    def __init__(self, node) -> None:
        self.node = node
        self.ddl = DDL(node)
        self.access = AccessStatements(node)
        self.cache: OrderedDict[tuple, Prepared] = OrderedDict()
        self.prepared: dict[bytes, Prepared] = {}
        self.epoch = 0

    def invalidate(self) -> None:
        # Statements are re-prepared lazily against the new schema (same id), as Cassandra does.
        self.epoch += 1

    # ------------------------------------------------------------ building statements

    def _parse(self, text: str):
        try:
            return parse(text)
        except CqlSyntaxError as e:
            raise SyntaxException(e.message) from None

    def _build(self, tree, keyspace: str | None):
        node = self.node
        if is_admin(tree):
            return ShardAdminStatement.prepare(tree)
        if isinstance(tree, ast.Select):
            return SelectStatement.prepare(node, tree, keyspace)
        if isinstance(tree, (ast.Insert, ast.Update, ast.Delete)):
            return ModificationStatement.prepare(node, tree, keyspace)
        if isinstance(tree, ast.Batch):
            return BatchStatement.prepare(node, tree, keyspace)
        return None  # DDL, USE, DESCRIBE: executed from the tree

    def _get(self, session, text: str) -> Prepared:
        key = (session.keyspace, text)
        p = self.cache.get(key)
        if p is not None and p.epoch == self.epoch:
            self.cache.move_to_end(key)
            return p
        tree = p.ast if p is not None else self._parse(text)
        p = Prepared(text, session.keyspace, tree, self._build(tree, session.keyspace), self.epoch, b"")
        self.cache[key] = p
        if len(self.cache) > self.node.config.statement_cache_size:
            self.cache.popitem(last=False)
        return p

    @staticmethod
    def statement_id(keyspace: str | None, text: str) -> bytes:
        return hashlib.md5(((keyspace or "") + text).encode()).digest()

    # ------------------------------------------------------------ requests

    async def query(self, session, text: str, params) -> Result:
        p = self._get(session, text)
        return await self._run(session, p, params)

    def prepare(self, session, text: str) -> Result:
        tree = self._parse(text)
        stmt = self._build(tree, session.keyspace)
        id_ = self.statement_id(session.keyspace, text)
        self.prepared[id_] = Prepared(text, session.keyspace, tree, stmt, self.epoch, id_)
        binds = getattr(stmt, "bind_specs", [])
        specs = [msg.ColumnSpec(b.keyspace, b.table, b.name, b.type.option()) for b in binds]
        result_specs = None
        if isinstance(stmt, SelectStatement):
            result_specs = stmt.selection.specs
        return Result(msg.prepared_body(id_, specs, getattr(stmt, "pk_indexes", []), result_specs))

    async def execute(self, session, statement_id: bytes, params) -> Result:
        return await self._run(session, self.prepared_statement(statement_id, UNPREPARED_EXECUTE), params)

    def prepared_statement(self, statement_id: bytes, missing: str = "Prepared query with ID {} not found") -> Prepared:
        p = self.prepared.get(statement_id)
        if p is None:
            raise Unprepared(missing.format(statement_id.hex()), statement_id)
        if p.epoch != self.epoch:  # the schema changed since it was built
            p.statement = self._build(p.ast, p.keyspace)
            p.epoch = self.epoch
        return p

    async def batch(self, session, m: msg.BatchMessage) -> Result:
        return await BatchStatement.from_message(self.node, session, m)

    async def _run(self, session, p: Prepared, params) -> Result:
        stmt = p.statement
        node = self.node
        if stmt is None:
            tree = p.ast
            if isinstance(tree, ast.Describe):
                return node.describe(session, tree, params)
            if isinstance(tree, ACCESS_TYPES):
                return self.access.execute(session, tree)
            return self.ddl.execute(session, tree)
        if isinstance(stmt, SelectStatement):
            if params.consistency == 0:
                raise InvalidRequest("ANY ConsistencyLevel is only supported for writes")
            try:
                return await stmt.execute(node, session, params)
            except NotEnoughReplicas as e:
                raise unavailable(params.consistency, e.required, e.alive) from None
        if isinstance(stmt, ModificationStatement):
            return await self.modify(stmt, params)
        return await stmt.execute(node, session, params)

    async def modify(self, stmt: ModificationStatement, params) -> Result:
        node = self.node
        values = node.bind_values(stmt, params)
        if stmt.is_conditional:
            result = await node.lwt.cas(stmt, values, params)
            # One fsync for the whole transaction (promise, accept, commit), as for a plain write: in one
            # process every proposer dies with the replicas, so no unsynced promise can be relied upon.
            await node.group_commit.wait()
            return result
        if params.consistency in SERIAL_CLS:
            raise InvalidRequest("You must use conditional updates for serializable writes")
        ts, ttl = stmt.write_params(values, params.timestamp)
        table = stmt.table
        rf = node.rf(table.keyspace)
        required = node.consistency_count(table.keyspace, params.consistency, for_write=True)
        current = None
        if stmt.needs_read:

            def current(token, pk, ck):
                return node.read_current(table, token, pk, ck, rf)

        muts = stmt.mutations(values, ts, ttl, current)
        await node.write([(m, rf) for m in muts], required, params.consistency)
        return Result(msg.VOID_BODY)
