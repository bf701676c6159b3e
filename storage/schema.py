"""Keyspaces, tables, columns and user types — the live schema — and its durable form.

The schema is kept as one JSON document in the engine (types by their CQL names), rewritten on
every change together with a fresh schema version, so a restart finds exactly what was acknowledged.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from storage import cqltypes
from storage.engine import Engine

SCHEMA_KEY = b"s"

PARTITION_KEY = "partition_key"
CLUSTERING = "clustering"
STATIC = "static"
REGULAR = "regular"

DEFAULT_TABLE_OPTIONS: dict[str, Any] = {
    "additional_write_policy": "99p",
    "bloom_filter_fp_chance": 0.01,
    "caching": {"keys": "ALL", "rows_per_partition": "NONE"},
    "cdc": False,
    "comment": "",
    "compaction": {
        "class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        "max_threshold": "32",
        "min_threshold": "4",
    },
    "compression": {"chunk_length_in_kb": "16", "class": "org.apache.cassandra.io.compress.LZ4Compressor"},
    "crc_check_chance": 1.0,
    "default_time_to_live": 0,
    "extensions": {},
    "gc_grace_seconds": 864000,
    "max_index_interval": 2048,
    "memtable_flush_period_in_ms": 0,
    "min_index_interval": 128,
    "read_repair": "BLOCKING",
    "speculative_retry": "99p",
}


@dataclass(slots=True)
class Column:
    name: str
    type: Any  # cqltypes type object
    kind: str
    position: int = -1  # index within the partition key or the clustering key, else -1
    order: str = "none"  # 'asc' / 'desc' for clustering columns


@dataclass
class Table:
    keyspace: str
    name: str
    id: uuid.UUID
    columns: dict[str, Column]
    options: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TABLE_OPTIONS))
    indexes: dict[str, dict] = field(default_factory=dict)  # name -> {'column', 'target', 'kind', 'class'}
    dropped: dict[str, tuple[str, int]] = field(default_factory=dict)  # column -> (type, dropped_at_us)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        cols = self.columns.values()
        self.partition_key = sorted((c for c in cols if c.kind == PARTITION_KEY), key=lambda c: c.position)
        self.clustering = sorted((c for c in cols if c.kind == CLUSTERING), key=lambda c: c.position)
        self.statics = sorted((c for c in cols if c.kind == STATIC), key=lambda c: c.name)
        self.regulars = sorted((c for c in cols if c.kind == REGULAR), key=lambda c: c.name)
        # SELECT * order: partition key, clustering, then statics and regulars alphabetically.
        self.star = self.partition_key + self.clustering + self.statics + self.regulars
        self.primary_key_names = {c.name for c in self.partition_key + self.clustering}
        self.is_counter = any(c.type.cql_name() == "counter" for c in cols)
        self.id_bytes = self.id.bytes

    @property
    def has_statics(self) -> bool:
        return bool(self.statics)


def without_dropped(table: Table, header, rows):
    """(header, rows) of one partition with the cells of dropped columns left out: a cell written at or
    before its column's drop time stays invisible even after a column of that name is added again, and
    cells of columns the table no longer has are never shown. No copy when nothing was ever dropped."""
    dropped = table.dropped
    if not dropped:
        return header, rows
    columns = table.columns

    def keep(row):
        if row is None:
            return row
        cells = row[2]
        for name, cell in cells.items():
            col = name.split("\x00", 1)[0]  # a collection element belongs to its column
            d = dropped.get(col)
            if col not in columns or (d is not None and cell[0] <= d[1]):
                break
        else:
            return row
        kept = {}
        for name, cell in cells.items():
            col = name.split("\x00", 1)[0]
            d = dropped.get(col)
            if col in columns and (d is None or cell[0] > d[1]):
                kept[name] = cell
        return [row[0], row[1], kept, row[3]]

    if header and header[1] is not None:
        header = [header[0], keep(header[1]), header[2]]
    return header, [(ck, keep(row)) for ck, row in rows]


@dataclass
class Keyspace:
    name: str
    replication: dict[str, str]
    durable_writes: bool = True
    tables: dict[str, Table] = field(default_factory=dict)
    types: dict[str, Any] = field(default_factory=dict)  # name -> cqltypes user type, in creation order

    def replication_factor(self) -> int:
        cls = self.replication.get("class", "")
        if cls.endswith("SimpleStrategy"):
            return int(self.replication.get("replication_factor", "1"))
        total = 0
        for k, v in self.replication.items():
            if k not in ("class", "replication_factor"):
                try:
                    total += int(v)
                except ValueError:
                    pass
        return total or int(self.replication.get("replication_factor", "1") or 1)


class Schema:
    def __init__(self) -> None:
        self.keyspaces: dict[str, Keyspace] = {}
        # Roles of CassandraRoleManager: name -> {"super", "login", "member_of": [...]}.
        self.roles: dict[str, dict] = {"cassandra": {"super": True, "login": True, "member_of": []}}
        self.version = uuid.uuid4()

    def udt_lookup(self, keyspace: str, name: str):
        ks = self.keyspaces.get(keyspace)
        return None if ks is None else ks.types.get(name)

    def table(self, keyspace: str, name: str) -> Table | None:
        ks = self.keyspaces.get(keyspace)
        return None if ks is None else ks.tables.get(name)

    def table_by_id(self, table_id: bytes) -> Table | None:
        for ks in self.keyspaces.values():
            for t in ks.tables.values():
                if t.id_bytes == table_id:
                    return t
        return None

    def bump(self) -> None:
        self.version = uuid.uuid4()

    # ------------------------------------------------------------ durable form

    def to_json(self) -> str:
        out = {"version": str(self.version), "keyspaces": [], "roles": self.roles}
        for ks in self.keyspaces.values():
            out["keyspaces"].append(
                {
                    "name": ks.name,
                    "replication": ks.replication,
                    "durable_writes": ks.durable_writes,
                    "types": [
                        {
                            "name": t.name,
                            "fields": list(t.field_names),
                            "types": [ft.cql_name() for ft in t.field_types],
                        }
                        for t in ks.types.values()
                    ],
                    "tables": [
                        {
                            "name": t.name,
                            "id": str(t.id),
                            "columns": [
                                [c.name, c.type.cql_name(), c.kind, c.position, c.order] for c in t.columns.values()
                            ],
                            "options": t.options,
                            "indexes": t.indexes,
                            "dropped": t.dropped,
                        }
                        for t in ks.tables.values()
                    ],
                }
            )
        return json.dumps(out)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        doc = json.loads(text)
        schema = cls()
        schema.version = uuid.UUID(doc["version"])
        schema.roles = doc.get("roles", schema.roles)
        for k in doc["keyspaces"]:
            ks = Keyspace(k["name"], k["replication"], k["durable_writes"])
            schema.keyspaces[ks.name] = ks
            for t in k["types"]:
                field_types = [cqltypes.parse_type_string(s, schema.udt_lookup, ks.name) for s in t["types"]]
                ks.types[t["name"]] = cqltypes.UserType(ks.name, t["name"], list(t["fields"]), field_types)
            for t in k["tables"]:
                columns = {
                    name: Column(name, cqltypes.parse_type_string(type_, schema.udt_lookup, ks.name), kind, pos, order)
                    for name, type_, kind, pos, order in t["columns"]
                }
                table = Table(ks.name, t["name"], uuid.UUID(t["id"]), columns, t["options"], t["indexes"])
                table.dropped = {k2: tuple(v) for k2, v in t.get("dropped", {}).items()}
                ks.tables[table.name] = table
        return schema

    def save(self, engine: Engine) -> None:
        engine.put(SCHEMA_KEY, self.to_json().encode())

    @classmethod
    def load(cls, engine: Engine) -> Schema:
        raw = engine.get(SCHEMA_KEY)
        return cls() if raw is None else cls.from_json(raw.decode())
