"""The network edge of cqld: frames, messages, connections, statements, system tables, the CLI.

It may import cql_grammar/, paxos/ and storage/; nothing below imports it.
"""
