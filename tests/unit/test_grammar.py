"""Tests of the CQL parser (cql_grammar): exact ASTs per statement family, the seed statements, errors, fuzz."""

from __future__ import annotations

import math
import random
import re
import uuid
from pathlib import Path

import pytest

from cql_grammar import CqlSyntaxError, ast, parse, parse_type

A = ast
T = A.TableName
L = A.Literal
C = A.ColumnRef
M = A.BindMarker


def i(v: int) -> A.Literal:
    return L("int", v)


def s(v: str) -> A.Literal:
    return L("string", v)


def ty(name: str, *args: A.TypeRef, keyspace: str | None = None) -> A.TypeRef:
    return A.TypeRef(name, tuple(args), keyspace)


NULL = L("null", None)

# ---------------------------------------------------------------- SELECT


def test_select_basic() -> None:
    assert parse("SELECT a, b AS c FROM ks.t WHERE k = ? AND c IN (1, 2) LIMIT 3") == A.Select(
        table=T("ks", "t"),
        selectors=(A.Selector(C("a")), A.Selector(C("b"), "c")),
        where=(A.Relation("k", "=", M(0)), A.Relation("c", "IN", (i(1), i(2)))),
        limit=i(3),
    )


def test_select_star_and_case_folding() -> None:
    assert parse('select * From "MyKs".MyTable;') == A.Select(T("MyKs", "mytable"), None)


def test_select_all_clauses() -> None:
    stmt = parse(
        "SELECT JSON DISTINCT k FROM t WHERE k = 1 GROUP BY k, c ORDER BY c ASC, d DESC "
        "PER PARTITION LIMIT 2 LIMIT :lim ALLOW FILTERING"
    )
    assert stmt == A.Select(
        T(None, "t"),
        (A.Selector(C("k")),),
        where=(A.Relation("k", "=", i(1)),),
        distinct=True,
        json=True,
        group_by=("k", "c"),
        order_by=(("c", "ASC"), ("d", "DESC")),
        per_partition_limit=i(2),
        limit=M(0, "lim"),
        allow_filtering=True,
    )


def test_select_selectors() -> None:
    stmt = parse(
        "SELECT count(*), COUNT(1), writetime(v), ttl(v), CAST(v AS text), u.f, m['k'], 1 + 2 * 3, -x, "
        "(int) ?, ks.fn(a, b) AS r FROM t"
    )
    assert isinstance(stmt, A.Select)
    assert [sel.expr for sel in stmt.selectors] == [
        A.FunctionCall("count", (A.Star(),)),
        A.FunctionCall("count", (i(1),)),
        A.FunctionCall("writetime", (C("v"),)),
        A.FunctionCall("ttl", (C("v"),)),
        A.Cast(C("v"), ty("text")),
        A.FieldRef(C("u"), "f"),
        A.ElementRef(C("m"), s("k")),
        A.BinaryOp("+", i(1), A.BinaryOp("*", i(2), i(3))),
        A.Negate(C("x")),
        A.TypeHint(ty("int"), M(0)),
        A.FunctionCall("ks.fn", (C("a"), C("b"))),
    ]
    assert stmt.selectors[-1].alias == "r"


def test_select_json_and_distinct_as_column_names() -> None:
    assert parse("SELECT json, distinct FROM t").selectors == (A.Selector(C("json")), A.Selector(C("distinct")))
    assert parse("SELECT distinct FROM t") == A.Select(T(None, "t"), (A.Selector(C("distinct")),))


def test_relations() -> None:
    stmt = parse(
        "SELECT * FROM t WHERE token(k) > token(?) AND token(a, b) <= 123 AND (a, b) > (1, 2) "
        "AND (a, b) IN ((1, 2), (3, 4)) AND (c) IN ? AND c CONTAINS KEY 'x' AND l CONTAINS 1 AND d LIKE 'a%' "
        "AND e IS NOT NULL AND f != 1 AND g >= 2 AND h < 3 AND x IN () AND y IN :ys"
    )
    assert stmt.where == (
        A.Relation(A.TokenRef(("k",)), ">", A.FunctionCall("token", (M(0),))),
        A.Relation(A.TokenRef(("a", "b")), "<=", i(123)),
        A.Relation(("a", "b"), ">", A.TupleLiteral((i(1), i(2)))),
        A.Relation(("a", "b"), "IN", (A.TupleLiteral((i(1), i(2))), A.TupleLiteral((i(3), i(4))))),
        A.Relation(("c",), "IN", M(1)),
        A.Relation("c", "CONTAINS KEY", s("x")),
        A.Relation("l", "CONTAINS", i(1)),
        A.Relation("d", "LIKE", s("a%")),
        A.Relation("e", "IS NOT", NULL),
        A.Relation("f", "!=", i(1)),
        A.Relation("g", ">=", i(2)),
        A.Relation("h", "<", i(3)),
        A.Relation("x", "IN", ()),
        A.Relation("y", "IN", M(2, "ys")),
    )


