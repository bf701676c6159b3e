"""Durable data of cqld: schema, byte-comparable keys, rows with timestamped cells and tombstones,
replica shards, Paxos state. Knows cells, rows, partitions and timestamps — never statements.
Imports nothing from server/, cql_grammar/ or paxos/.
"""
