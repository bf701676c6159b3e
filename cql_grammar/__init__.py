"""cql_grammar: the CQL language front end of cqld.

Owns the CQL grammar (`cql.lark`, Lark LALR), the syntax tree node classes (`ast`), the tree builder
(`transformer`) and the entry points `parse(text) -> ast.Statement` and `parse_type(text) -> ast.TypeRef`
(`parser`), plus `errors.CqlSyntaxError`.  It resolves nothing against a schema and imports nothing from
the rest of the project.
"""

from cql_grammar.errors import CqlSyntaxError
from cql_grammar.parser import parse, parse_type

__all__ = ["CqlSyntaxError", "parse", "parse_type"]