def test_map_entry_relation() -> None:
    assert parse("SELECT a FROM t WHERE m['k'] = 1").where == (A.Relation(A.ElementRef(C("m"), s("k")), "=", i(1)),)


def test_literals() -> None:
    values = [
        ("'it''s'", s("it's")),
        ("$$it's $ ok$$", s("it's $ ok")),
        ("-12", i(-12)),
        ("1.5", L("float", 1.5)),
        ("1.5e10", L("float", 1.5e10)),
        ("2E-3", L("float", 2e-3)),
        ("Infinity", L("float", math.inf)),
        ("-Infinity", L("float", -math.inf)),
        ("0xCAFE", L("hex", b"\xca\xfe")),
        ("0x", L("hex", b"")),
        ("123e4567-e89b-12d3-a456-426614174000", L("uuid", uuid.UUID("123e4567-e89b-12d3-a456-426614174000"))),
        ("ab3e4567-e89b-12d3-a456-426614174000", L("uuid", uuid.UUID("ab3e4567-e89b-12d3-a456-426614174000"))),
        ("TRUE", L("bool", True)),
        ("false", L("bool", False)),
        ("1h30m", L("duration", "1h30m")),
        ("2d", L("duration", "2d")),
        ("-1d", L("duration", "-1d")),
        ("P1Y2M", L("duration", "P1Y2M")),
        ("PT1H", L("duration", "PT1H")),
        ("P2W", L("duration", "P2W")),
        ("P0001-02-03T04:05:06", L("duration", "P0001-02-03T04:05:06")),
        ("null", NULL),
        ("[1, 2]", A.CollectionLiteral("list", (i(1), i(2)))),
        ("[]", A.CollectionLiteral("list", ())),
        ("{1, 2}", A.CollectionLiteral("set", (i(1), i(2)))),
        ("{}", A.CollectionLiteral("map", ())),
        ("{'a': 1}", A.CollectionLiteral("map", ((s("a"), i(1)),))),
        ("{f: 1, \"G\": 'x'}", A.UdtLiteral((("f", i(1)), ("G", s("x"))))),
        ("(1, 'a')", A.TupleLiteral((i(1), s("a")))),
        ("(1)", i(1)),
        ("now()", A.FunctionCall("now", ())),
        ("toTimestamp(now())", A.FunctionCall("totimestamp", (A.FunctionCall("now", ()),))),
        ("CAST(x AS int)", A.Cast(C("x"), ty("int"))),
        ("(list<int>) ?", A.TypeHint(ty("list", ty("int")), M(0))),
        ("1 - 2 - 3", A.BinaryOp("-", A.BinaryOp("-", i(1), i(2)), i(3))),
        ("(1 + 2) % 3", A.BinaryOp("%", A.BinaryOp("+", i(1), i(2)), i(3))),
        ("-(1 / 2)", A.Negate(A.BinaryOp("/", i(1), i(2)))),
    ]
    for text, expected in values:
        stmt = parse(f"UPDATE t SET v = {text} WHERE k = 0")
        assert stmt.assignments == (A.SetValue("v", expected),), text
    nan = parse("SELECT * FROM t WHERE a = NaN").where[0].rhs
    assert nan.kind == "float" and math.isnan(nan.value)
    assert parse("SELECT * FROM t WHERE a = NaN") == parse("SELECT * FROM t WHERE a = nan")


def test_bind_marker_indices_in_text_order() -> None:
    stmt = parse("UPDATE t USING TTL ? SET a = :x, b = ? WHERE k = :x AND c IN ? IF d = ?")
    assert stmt.using == A.Using(ttl=M(0))
    assert stmt.assignments == (A.SetValue("a", M(1, "x")), A.SetValue("b", M(2)))
    assert stmt.where == (A.Relation("k", "=", M(3, "x")), A.Relation("c", "IN", M(4)))
    assert stmt.conditions == (A.Condition("d", "=", M(5)),)
    assert parse("SELECT * FROM t WHERE k = ?").where[0].rhs == M(0)  # reset per parse


