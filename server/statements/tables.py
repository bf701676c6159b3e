"""Name resolution shared by statements: keyspace and table lookup, columns, clocks, key encoding."""

from __future__ import annotations

import itertools
import time

from cql_grammar import ast
from server.errors import InvalidRequest
from storage import cqltypes
from storage import token as tokens
from storage.schema import Schema, Table

_last_micros = 0


def now_micros() -> int:
    """Server write timestamp: microseconds, strictly increasing within the process."""
    global _last_micros
    t = time.time_ns() // 1000
    if t <= _last_micros:
        t = _last_micros + 1
    _last_micros = t
    return t


def keyspace_of(name: ast.TableName, current: str | None) -> str:
    ks = name.keyspace or current
    if ks is None:
        raise InvalidRequest("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
    return ks


def resolve_table(schema: Schema, name: ast.TableName, current: str | None) -> Table:
    ks_name = keyspace_of(name, current)
    ks = schema.keyspaces.get(ks_name)
    if ks is None:
        raise InvalidRequest(f"keyspace {ks_name} does not exist")
    table = ks.tables.get(name.name)
    if table is None:
        raise InvalidRequest(f"table {name.name} does not exist")
    return table


def column_of(table: Table, name: str):
    col = table.columns.get(name)
    if col is None:
        raise InvalidRequest(f"Undefined column name {name} in table {table.keyspace}.{table.name}")
    return col


def durations_refused(what: str, t) -> str:
    """Cassandra's text refusing `what` (slice restrictions, secondary indexes) on a type holding a duration."""
    if t.cql_name() == "duration":
        return f"{what} are not supported on duration columns"
    if isinstance(t, cqltypes.UserType):
        return f"{what} are not supported on UDTs containing durations"
    if isinstance(t, cqltypes.TupleType):
        return f"{what} are not supported on tuples containing durations"
    return f"{what} are not supported on collections containing durations"


MAX_KEY_LENGTH = 65535


def partition_key(components: list[bytes]) -> tuple[int, bytes]:
    for c in components:
        if len(c) > MAX_KEY_LENGTH:
            raise InvalidRequest(f"Key length of {len(c)} is longer than maximum of {MAX_KEY_LENGTH}")
    pk = tokens.partition_key_bytes(components)
    if len(pk) > MAX_KEY_LENGTH:  # a composite key, its parts each within the limit (Cassandra checks the whole)
        raise InvalidRequest(f"Key length of {len(pk)} is longer than maximum of {MAX_KEY_LENGTH}")
    return tokens.murmur3_token(pk), pk


def clustering_bytes(table: Table, values: list[bytes]) -> bytes:
    """Byte-comparable clustering key (or prefix) from serialized component values."""
    out = []
    for col, v in zip(table.clustering, values, strict=False):
        if len(v) > MAX_KEY_LENGTH:
            raise InvalidRequest(f"Key length of {len(v)} is longer than maximum of {MAX_KEY_LENGTH}")
        out.append(col.type.comparable_desc(v) if col.order == "desc" else col.type.comparable(v))
    return b"".join(out)


def product(lists: list[list[bytes]]) -> list[list[bytes]]:
    return [list(p) for p in itertools.product(*lists)]
