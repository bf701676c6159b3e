"""Stopping and starting replica shards from CQL, so users can watch their application meet
Unavailable and timeouts: `UPDATE system_views.replica_shards SET alive = false WHERE shard = 1`."""

from __future__ import annotations

from cql_grammar import ast
from server import messages as msg
from server.dispatch import Result
from server.errors import InvalidRequest, Unauthorized
from server.statements.terms import BindContext, compile_term
from storage import cqltypes

ADMIN_KEYSPACE = "system_views"
ADMIN_TABLE = "replica_shards"


def is_admin(tree) -> bool:
    return isinstance(tree, (ast.Update, ast.Insert, ast.Delete)) and tree.table.keyspace == ADMIN_KEYSPACE


class ShardAdminStatement:
    """A prepared shard stop/start."""

    def __init__(self, shard, alive, ctx: BindContext) -> None:
        self.shard = shard
        self.alive = alive
        self.bind_specs = ctx.spec_list()
        self.pk_indexes: list[int] = []

    @classmethod
    def prepare(cls, tree) -> ShardAdminStatement:
        if not isinstance(tree, ast.Update) or tree.table.name != ADMIN_TABLE:
            raise Unauthorized(f"Modification on table {ADMIN_KEYSPACE}.{tree.table.name} is not allowed")
        ctx = BindContext(ADMIN_KEYSPACE, ADMIN_TABLE)
        if (
            len(tree.assignments) != 1
            or not isinstance(tree.assignments[0], ast.SetValue)
            or tree.assignments[0].column != "alive"
        ):
            raise InvalidRequest("Only 'alive' can be set in system_views.replica_shards")
        if len(tree.where) != 1 or tree.where[0].lhs != "shard" or tree.where[0].op != "=":
            raise InvalidRequest("system_views.replica_shards updates must name one shard: WHERE shard = n")
        shard = compile_term(tree.where[0].rhs, cqltypes.lookup_native("int"), "shard", ctx)
        alive = compile_term(tree.assignments[0].value, cqltypes.lookup_native("boolean"), "alive", ctx)
        return cls(shard, alive, ctx)

    async def execute(self, node, session, params) -> Result:
        values = node.bind_values(self, params)
        raw_shard, raw_alive = self.shard(values), self.alive(values)
        if raw_shard is None or raw_alive is None:
            raise InvalidRequest("shard and alive must not be null")
        shard = int.from_bytes(raw_shard, "big", signed=True)
        if not 0 <= shard < len(node.replicas.replicas):
            raise InvalidRequest(f"No replica shard {shard} (shards are 0..{len(node.replicas.replicas) - 1})")
        await node.set_shard_alive(shard, raw_alive != b"\x00")
        return Result(msg.VOID_BODY)