# ---------------------------------------------------------------- INSERT / UPDATE / DELETE / BATCH


def test_insert() -> None:
    assert parse("INSERT INTO ks.t (a, \"B\") VALUES (1, 'x') IF NOT EXISTS USING TTL 10 AND TIMESTAMP ?") == A.Insert(
        T("ks", "t"),
        ("a", "B"),
        (i(1), s("x")),
        if_not_exists=True,
        using=A.Using(ttl=i(10), timestamp=M(0)),
    )


def test_insert_json() -> None:
    assert parse("INSERT INTO t JSON '{\"a\": 1}' DEFAULT UNSET IF NOT EXISTS") == A.Insert(
        T(None, "t"), (), (), if_not_exists=True, json=s('{"a": 1}'), json_default_unset=True
    )
    assert parse("INSERT INTO t JSON ? DEFAULT NULL USING TTL 5") == A.Insert(
        T(None, "t"), (), (), using=A.Using(ttl=i(5)), json=M(0)
    )


def test_update_assignments() -> None:
    stmt = parse(
        "UPDATE t USING TIMESTAMP 5 SET a = 1, b = b + {1}, c = c - {2}, l = [1] + l, d += 3, e -= 4, "
        "l[0] = 'x', m['k'] = 2, u.f = 5, n = n + 1 + 2, o = o WHERE k = 1"
    )
    assert stmt == A.Update(
        T(None, "t"),
        (
            A.SetValue("a", i(1)),
            A.AddTo("b", A.CollectionLiteral("set", (i(1),))),
            A.SubtractFrom("c", A.CollectionLiteral("set", (i(2),))),
            A.Prepend("l", A.CollectionLiteral("list", (i(1),))),
            A.AddTo("d", i(3)),
            A.SubtractFrom("e", i(4)),
            A.SetElement("l", i(0), s("x")),
            A.SetElement("m", s("k"), i(2)),
            A.SetField("u", "f", i(5)),
            A.AddTo("n", A.BinaryOp("+", i(1), i(2))),
            A.SetValue("o", C("o")),
        ),
        (A.Relation("k", "=", i(1)),),
        using=A.Using(timestamp=i(5)),
    )
    assert parse("UPDATE t SET c = c -1 WHERE k = 1").assignments == (A.SubtractFrom("c", i(1)),)


def test_update_conditions() -> None:
    stmt = parse(
        "UPDATE t SET a = 1 WHERE k = 1 IF a = 1 AND m['x'] != null AND u.f IN (1, 2) AND l CONTAINS 3 "
        "AND m CONTAINS KEY 'k' AND n IN ? AND b = null AND c > 2 AND u.g = 'y'"
    )
    assert stmt.conditions == (
        A.Condition("a", "=", i(1)),
        A.Condition("m", "!=", NULL, element=s("x")),
        A.Condition("u", "IN", (i(1), i(2)), field="f"),
        A.Condition("l", "CONTAINS", i(3)),
        A.Condition("m", "CONTAINS KEY", s("k")),
        A.Condition("n", "IN", M(0)),
        A.Condition("b", "=", NULL),
        A.Condition("c", ">", i(2)),
        A.Condition("u", "=", s("y"), field="g"),
    )
    assert parse("UPDATE t SET a = 1 WHERE k = 1 IF EXISTS").if_exists is True


def test_delete() -> None:
    assert parse("DELETE a, m['k'], l[0], u.f FROM t USING TIMESTAMP 5 WHERE k = 1 IF EXISTS") == A.Delete(
        T(None, "t"),
        (
            A.DeleteTarget("a"),
            A.DeleteTarget("m", element=s("k")),
            A.DeleteTarget("l", element=i(0)),
            A.DeleteTarget("u", field="f"),
        ),
        (A.Relation("k", "=", i(1)),),
        using=A.Using(timestamp=i(5)),
        if_exists=True,
    )
    assert parse("DELETE FROM t WHERE k IN (1, 2) IF a > 1") == A.Delete(
        T(None, "t"), (), (A.Relation("k", "IN", (i(1), i(2))),), conditions=(A.Condition("a", ">", i(1)),)
    )


