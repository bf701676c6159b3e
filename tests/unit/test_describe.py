"""Server-side DESCRIBE: result shapes, ordering, exact create statements and error texts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from cql_grammar import parse
from server.describe import describe, java_double, java_hashmap_order
from server.errors import InvalidRequest
from storage.cqltypes import UserType, parse_type_string
from storage.schema import CLUSTERING, PARTITION_KEY, REGULAR, STATIC, Column, Keyspace, Table

SIMPLE = {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"}
LOCAL = {"class": "org.apache.cassandra.locator.LocalStrategy"}

OPTIONS = """    AND additional_write_policy = '99p'
    AND bloom_filter_fp_chance = 0.01
    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}
    AND cdc = false
    AND comment = ''
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', \
'max_threshold': '32', 'min_threshold': '4'}
    AND compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}
    AND crc_check_chance = 1.0
    AND default_time_to_live = 0
    AND extensions = {}
    AND gc_grace_seconds = 864000
    AND max_index_interval = 2048
    AND memtable_flush_period_in_ms = 0
    AND min_index_interval = 128
    AND read_repair = 'BLOCKING'
    AND speculative_retry = '99p';"""

# the same options when they directly follow "WITH "
OPTIONS_FIRST = OPTIONS.removeprefix("    AND ")

KS_CQL = (
    "CREATE KEYSPACE ks WITH replication = {'class': 'org.apache.cassandra.locator.SimpleStrategy', "
    "'replication_factor': '1'}  AND durable_writes = true;"
)


def make_keyspace(name: str, replication: dict[str, str] | None = None, system: bool = False) -> Keyspace:
    ks = Keyspace(name, dict(replication or SIMPLE))
    ks.is_system = system  # type: ignore[attr-defined]
    return ks


def add_table(ks: Keyspace, name: str, columns: list[tuple[str, str, str]], **options: Any) -> Table:
    """columns: (name, type, kind) with kind 'pk', 'ck', 'ck desc', 'static' or ''."""
    cols: dict[str, Column] = {}
    pk = ck = 0
    for cname, ctype, kind in columns:
        t = parse_type_string(ctype, lambda k, n: ks.types.get(n), ks.name)
        if kind == "pk":
            cols[cname] = Column(cname, t, PARTITION_KEY, pk)
            pk += 1
        elif kind.startswith("ck"):
            cols[cname] = Column(cname, t, CLUSTERING, ck, "desc" if kind.endswith("desc") else "asc")
            ck += 1
        elif kind == "static":
            cols[cname] = Column(cname, t, STATIC)
        else:
            cols[cname] = Column(cname, t, REGULAR)
    table = Table(ks.name, name, uuid.UUID(int=len(ks.tables) + 1), cols)
    table.options.update(options)
    ks.tables[name] = table
    return table


def add_type(ks: Keyspace, name: str, fields: list[tuple[str, str]]) -> UserType:
    types = [parse_type_string(t, lambda k, n: ks.types.get(n), ks.name) for _, t in fields]
    ut = UserType(ks.name, name, [f for f, _ in fields], types)
    ks.types[name] = ut
    return ut


def run(query: str, keyspaces: list[Keyspace], current: str | None = None) -> tuple[list, list]:
    return describe(parse(query), keyspaces, current, "Test Cluster")


@pytest.fixture
def schema() -> list[Keyspace]:
    ks = make_keyspace("ks")
    add_type(ks, "addr", [("street", "text"), ("zip", "int")])
    t = add_table(ks, "t", [("k", "int", "pk"), ("c", "text", "ck"), ("s", "int", "static"), ("v", "text", "")])
    t.indexes["t_v_idx"] = {"column": "v", "target": "values", "class": None}
    add_table(ks, "simple", [("id", "int", "pk"), ("val", "text", "")])
    system = make_keyspace("system", LOCAL, system=True)
    add_table(system, "local", [("key", "text", "pk"), ("cluster_name", "text", "")])
    other = make_keyspace("another")
    return [ks, system, other]


T_CQL = (
    "CREATE TABLE ks.t (\n    k int,\n    c text,\n    s int static,\n    v text,\n    PRIMARY KEY (k, c)\n"
    ") WITH CLUSTERING ORDER BY (c ASC)\n" + OPTIONS
)
SIMPLE_CQL = "CREATE TABLE ks.simple (\n    id int PRIMARY KEY,\n    val text\n) WITH " + OPTIONS_FIRST


# ---------------------------------------------------------------- listings


def test_keyspaces_lists_all_sorted(schema: list[Keyspace]) -> None:
    cols, rows = run("DESCRIBE KEYSPACES", schema)
    assert cols == [("keyspace_name", "text"), ("type", "text"), ("name", "text")]
    assert rows == [["another", "keyspace", "another"], ["ks", "keyspace", "ks"], ["system", "keyspace", "system"]]


def test_tables_without_keyspace_lists_every_keyspace(schema: list[Keyspace]) -> None:
    _, rows = run("DESC TABLES", schema)
    assert rows == [["ks", "table", "simple"], ["ks", "table", "t"], ["system", "table", "local"]]


def test_tables_with_current_keyspace(schema: list[Keyspace]) -> None:
    _, rows = run("DESC TABLES", schema, "ks")
    assert rows == [["ks", "table", "simple"], ["ks", "table", "t"]]


def test_types_functions_aggregates(schema: list[Keyspace]) -> None:
    assert run("DESC TYPES", schema)[1] == [["ks", "type", "addr"]]
    assert run("DESC FUNCTIONS", schema, "ks") == ([("keyspace_name", "text"), ("type", "text"), ("name", "text")], [])
    assert run("DESC AGGREGATES", schema)[1] == []


# ---------------------------------------------------------------- keyspace / schema


def test_keyspace(schema: list[Keyspace]) -> None:
    cols, rows = run("DESCRIBE KEYSPACE ks", schema)
    assert cols[-1] == ("create_statement", "text")
    assert [r[:3] for r in rows] == [
        ["ks", "keyspace", "ks"],
        ["ks", "type", "addr"],
        ["ks", "table", "simple"],
        ["ks", "table", "t"],
        ["ks", "index", "t_v_idx"],
    ]
    assert rows[0][3] == KS_CQL
    assert rows[1][3] == "CREATE TYPE ks.addr (\n    street text,\n    zip int\n);"
    assert rows[2][3] == SIMPLE_CQL
    assert rows[3][3] == T_CQL
    assert rows[4][3] == "CREATE INDEX t_v_idx ON ks.t (v);"


def test_only_keyspace_and_current_keyspace(schema: list[Keyspace]) -> None:
    assert run("DESC ONLY KEYSPACE ks", schema)[1] == [["ks", "keyspace", "ks", KS_CQL]]
    assert run("DESC KEYSPACE", schema, "ks")[1][0][3] == KS_CQL


def test_keyspace_local_strategy_and_durable_writes() -> None:
    ks = make_keyspace("system", LOCAL, system=True)
    ks.durable_writes = False
    assert run("DESC ONLY KEYSPACE system", [ks])[1][0][3] == (
        "CREATE KEYSPACE system WITH replication = {'class': 'org.apache.cassandra.locator.LocalStrategy'}"
        "  AND durable_writes = false;"
    )


def test_keyspace_nts_options_in_java_hashmap_order() -> None:
    rep = {"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "3", "DC2": "2", "east": "1"}
    ks = make_keyspace("multi", rep)
    stmt = run("DESC ONLY KEYSPACE multi", [ks])[1][0][3]
    # HashMap of 4 entries -> 8 buckets: spread(hash) & 7 is 2 for "DC2" and "east" (kept in insertion order,
    # i.e. the sorted order system_schema gives), 3 for "dc1"
    assert stmt == (
        "CREATE KEYSPACE multi WITH replication = {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', "
        "'DC2': '2', 'east': '1', 'dc1': '3'}  AND durable_writes = true;"
    )


def test_java_hashmap_order_matches_java() -> None:
    # new HashMap<>(Map.of("class", .., "datacenter1", "1", "datacenter2", "1")) iterates datacenter1, datacenter2
    assert java_hashmap_order(["datacenter2", "datacenter1"], 3) == ["datacenter1", "datacenter2"]


def test_schema_excludes_system_full_schema_includes(schema: list[Keyspace]) -> None:
    rows = run("DESC SCHEMA", schema)[1]
    assert [r[0] for r in rows if r[1] == "keyspace"] == ["another", "ks"]
    assert len(rows) == 6
    full = run("DESC FULL SCHEMA", schema)[1]
    assert [r[:3] for r in full[-2:]] == [["system", "keyspace", "system"], ["system", "table", "local"]]
    assert full[-1][3] == (
        "CREATE TABLE system.local (\n    key text PRIMARY KEY,\n    cluster_name text\n) WITH " + OPTIONS_FIRST
    )


# ---------------------------------------------------------------- tables


def test_table_simple_and_with_indexes(schema: list[Keyspace]) -> None:
    assert run("DESC TABLE ks.simple", schema)[1] == [["ks", "table", "simple", SIMPLE_CQL]]
    rows = run("DESCRIBE COLUMNFAMILY t", schema, "ks")[1]
    assert rows == [["ks", "table", "t", T_CQL], ["ks", "index", "t_v_idx", "CREATE INDEX t_v_idx ON ks.t (v);"]]


def test_table_composite_partition_key_and_desc_clustering() -> None:
    ks = make_keyspace("ks")
    add_table(
        ks,
        "events",
        [
            ("a", "int", "pk"),
            ("b", "text", "pk"),
            ("ts", "timestamp", "ck desc"),
            ("seq", "int", "ck"),
            ("payload", "blob", ""),
        ],
    )
    assert run("DESC TABLE ks.events", [ks])[1][0][3] == (
        "CREATE TABLE ks.events (\n"
        "    a int,\n    b text,\n    ts timestamp,\n    seq int,\n    payload blob,\n"
        "    PRIMARY KEY ((a, b), ts, seq)\n"
        ") WITH CLUSTERING ORDER BY (ts DESC, seq ASC)\n" + OPTIONS
    )


def test_table_composite_partition_key_only() -> None:
    ks = make_keyspace("ks")
    add_table(ks, "p", [("a", "int", "pk"), ("b", "int", "pk")])
    assert run("DESC TABLE ks.p", [ks])[1][0][3] == (
        "CREATE TABLE ks.p (\n    a int,\n    b int,\n    PRIMARY KEY ((a, b))\n) WITH " + OPTIONS_FIRST
    )


def test_table_column_order_statics_then_simple_then_complex() -> None:
    ks = make_keyspace("ks")
    add_type(ks, "addr", [("street", "text")])
    add_table(
        ks,
        "c",
        [
            ("k", "int", "pk"),
            ("ck", "int", "ck"),
            ("zs", "int", "static"),
            ("as_", "set<int>", "static"),
            ("m", "map<text, int>", ""),
            ("b", "frozen<list<int>>", ""),
            ("a", "list<text>", ""),
            ("z", "frozen<addr>", ""),
            ("u", "addr", ""),
            ("t", "tuple<int, text>", ""),
            ("cnt", "int", ""),
        ],
    )
    assert run("DESC TABLE ks.c", [ks])[1][0][3] == (
        "CREATE TABLE ks.c (\n"
        "    k int,\n    ck int,\n"
        "    zs int static,\n    as_ set<int> static,\n"
        "    b frozen<list<int>>,\n    cnt int,\n    t frozen<tuple<int, text>>,\n    z frozen<addr>,\n"
        "    a list<text>,\n    m map<text, int>,\n    u addr,\n"
        "    PRIMARY KEY (k, ck)\n"
        ") WITH CLUSTERING ORDER BY (ck ASC)\n" + OPTIONS
    )


def test_table_quoted_names() -> None:
    ks = make_keyspace("MyKs")
    add_table(ks, "My Table", [("Key", "int", "pk"), ("select", "int", "ck"), ("value", "text", ""), ("x1", "int", "")])
    rows = run('DESC TABLE "MyKs"."My Table"', [ks])[1]
    assert rows[0][:3] == ['"MyKs"', "table", '"My Table"']
    assert rows[0][3] == (
        'CREATE TABLE "MyKs"."My Table" (\n'
        '    "Key" int,\n    "select" int,\n    value text,\n    x1 int,\n'
        '    PRIMARY KEY ("Key", "select")\n'
        ') WITH CLUSTERING ORDER BY ("select" ASC)\n' + OPTIONS
    )
    assert run("DESC KEYSPACES", [ks])[1] == [['"MyKs"', "keyspace", '"MyKs"']]


def test_table_custom_options() -> None:
    ks = make_keyspace("ks")
    add_table(
        ks,
        "o",
        [("k", "int", "pk"), ("v", "int", "")],
        comment="it's",
        gc_grace_seconds=10,
        bloom_filter_fp_chance=0.0001,
        default_time_to_live=3600,
        compaction={
            "class": "org.apache.cassandra.db.compaction.LeveledCompactionStrategy",
            "sstable_size_in_mb": "160",
        },
    )
    stmt = run("DESC TABLE ks.o", [ks])[1][0][3]
    assert "\n    AND comment = 'it''s'\n" in stmt
    assert "\n    AND gc_grace_seconds = 10\n" in stmt
    assert "\n    AND bloom_filter_fp_chance = 1.0E-4\n" in stmt
    assert "\n    AND default_time_to_live = 3600\n" in stmt
    assert (
        "\n    AND compaction = {'class': 'org.apache.cassandra.db.compaction.LeveledCompactionStrategy', "
        "'sstable_size_in_mb': '160'}\n"
    ) in stmt


def test_table_with_internals_prints_id_and_dropped_columns() -> None:
    ks = make_keyspace("ks")
    t = add_table(ks, "d", [("k", "int", "pk"), ("v", "int", "")])
    t.dropped = {"old": ("text", 1234)}
    stmt = run("DESC TABLE ks.d WITH INTERNALS", [ks])[1][0][3]
    assert stmt == (
        "CREATE TABLE ks.d (\n    k int PRIMARY KEY,\n    v int,\n    old text\n"
        f") WITH ID = {t.id}\n    AND " + OPTIONS_FIRST + "\nALTER TABLE ks.d DROP old USING TIMESTAMP 1234;"
    )
    # without internals dropped columns do not show
    plain = run("DESC TABLE ks.d", [ks])[1][0][3]
    assert "old text" not in plain and "ALTER TABLE" not in plain and "ID = " not in plain


def test_java_double() -> None:
    assert [java_double(v) for v in (0.01, 1, 1.0, 0.1, 0.001, 0.0001, 1e7, 12345.5, 0.0)] == [
        "0.01",
        "1.0",
        "1.0",
        "0.1",
        "0.001",
        "1.0E-4",
        "1.0E7",
        "12345.5",
        "0.0",
    ]


# ---------------------------------------------------------------- indexes, types


def test_index_forms() -> None:
    ks = make_keyspace("ks")
    t = add_table(
        ks,
        "t",
        [
            ("k", "int", "pk"),
            ("m", "map<text, int>", ""),
            ("l", "list<int>", ""),
            ("f", "frozen<list<int>>", ""),
            ("v", "text", ""),
        ],
    )
    t.indexes.update(
        {
            "by_keys": {"column": "m", "target": "keys", "class": None},
            "by_entries": {"column": "m", "target": "entries", "class": None},
            "by_values": {"column": "l", "target": "values", "class": None},
            "by_full": {"column": "f", "target": "full", "class": None},
            "Custom": {"column": "v", "target": "values", "class": "org.apache.cassandra.index.sasi.SASIIndex"},
        }
    )
    rows = run("DESC TABLE ks.t", [ks])[1]
    assert [r[2:] for r in rows[1:]] == [
        ['"Custom"', "CREATE CUSTOM INDEX \"Custom\" ON ks.t (v) USING 'org.apache.cassandra.index.sasi.SASIIndex';"],
        ["by_entries", "CREATE INDEX by_entries ON ks.t (entries(m));"],
        ["by_full", "CREATE INDEX by_full ON ks.t (full(f));"],
        ["by_keys", "CREATE INDEX by_keys ON ks.t (keys(m));"],
        ["by_values", "CREATE INDEX by_values ON ks.t (values(l));"],
    ]
    by_keys = ["ks", "index", "by_keys", "CREATE INDEX by_keys ON ks.t (keys(m));"]
    assert run("DESC INDEX ks.by_keys", [ks])[1] == [by_keys]


def test_type_and_dependency_order() -> None:
    ks = make_keyspace("ks")
    add_type(ks, "zip", [("code", "int")])
    add_type(ks, "addr", [("street", "text"), ("zip", "frozen<zip>"), ("tags", "frozen<set<text>>")])
    add_type(ks, "b", [("x", "int")])
    assert run("DESC TYPE ks.addr", [ks])[1] == [
        [
            "ks",
            "type",
            "addr",
            "CREATE TYPE ks.addr (\n    street text,\n    zip frozen<zip>,\n    tags frozen<set<text>>\n);",
        ]
    ]
    # dependencies first, otherwise by name
    assert [r[2] for r in run("DESC TYPES", [ks])[1]] == ["zip", "addr", "b"]
    assert [r[2] for r in run("DESC KEYSPACE ks", [ks])[1][1:]] == ["zip", "addr", "b"]


# ---------------------------------------------------------------- cluster


def test_cluster_without_and_with_user_keyspace(schema: list[Keyspace]) -> None:
    base = [("cluster", "text"), ("partitioner", "text"), ("snitch", "text")]
    assert run("DESC CLUSTER", schema) == (base, [["Test Cluster", "Murmur3Partitioner", "SimpleSnitch"]])
    assert run("DESC CLUSTER", schema, "system") == (base, [["Test Cluster", "Murmur3Partitioner", "SimpleSnitch"]])
    cols, rows = run("DESC CLUSTER", schema, "ks")
    assert cols == base + [("range_ownership", "map<text, frozen<list<text>>>")]
    assert rows == [["Test Cluster", "Murmur3Partitioner", "SimpleSnitch", {"-9223372036854775808": ["127.0.0.1"]}]]
    cols, rows = describe(
        parse("DESC CLUSTER"),
        schema,
        "ks",
        "C",
        "org.apache.cassandra.dht.RandomPartitioner",
        range_ownership={"0": ["10.0.0.1"]},
    )
    assert rows == [["C", "RandomPartitioner", "SimpleSnitch", {"0": ["10.0.0.1"]}]]


# ---------------------------------------------------------------- generic


def test_generic_resolution(schema: list[Keyspace]) -> None:
    assert run("DESC ks", schema)[1][0][:3] == ["ks", "keyspace", "ks"]
    assert run("DESC t", schema, "ks")[1][0] == ["ks", "table", "t", T_CQL]
    assert run("DESC ks.simple", schema)[1] == [["ks", "table", "simple", SIMPLE_CQL]]
    assert run("DESC t_v_idx", schema, "ks")[1] == [["ks", "index", "t_v_idx", "CREATE INDEX t_v_idx ON ks.t (v);"]]
    # a keyspace name wins over a table of the current keyspace
    assert run("DESC another", schema, "ks")[1][0][:3] == ["another", "keyspace", "another"]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("query", "current", "message"),
    [
        ("DESC KEYSPACE nope", None, "'nope' not found in keyspaces"),
        ("DESC KEYSPACE", None, "No keyspace specified and no current keyspace"),
        ("DESC TABLE t", None, "No keyspace specified and no current keyspace"),
        ("DESC TABLE ks.nope", None, "Table 'nope' not found in keyspace 'ks'"),
        ("DESC TABLE nope.t", None, "'nope' not found in keyspaces"),
        ("DESC TABLES", "gone", "'gone' not found in keyspaces"),
        ("DESC TYPE ks.nope", None, "User defined type 'nope' not found in 'ks'"),
        ("DESC INDEX ks.nope", None, "Table for existing index 'nope' not found in 'ks'"),
        ("DESC MATERIALIZED VIEW ks.v", None, "Materialized view 'v' not found in 'ks'"),
        ("DESC FUNCTION ks.f", None, "User defined function 'f' not found in 'ks'"),
        ("DESC AGGREGATE ks.a", None, "User defined aggregate 'a' not found in 'ks'"),
        ("DESC nope", "ks", "'nope' not found in keyspace 'ks'"),
        ("DESC ks.nope", None, "'nope' not found in keyspace 'ks'"),
        ("DESC nope", None, "'nope' not found in keyspaces"),
    ],
)
def test_errors(schema: list[Keyspace], query: str, current: str | None, message: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        run(query, schema, current)
    assert err.value.message == message
