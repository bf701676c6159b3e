"""The system keyspaces clients read: system.local/peers and the system_schema tables, generated from
the live schema on every read so they can never disagree with it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from cql_grammar import ast
from server.errors import InvalidRequest
from server.statements.tables import clustering_bytes, partition_key
from storage import cqltypes
from storage.schema import CLUSTERING, PARTITION_KEY, REGULAR, Column, Table

# keyspace -> table -> (partition key, clustering, {column: type})
DEFINITIONS: dict[str, dict[str, tuple[list[str], list[str], dict[str, str]]]] = {
    "system": {
        "local": (
            ["key"],
            [],
            {
                "key": "text",
                "bootstrapped": "text",
                "broadcast_address": "inet",
                "broadcast_port": "int",
                "cluster_name": "text",
                "cql_version": "text",
                "data_center": "text",
                "gossip_generation": "int",
                "host_id": "uuid",
                "listen_address": "inet",
                "listen_port": "int",
                "native_protocol_version": "text",
                "partitioner": "text",
                "rack": "text",
                "release_version": "text",
                "rpc_address": "inet",
                "rpc_port": "int",
                "schema_version": "uuid",
                "tokens": "set<text>",
                "truncated_at": "map<uuid, blob>",
            },
        ),
        "IndexInfo": (["table_name"], ["index_name"], {"table_name": "text", "index_name": "text", "value": "blob"}),
        "peers": (
            ["peer"],
            [],
            {
                "peer": "inet",
                "data_center": "text",
                "host_id": "uuid",
                "preferred_ip": "inet",
                "rack": "text",
                "release_version": "text",
                "rpc_address": "inet",
                "schema_version": "uuid",
                "tokens": "set<text>",
            },
        ),
        "peers_v2": (
            ["peer"],
            ["peer_port"],
            {
                "peer": "inet",
                "peer_port": "int",
                "data_center": "text",
                "host_id": "uuid",
                "native_address": "inet",
                "native_port": "int",
                "preferred_ip": "inet",
                "preferred_port": "int",
                "rack": "text",
                "release_version": "text",
                "schema_version": "uuid",
                "tokens": "set<text>",
            },
        ),
    },
    "system_schema": {
        "keyspaces": (
            ["keyspace_name"],
            [],
            {"keyspace_name": "text", "durable_writes": "boolean", "replication": "frozen<map<text, text>>"},
        ),
        "tables": (
            ["keyspace_name"],
            ["table_name"],
            {
                "keyspace_name": "text",
                "table_name": "text",
                "additional_write_policy": "text",
                "bloom_filter_fp_chance": "double",
                "caching": "frozen<map<text, text>>",
                "cdc": "boolean",
                "comment": "text",
                "compaction": "frozen<map<text, text>>",
                "compression": "frozen<map<text, text>>",
                "crc_check_chance": "double",
                "default_time_to_live": "int",
                "extensions": "frozen<map<text, blob>>",
                "flags": "frozen<set<text>>",
                "gc_grace_seconds": "int",
                "id": "uuid",
                "max_index_interval": "int",
                "memtable_flush_period_in_ms": "int",
                "min_index_interval": "int",
                "read_repair": "text",
                "speculative_retry": "text",
            },
        ),
        "columns": (
            ["keyspace_name"],
            ["table_name", "column_name"],
            {
                "keyspace_name": "text",
                "table_name": "text",
                "column_name": "text",
                "clustering_order": "text",
                "column_name_bytes": "blob",
                "kind": "text",
                "position": "int",
                "type": "text",
            },
        ),
        "dropped_columns": (
            ["keyspace_name"],
            ["table_name", "column_name"],
            {
                "keyspace_name": "text",
                "table_name": "text",
                "column_name": "text",
                "dropped_time": "timestamp",
                "kind": "text",
                "type": "text",
            },
        ),
        "types": (
            ["keyspace_name"],
            ["type_name"],
            {
                "keyspace_name": "text",
                "type_name": "text",
                "field_names": "frozen<list<text>>",
                "field_types": "frozen<list<text>>",
            },
        ),
        "functions": (
            ["keyspace_name"],
            ["function_name", "argument_types"],
            {
                "keyspace_name": "text",
                "function_name": "text",
                "argument_types": "frozen<list<text>>",
                "argument_names": "frozen<list<text>>",
                "body": "text",
                "called_on_null_input": "boolean",
                "language": "text",
                "return_type": "text",
            },
        ),
        "aggregates": (
            ["keyspace_name"],
            ["aggregate_name", "argument_types"],
            {
                "keyspace_name": "text",
                "aggregate_name": "text",
                "argument_types": "frozen<list<text>>",
                "final_func": "text",
                "initcond": "text",
                "return_type": "text",
                "state_func": "text",
                "state_type": "text",
            },
        ),
        "triggers": (
            ["keyspace_name"],
            ["table_name", "trigger_name"],
            {
                "keyspace_name": "text",
                "table_name": "text",
                "trigger_name": "text",
                "options": "frozen<map<text, text>>",
            },
        ),
        "indexes": (
            ["keyspace_name"],
            ["table_name", "index_name"],
            {
                "keyspace_name": "text",
                "table_name": "text",
                "index_name": "text",
                "kind": "text",
                "options": "frozen<map<text, text>>",
            },
        ),
        "views": (
            ["keyspace_name"],
            ["view_name"],
            {
                "keyspace_name": "text",
                "view_name": "text",
                "base_table_id": "uuid",
                "base_table_name": "text",
                "id": "uuid",
                "include_all_columns": "boolean",
                "where_clause": "text",
            },
        ),
    },
    "system_views": {
        "replica_shards": (["shard"], [], {"shard": "int", "alive": "boolean", "last_token": "bigint"}),
        "paxos_state": (["name"], [], {"name": "text", "value": "bigint"}),
        "group_commit": (["name"], [], {"name": "text", "value": "bigint"}),
        "tombstone_gc": (["name"], [], {"name": "text", "value": "bigint"}),
        "lwt_stats": (["name"], [], {"name": "text", "value": "bigint"}),
    },
    "system_auth": {
        "roles": (
            ["role"],
            [],
            {
                "role": "text",
                "can_login": "boolean",
                "is_superuser": "boolean",
                "member_of": "set<text>",
                "salted_hash": "text",
            },
        ),
    },
    "system_distributed": {
        "repair_history": (
            ["keyspace_name", "columnfamily_name"],
            ["id"],
            {"keyspace_name": "text", "columnfamily_name": "text", "id": "timeuuid", "status": "text"},
        ),
    },
    "system_traces": {
        "sessions": (
            ["session_id"],
            [],
            {
                "session_id": "uuid",
                "client": "inet",
                "command": "text",
                "coordinator": "inet",
                "duration": "int",
                "request": "text",
                "started_at": "timestamp",
                "parameters": "map<text, text>",
            },
        ),
        "events": (
            ["session_id"],
            ["event_id"],
            {
                "session_id": "uuid",
                "event_id": "timeuuid",
                "activity": "text",
                "source": "inet",
                "source_elapsed": "int",
                "thread": "text",
            },
        ),
    },
}

SYSTEM_REPLICATION = {
    "system": {"class": "org.apache.cassandra.locator.LocalStrategy"},
    "system_schema": {"class": "org.apache.cassandra.locator.LocalStrategy"},
    "system_views": {"class": "org.apache.cassandra.locator.LocalStrategy"},
    "system_auth": {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"},
    "system_distributed": {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "3"},
    "system_traces": {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "2"},
}

RELEASE_VERSION = "5.0.0-cqld"
CQL_VERSION = "3.4.7"


def _make_table(keyspace: str, name: str, pk: list[str], ck: list[str], cols: dict[str, str]) -> Table:
    columns = {}
    for cname, tname in cols.items():
        t = cqltypes.parse_type_string(tname, None, keyspace)
        if cname in pk:
            columns[cname] = Column(cname, t, PARTITION_KEY, pk.index(cname))
        elif cname in ck:
            columns[cname] = Column(cname, t, CLUSTERING, ck.index(cname), "asc")
        else:
            columns[cname] = Column(cname, t, REGULAR)
    return Table(keyspace, name, uuid.uuid3(uuid.NAMESPACE_OID, f"{keyspace}.{name}"), columns)


class SystemTables:
    def __init__(self, node) -> None:
        self.node = node
        self.keyspaces: dict[str, dict[str, Table]] = {}
        for ks, tables in DEFINITIONS.items():
            self.keyspaces[ks] = {}
            for name, (pk, ck, cols) in tables.items():
                t = _make_table(ks, name, pk, ck, cols)
                t.virtual_rows = self._rows_function(ks, name)
                self.keyspaces[ks][name] = t
        self.host_id = node.host_id
        self.started = int(time.time())

    def resolve(self, name: ast.TableName, current: str | None) -> Table | None:
        ks = name.keyspace or current
        tables = self.keyspaces.get(ks)
        if tables is None:
            return None
        t = tables.get(name.name)
        if t is None:
            raise InvalidRequest(f"table {name.name} does not exist")
        return t

    def _rows_function(self, ks: str, name: str):
        gen = getattr(self, f"_{ks}_{name}", None)

        def rows(node, eq: dict) -> Iterator:
            table = self.keyspaces[ks][name]
            dicts = gen() if gen is not None else []
            return self._partitions(table, dicts, eq)

        return rows

    def _partitions(self, table: Table, dicts: list[dict], eq: dict[str, bytes | list[bytes]]):
        parts: dict[tuple, list] = {}
        for d in dicts:
            enc = {
                k: (None if v is None else table.columns[k].type.serialize(v))
                for k, v in d.items()
                if k in table.columns
            }
            # eq maps a key column to its value, or to a list of values (an IN restriction)
            if any((enc.get(k) not in v) if isinstance(v, list) else (enc.get(k) != v) for k, v in eq.items()):
                continue
            pk_vals = [enc[c.name] for c in table.partition_key]
            ck_vals = [enc[c.name] for c in table.clustering]
            token, pk = partition_key(pk_vals)
            cells = {k: (0, v, 0, 0) for k, v in enc.items() if v is not None and k not in table.primary_key_names}
            row = [(0, 0, 0), None, cells, ck_vals]
            parts.setdefault((token, pk, tuple(pk_vals)), []).append((clustering_bytes(table, ck_vals), row))
        for (token, pk, pk_vals), rows in sorted(parts.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            rows.sort(key=lambda r: r[0])
            yield token, pk, list(pk_vals), rows

    # ------------------------------------------------------------ generators

    def all_keyspaces(self):
        """(name, replication, durable_writes, tables, types) of system and user keyspaces."""
        for ks, tables in self.keyspaces.items():
            yield ks, SYSTEM_REPLICATION[ks], True, tables, {}
        for ks in self.node.schema.keyspaces.values():
            yield ks.name, ks.replication, ks.durable_writes, ks.tables, ks.types

    def _system_local(self) -> list[dict]:
        cfg = self.node.config
        addr = self.node.advertised_address()
        return [
            {
                "key": "local",
                "bootstrapped": "COMPLETED",
                "broadcast_address": addr,
                "broadcast_port": 7000,
                "cluster_name": cfg.cluster_name,
                "cql_version": CQL_VERSION,
                "data_center": cfg.datacenter,
                "gossip_generation": self.started,
                "host_id": self.host_id,
                "listen_address": addr,
                "listen_port": 7000,
                "native_protocol_version": "4",
                "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
                "rack": cfg.rack,
                "release_version": RELEASE_VERSION,
                "rpc_address": addr,
                "rpc_port": self.node.port,
                "schema_version": self.node.schema.version,
                "tokens": ["-9223372036854775808"],
                "truncated_at": None,
            }
        ]

    def _system_auth_roles(self) -> list[dict]:
        return [
            {"role": name, "can_login": r["login"], "is_superuser": r["super"], "member_of": list(r["member_of"])}
            for name, r in self.node.schema.roles.items()
        ]

    def _system_views_replica_shards(self) -> list[dict]:
        rs = self.node.replicas
        return [{"shard": r.shard, "alive": r.alive, "last_token": rs.ring[r.shard]} for r in rs.replicas]

    def _system_views_group_commit(self) -> list[dict]:
        gc = self.node.group_commit
        return [{"name": "fsyncs", "value": gc.syncs}, {"name": "acknowledgements_waiting", "value": gc.waits}]

    def _system_views_lwt_stats(self) -> list[dict]:
        return [{"name": k, "value": v} for k, v in self.node.lwt.stats().items()]

    def _system_views_tombstone_gc(self) -> list[dict]:
        sw = getattr(self.node, "sweeper", None)
        return [
            {"name": "rows_rewritten", "value": sw.rewritten if sw else 0},
            {"name": "rows_removed", "value": sw.deleted if sw else 0},
        ]

    def _system_views_paxos_state(self) -> list[dict]:
        partitions, size = self.node.lwt.state_size()
        return [{"name": "partitions_with_state", "value": partitions}, {"name": "bytes", "value": size}]

    def _system_IndexInfo(self) -> list[dict]:
        # Cassandra lists built indexes here, keyed by keyspace (its column is named table_name).
        out = []
        for ks, _r, _d, tables, _ty in self.all_keyspaces():
            for t in tables.values():
                out.extend({"table_name": ks, "index_name": name, "value": None} for name in t.indexes)
        return out

    def _system_schema_keyspaces(self) -> list[dict]:
        return [
            {"keyspace_name": n, "durable_writes": d, "replication": dict(r)}
            for n, r, d, _t, _ty in self.all_keyspaces()
        ]

    def _system_schema_tables(self) -> list[dict]:
        out = []
        for ks, _r, _d, tables, _ty in self.all_keyspaces():
            for t in tables.values():
                row = {"keyspace_name": ks, "table_name": t.name, "flags": ["compound"], "id": t.id}
                for k, v in t.options.items():
                    row[k] = v
                out.append(row)
        return out

    def _system_schema_columns(self) -> list[dict]:
        out = []
        for ks, _r, _d, tables, _ty in self.all_keyspaces():
            for t in tables.values():
                for c in t.columns.values():
                    out.append(
                        {
                            "keyspace_name": ks,
                            "table_name": t.name,
                            "column_name": c.name,
                            "clustering_order": c.order,
                            "column_name_bytes": c.name.encode(),
                            "kind": c.kind,
                            "position": c.position,
                            "type": c.type.cql_name(),
                        }
                    )
        return out

    def _system_schema_dropped_columns(self) -> list[dict]:
        out = []
        for ks, _r, _d, tables, _ty in self.all_keyspaces():
            for t in tables.values():
                for name, (type_, at) in t.dropped.items():
                    out.append(
                        {
                            "keyspace_name": ks,
                            "table_name": t.name,
                            "column_name": name,
                            "dropped_time": at // 1000,
                            "kind": "regular",
                            "type": type_,
                        }
                    )
        return out

    def _system_schema_types(self) -> list[dict]:
        out = []
        for ks, _r, _d, _t, types in self.all_keyspaces():
            for ut in types.values():
                out.append(
                    {
                        "keyspace_name": ks,
                        "type_name": ut.name,
                        "field_names": list(ut.field_names),
                        "field_types": [ft.cql_name() for ft in ut.field_types],
                    }
                )
        return out

    def _system_schema_indexes(self) -> list[dict]:
        out = []
        for ks, _r, _d, tables, _ty in self.all_keyspaces():
            for t in tables.values():
                for name, idx in t.indexes.items():
                    target = idx["column"] if idx["target"] == "values" else f"{idx['target']}({idx['column']})"
                    options = {"target": target}
                    kind = "COMPOSITES"
                    if idx.get("class"):
                        options["class_name"] = idx["class"]
                        kind = "CUSTOM"
                    out.append(
                        {
                            "keyspace_name": ks,
                            "table_name": t.name,
                            "index_name": name,
                            "kind": kind,
                            "options": options,
                        }
                    )
        return out