def test_batch() -> None:
    stmt = parse(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 5 INSERT INTO t (a) VALUES (?); UPDATE t SET a = 2 WHERE k = ? "
        "DELETE FROM t WHERE k = ?;; APPLY BATCH;"
    )
    assert stmt == A.Batch(
        "UNLOGGED",
        (
            A.Insert(T(None, "t"), ("a",), (M(0),)),
            A.Update(T(None, "t"), (A.SetValue("a", i(2)),), (A.Relation("k", "=", M(1)),)),
            A.Delete(T(None, "t"), (), (A.Relation("k", "=", M(2)),)),
        ),
        using=A.Using(timestamp=i(5)),
    )
    assert parse("BEGIN BATCH APPLY BATCH") == A.Batch("LOGGED", ())
    assert parse("begin counter batch update t set c = c + 1 where k = 1 apply batch").kind == "COUNTER"


# ---------------------------------------------------------------- DDL


def test_keyspace_statements() -> None:
    assert parse(
        "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3} "
        "AND durable_writes = false"
    ) == A.CreateKeyspace(
        "ks", True, {"replication": {"class": "SimpleStrategy", "replication_factor": "3"}, "durable_writes": False}
    )
    assert parse("ALTER KEYSPACE ks WITH DURABLE_WRITES = true") == A.AlterKeyspace(
        "ks", False, {"durable_writes": True}
    )
    assert parse("DROP KEYSPACE IF EXISTS ks") == A.DropKeyspace("ks", True)
    assert parse("DROP KEYSPACE ks") == A.DropKeyspace("ks", False)


def test_create_table() -> None:
    stmt = parse(
        "CREATE TABLE IF NOT EXISTS ks.t (k int, c1 text, c2 bigint, s int STATIC, v list<frozen<set<int>>>, "
        "PRIMARY KEY ((k, c1), c2)) WITH CLUSTERING ORDER BY (c2 DESC) AND COMPACT STORAGE AND comment = 'x' "
        "AND gc_grace_seconds = 10 AND bloom_filter_fp_chance = 0.1 AND cdc = true "
        "AND compaction = {'class': 'LeveledCompactionStrategy', 'enabled': true, 'max_threshold': 32}"
    )
    assert stmt == A.CreateTable(
        T("ks", "t"),
        True,
        (
            A.ColumnDef("k", ty("int")),
            A.ColumnDef("c1", ty("text")),
            A.ColumnDef("c2", ty("bigint")),
            A.ColumnDef("s", ty("int"), static=True),
            A.ColumnDef("v", ty("list", ty("frozen", ty("set", ty("int"))))),
        ),
        ("k", "c1"),
        ("c2",),
        clustering_order=(("c2", "DESC"),),
        properties={
            "comment": "x",
            "gc_grace_seconds": 10,
            "bloom_filter_fp_chance": 0.1,
            "cdc": True,
            "compaction": {"class": "LeveledCompactionStrategy", "enabled": "true", "max_threshold": "32"},
        },
        compact_storage=True,
    )


def test_create_table_inline_key_and_types() -> None:
    stmt = parse(
        'CREATE COLUMNFAMILY t (key text PRIMARY KEY, type int, ttl int, "Quoted""Name" map<text, "MyType">, '
        "x 'org.apache.cassandra.db.marshal.DurationType', u ks.udt, tu tuple<int, text>, d duration)"
    )
    assert stmt == A.CreateTable(
        T(None, "t"),
        False,
        (
            A.ColumnDef("key", ty("text")),
            A.ColumnDef("type", ty("int")),
            A.ColumnDef("ttl", ty("int")),
            A.ColumnDef('Quoted"Name', ty("map", ty("text"), ty("MyType"))),
            A.ColumnDef("x", A.TypeRef("custom", custom="org.apache.cassandra.db.marshal.DurationType")),
            A.ColumnDef("u", ty("udt", keyspace="ks")),
            A.ColumnDef("tu", ty("tuple", ty("int"), ty("text"))),
            A.ColumnDef("d", ty("duration")),
        ),
        ("key",),
        (),
    )
    assert parse("CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))").clustering == ("b",)
    assert parse("CREATE TABLE t (a int, b int)").partition_key == ()  # executor reports the missing key
    # Cassandra reports several PRIMARY KEYs as an InvalidRequest (raised from its parser): the AST carries it
    assert "Multiple PRIMARY KEY" in parse("CREATE TABLE t (a int PRIMARY KEY, b int PRIMARY KEY)").error


