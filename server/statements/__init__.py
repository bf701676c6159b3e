"""Statements in Cassandra's three stages: the AST (cql_grammar.ast) is prepared against the schema
into an executable statement, which binds each request's values and runs."""
