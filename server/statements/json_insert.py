"""INSERT JSON: the JSON object's entries become the statement's column values, decoded per request."""

from __future__ import annotations

import json

from cql_grammar import ast
from server.errors import InvalidRequest
from server.statements.terms import compile_term
from server.wire import UNSET
from storage import cqltypes
from storage.cqltypes import MarshalError
from storage.schema import CLUSTERING, PARTITION_KEY


class JsonInsert:
    def __init__(self, stmt, tree: ast.Insert) -> None:
        self.stmt = stmt
        self.tree = tree

    def prepare(self) -> None:
        stmt, tree = self.stmt, self.tree
        table = stmt.table
        text = compile_term(tree.json, cqltypes.lookup_native("text"), "[json]", stmt.ctx)
        cache: dict[int, tuple[list, dict]] = {}

        def entries(values: list) -> dict:
            hit = cache.get(id(values))
            if hit is not None and hit[0] is values:
                return hit[1]
            raw = text(values)
            if raw is None or raw is UNSET:
                raise InvalidRequest("Got null for INSERT JSON values")
            source = raw.decode()
            try:
                obj = json.loads(source)
            except ValueError as e:
                raise InvalidRequest(f"Could not decode JSON string as a map: {e}. (String was: {source})") from None
            if not isinstance(obj, dict):
                raise InvalidRequest(f"Could not decode JSON string as a map: not an object. (String was: {source})")
            out = {}
            for key, value in obj.items():
                name = key[1:-1] if len(key) > 1 and key.startswith('"') and key.endswith('"') else key.lower()
                if name not in table.columns:
                    raise InvalidRequest(f"JSON values map contains unrecognized column: {name}")
                out[name] = value
            cache.clear()
            cache[id(values)] = (values, out)
            return out

        def getter(col):
            default = UNSET if tree.json_default_unset else None

            def get(values, _c=col):
                obj = entries(values)
                if _c.name not in obj:
                    return default
                try:
                    v = cqltypes.json_to_value(obj[_c.name], _c.type)
                except MarshalError as e:
                    raise InvalidRequest(f"Error decoding JSON value for {_c.name}: {e}") from None
                return None if v is None else _c.type.serialize(v)

            return get

        from server.statements.modification import KeyRestriction, Op

        for col in table.columns.values():
            if col.kind in (PARTITION_KEY, CLUSTERING):
                stmt.restrictions[col.name] = KeyRestriction(col, eq=getter(col))
            elif col.type.cql_name() != "counter":
                stmt.ops.append(Op("set", col, getter(col)))