def test_alter_table() -> None:
    t = T(None, "t")
    assert parse("ALTER TABLE t ADD IF NOT EXISTS c int") == A.AlterTable(
        t, add=(A.ColumnDef("c", ty("int")),), add_if_not_exists=True
    )
    assert parse("ALTER TABLE t ADD (c int, d set<text> static)") == A.AlterTable(
        t, add=(A.ColumnDef("c", ty("int")), A.ColumnDef("d", ty("set", ty("text")), static=True))
    )
    assert parse("ALTER TABLE IF EXISTS t DROP IF EXISTS c") == A.AlterTable(
        t, if_exists=True, drop=("c",), drop_if_exists=True
    )
    assert parse("ALTER TABLE t DROP (c, d)") == A.AlterTable(t, drop=("c", "d"))
    assert parse("ALTER TABLE t RENAME a TO b AND c TO d") == A.AlterTable(t, renames=(("a", "b"), ("c", "d")))
    assert parse("ALTER TABLE t WITH comment = 'hi' AND default_time_to_live = 5") == A.AlterTable(
        t, properties={"comment": "hi", "default_time_to_live": 5}
    )
    assert parse("ALTER TABLE t ALTER c TYPE blob") == A.AlterTable(t, alter_type=("c", ty("blob")))
    assert parse("DROP TABLE IF EXISTS ks.t") == A.DropTable(T("ks", "t"), True)
    assert parse("TRUNCATE ks.t") == A.Truncate(T("ks", "t"))
    assert parse("TRUNCATE TABLE t") == A.Truncate(t)


def test_types() -> None:
    assert parse("CREATE TYPE IF NOT EXISTS ks.addr (street text, zip int)") == A.CreateType(
        T("ks", "addr"), True, (("street", ty("text")), ("zip", ty("int")))
    )
    assert parse("ALTER TYPE addr ADD city text") == A.AlterType(T(None, "addr"), add=(("city", ty("text")),))
    assert parse("ALTER TYPE addr RENAME a TO b AND c TO d") == A.AlterType(
        T(None, "addr"), renames=(("a", "b"), ("c", "d"))
    )
    assert parse("DROP TYPE IF EXISTS ks.addr") == A.DropType(T("ks", "addr"), True)


def test_indexes() -> None:
    assert parse("CREATE INDEX IF NOT EXISTS idx ON ks.t (v)") == A.CreateIndex(
        "idx", T("ks", "t"), "v", "values", True
    )
    for target in ("keys", "values", "entries", "full"):
        assert parse(f"CREATE INDEX ON t ({target}(m))") == A.CreateIndex(None, T(None, "t"), "m", target, False)
    assert parse(
        "CREATE CUSTOM INDEX i ON t (c) USING 'org.apache.cassandra.index.sasi.SASIIndex' "
        "WITH OPTIONS = {'mode': 'CONTAINS'}"
    ) == A.CreateIndex(
        "i",
        T(None, "t"),
        "c",
        "values",
        False,
        custom_class="org.apache.cassandra.index.sasi.SASIIndex",
        properties={"mode": "CONTAINS"},
    )
    assert parse("DROP INDEX IF EXISTS ks.idx") == A.DropIndex(T("ks", "idx"), True)
    assert parse("DROP INDEX idx") == A.DropIndex(T(None, "idx"), False)


def test_use() -> None:
    assert parse('USE "MyKs"') == A.Use("MyKs")
    assert parse("use MyKs;") == A.Use("myks")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DESCRIBE KEYSPACES", A.Describe("keyspaces")),
        ("DESC ONLY KEYSPACE ks WITH INTERNALS", A.Describe("keyspace", keyspace="ks", only=True, with_internals=True)),
        ("DESC KEYSPACE", A.Describe("keyspace")),
        ("DESC TABLE t", A.Describe("table", name="t")),
        ("DESC COLUMNFAMILY ks.t", A.Describe("table", keyspace="ks", name="t")),
        ("DESC TABLES", A.Describe("tables")),
        ("DESC COLUMNFAMILIES", A.Describe("tables")),
        ("DESC TYPES", A.Describe("types")),
        ("DESC TYPE ks.ty", A.Describe("type", keyspace="ks", name="ty")),
        ("DESC FUNCTIONS", A.Describe("functions")),
        ("DESC FUNCTION ks.f", A.Describe("function", keyspace="ks", name="f")),
        ("DESC AGGREGATES", A.Describe("aggregates")),
        ("DESC AGGREGATE a", A.Describe("aggregate", name="a")),
        ("DESC INDEX i", A.Describe("index", name="i")),
        ("DESC MATERIALIZED VIEW ks.v", A.Describe("materialized_view", keyspace="ks", name="v")),
        ("DESC FULL SCHEMA", A.Describe("schema", full=True)),
        ("DESC SCHEMA WITH INTERNALS", A.Describe("schema", with_internals=True)),
        ("DESC CLUSTER", A.Describe("cluster")),
        ("DESC ks.something", A.Describe("generic", keyspace="ks", name="something")),
        ("describe type;", A.Describe("generic", name="type")),
    ],
)
def test_describe(text: str, expected: A.Describe) -> None:
    assert parse(text) == expected


# ---------------------------------------------------------------- identifiers, comments, types


def test_unreserved_keywords_as_identifiers() -> None:
    names = [
        "key",
        "type",
        "ttl",
        "writetime",
        "count",
        "filtering",
        "keys",
        "values",
        "json",
        "custom",
        "options",
        "timestamp",
        "text",
        "static",
        "exists",
        "clustering",
        "list",
        "map",
        "frozen",
        "as",
    ]
    stmt = parse(f"SELECT {', '.join(names)} FROM {names[0]}")
    assert [sel.expr for sel in stmt.selectors] == [C(n) for n in names]
    assert parse("CREATE TABLE type (key int PRIMARY KEY, values text)").columns[1].name == "values"


def test_comments_and_quoted_names() -> None:
    stmt = parse('-- lead\nSELECT /* inline\n comment */ "a""b" // trailing\nFROM t;')
    assert stmt == A.Select(T(None, "t"), (A.Selector(C('a"b')),))


def test_parse_type() -> None:
    assert parse_type("frozen<map<text, list<int>>>") == ty("frozen", ty("map", ty("text"), ty("list", ty("int"))))
    assert parse_type("ks.addr") == ty("addr", keyspace="ks")
    assert parse_type('"MyType"') == ty("MyType")
    assert parse_type("tuple<int, frozen<set<uuid>>>") == ty("tuple", ty("int"), ty("frozen", ty("set", ty("uuid"))))
    with pytest.raises(CqlSyntaxError):
        parse_type("map<int>")


# ---------------------------------------------------------------- seeds

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "grammar_seed_statements.cql"


def _seed_statements() -> list[tuple[str, str]]:
    blocks = re.split(r"^-- @@ (.*)$", SEEDS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return [(blocks[k], blocks[k + 1]) for k in range(1, len(blocks), 2)]


def test_seed_statements_parse() -> None:
    statements = _seed_statements()
    assert len(statements) >= 40
    for origin, text in statements:
        try:
            parse(text)
        except CqlSyntaxError as e:  # pragma: no cover - failure report
            pytest.fail(f"{origin}: {e.message}")


def test_seed_batch_without_separators() -> None:
    text = dict(_seed_statements())["keyspaces-logged-batches.txt:122"]
    stmt = parse(text)
    assert isinstance(stmt, A.Batch)
    assert [type(x).__name__ for x in stmt.statements] == ["Insert", "Insert", "Update", "Update"]
    assert stmt.statements[0].if_not_exists


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT from FROM t", "line 1:7 no viable alternative at input 'from'"),
        ("SELECT * FROM t x", "line 1:16 mismatched input 'x' expecting EOF"),
        ("SELECT * FROM", "line 1:13 "),
        ("SELECT ~ FROM t", "line 1:7 no viable alternative at character '~'"),
        ("SELEC * FROM t", "line 1:0 "),
        ("SELECT * FROM t WHERE k = 1 LIMIT", "line 1:33 "),
        ("CREATE TABLE select (k int PRIMARY KEY)", "line 1:13 no viable alternative at input 'select'"),
        ("INSERT INTO t (a) VALUES ('x)", "line 1:"),
        ("SELECT * FROM t WHERE d = 1y-2mo", "no viable alternative at input '-2mo'"),
        ("SELECT * FROM t WHERE b = 0xABC", "odd number"),
        ("SELECT * FROM t WHERE u = 12345678-1234-1234-1234-12345678901", "line 1:26 Invalid UUID literal"),
        ("SELECT * FROM t WHERE u = 550e8400-e29b-41d4-a716-44665544000g", "Invalid UUID literal"),
        ("SELECT * FROM t WHERE d = 1h30", "line 1:27 mismatched input 'h30' expecting EOF"),
        ("", "line 1:0 "),
        ("SELECT a FROM t\nWHERE", "line 2:5 "),
        ("BEGIN BATCH SELECT * FROM t APPLY BATCH", "line 1:12 "),
        ("SELECT (1)(2) FROM t", "line 1:"),
    ],
)
def test_syntax_errors(text: str, expected: str) -> None:
    with pytest.raises(CqlSyntaxError) as info:
        parse(text)
    assert expected in info.value.message
    assert info.value.message == str(info.value)


def test_error_has_context() -> None:
    with pytest.raises(CqlSyntaxError) as info:
        parse("SELECT * FROM t WHERE k = 1 bogus")
    assert info.value.message.startswith("line 1:28 mismatched input 'bogus' expecting EOF (")
    assert "[bogus]" in info.value.message


def test_non_string_and_deep_nesting() -> None:
    with pytest.raises(CqlSyntaxError):
        parse(None)  # type: ignore[arg-type]
    deep = "SELECT * FROM t WHERE k = " + "(" * 5000 + "1" + ")" * 5000
    assert parse(deep).where[0].rhs == i(1)
    with pytest.raises(CqlSyntaxError):
        parse("SELECT * FROM t WHERE k = " + "[" * 5000)


# ---------------------------------------------------------------- fuzz

_FUZZ_BASE = [
    "SELECT a, b AS c FROM ks.t WHERE k = ? AND c IN (1, 2) LIMIT 3",
    "INSERT INTO t (a, b) VALUES (1, 'x') IF NOT EXISTS USING TTL 5",
    "UPDATE t SET m['k'] = 1, l = l + [2] WHERE k = 1 IF a = null",
    "DELETE m['k'] FROM t WHERE k = 1 IF EXISTS",
    "CREATE TABLE t (k int, c text, PRIMARY KEY ((k), c)) WITH CLUSTERING ORDER BY (c DESC)",
    "BEGIN BATCH INSERT INTO t (a) VALUES (1); APPLY BATCH",
    "SELECT * FROM t WHERE token(k) > token(?) AND (a, b) IN ((1, 2)) ALLOW FILTERING",
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "DESC KEYSPACE ks WITH INTERNALS",
]
_FUZZ_PIECES = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "?",
    ":x",
    "'s'",
    "$$",
    "-",
    "1",
    "1.5e3",
    "0x1",
    '"q"',
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "IN",
    "IF",
    "KEY",
    "token",
    "*",
    "=",
    "<",
    "1h",
    "P1D",
    "null",
    "/*",
    "--",
    "\n",
    "\x00",
    "é",
    "BATCH",
    "APPLY",
    "CAST",
    "AS",
    "<<",
    ">>",
    "+=",
    "!",
]


def test_fuzz_parse_or_syntax_error() -> None:
    rng = random.Random(20240601)
    for _ in range(400):
        base = rng.choice(_FUZZ_BASE)
        tokens = re.findall(r"\S+|\s+", base)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(tokens) + 1)
            if op == 0 and tokens:
                del tokens[min(pos, len(tokens) - 1)]
            elif op == 1:
                tokens.insert(pos, rng.choice(_FUZZ_PIECES))
            elif op == 2 and tokens:
                tokens[min(pos, len(tokens) - 1)] = rng.choice(_FUZZ_PIECES)
            else:
                tokens.insert(pos, " " + rng.choice(_FUZZ_PIECES) + " ")
        text = "".join(tokens)
        if rng.random() < 0.2:
            cut = rng.randrange(len(text) + 1)
            text = text[:cut]
        try:
            parse(text)
        except CqlSyntaxError as e:
            assert e.message.startswith("line ") or "Invalid" in e.message or "Multiple" in e.message, e.message


def test_marker_numbering_is_per_thread() -> None:
    import threading

    failures: list[object] = []

    def work() -> None:
        for _ in range(100):
            stmt = parse("UPDATE t SET a = ?, b = :x WHERE k = ? IF c = ?")
            got = [stmt.assignments[0].value, stmt.assignments[1].value, stmt.where[0].rhs, stmt.conditions[0].value]
            if got != [M(0), M(1, "x"), M(2), M(3)]:
                failures.append(got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
