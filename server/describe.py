"""Server-side DESCRIBE, shaped like Cassandra's ``DescribeStatement`` (cqlsh 6.x prints what we return).

Every ``create_statement`` is what Cassandra 4.x/5.0 prints (``KeyspaceMetadata.toCqlString``,
``TableMetadata.appendCqlTo``, ``TableParams.appendCqlTo``, ``IndexMetadata.appendCqlTo``,
``UserType.toCqlString``), restricted to the 4.x table option set that cqld accepts back
(no ``memtable``/``allow_auto_snapshot``/``incremental_backups``), so the output recreates the schema.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cql_grammar.parser import RESERVED_KEYWORDS
from server.errors import InvalidRequest
from storage import cqltypes
from storage.schema import DEFAULT_TABLE_OPTIONS

Columns = list[tuple[str, str]]
Rows = list[list[Any]]

LIST_COLUMNS: Columns = [("keyspace_name", "text"), ("type", "text"), ("name", "text")]
ELEMENT_COLUMNS: Columns = LIST_COLUMNS + [("create_statement", "text")]
CLUSTER_COLUMNS: Columns = [("cluster", "text"), ("partitioner", "text"), ("snitch", "text")]
RANGE_OWNERSHIP_COLUMN = ("range_ownership", "map<text, frozen<list<text>>>")

MIN_TOKEN = str(-(2**63))
INDENT = "    "

# Cassandra's ReservedKeywords (what ColumnIdentifier.maybeQuote checks) plus our own parser's reserved words,
# so that every printed identifier is accepted back by both.
_RESERVED = frozenset(cqltypes._RESERVED) | frozenset(RESERVED_KEYWORDS)


def quote(name: str) -> str:
    """ColumnIdentifier.maybeQuote: lowercase alnum/underscore starting with a letter, not reserved, stays bare."""
    if cqltypes._UNQUOTED_RE.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def single_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------- value formatting (Java style)


def java_double(value: Any) -> str:
    """Double.toString: plain notation in [1e-3, 1e7), else ``d.dddE±n``."""
    x = float(value)
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)
        if "e" in text or "E" in text:  # cannot happen in this range, but keep it plain
            text = format(decimal.Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign, digits, exp = decimal.Decimal(repr(x)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exponent = len(digits) - 1 + int(exp)
    mantissa = ds[0] + "." + (ds[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{exponent}"


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    return str(value)


def cql_map(values: Mapping[str, Any], quote_values: bool = True) -> str:
    """CqlBuilder.append(Map): keys sorted (TreeMap), ``{'k': 'v', ...}``."""
    parts = []
    for k in sorted(values, key=str):
        v = _option_text(values[k])
        parts.append(f"{single_quote(str(k))}: {single_quote(v) if quote_values else v}")
    return "{" + ", ".join(parts) + "}"


def _java_string_hash(s: str) -> int:
    data = s.encode("utf-16-be")
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i : i + 2], "big")) & 0xFFFFFFFF
    return h


def java_hashmap_order(keys: Iterable[str], size: int) -> list[str]:
    """Iteration order of ``new HashMap<>(m)`` for a map ``m`` of ``size`` entries holding (at least) ``keys``.

    Cassandra builds replication options through a HashMap, so that is the order DESCRIBE prints them in.
    """
    ft = size / 0.75 + 1.0
    want = max(int(ft), 1)
    cap = 1
    while cap < want:
        cap <<= 1
    buckets: dict[int, list[str]] = {}
    for k in keys:
        h = _java_string_hash(k)
        h ^= h >> 16
        buckets.setdefault(h & (cap - 1), []).append(k)
    return [k for i in sorted(buckets) for k in buckets[i]]


# ---------------------------------------------------------------- create statements


def keyspace_cql(ks: Any) -> str:
    name = quote(ks.name)
    if getattr(ks, "is_virtual", False):
        return (
            f"/*\nWarning: Keyspace {name} is a virtual keyspace and cannot be recreated with CQL.\n"
            f"Structure, for reference:\nVIRTUAL KEYSPACE {name};\n*/"
        )
    rep = {str(k): str(v) for k, v in ks.replication.items()}
    cls = rep.pop("class", "")
    parts = [f"'class': {single_quote(cls)}"]
    for k in java_hashmap_order(sorted(rep), len(rep) + 1):
        parts.append(f"{single_quote(k)}: {single_quote(rep[k])}")
    durable = "true" if ks.durable_writes else "false"
    return f"CREATE KEYSPACE {name} WITH replication = {{{', '.join(parts)}}}  AND durable_writes = {durable};"


def table_name(keyspace: str, name: str) -> str:
    return f"{quote(keyspace)}.{quote(name)}"


def _is_complex(t: Any) -> bool:
    return bool(getattr(t, "is_multicell", False))


def _utf8_key(name: str) -> bytes:
    return name.encode("utf-8")


def create_order(table: Any) -> list[Any]:
    """TableMetadata.allColumnsInCreateOrder: partition key, clustering, statics, regulars.

    Statics and regulars are each ordered as Cassandra's ``Columns``: simple before complex (non-frozen
    collections and UDTs), then by name bytes.
    """

    def rest(cols: Iterable[Any]) -> list[Any]:
        return sorted(cols, key=lambda c: (_is_complex(c.type), _utf8_key(c.name)))

    return list(table.partition_key) + list(table.clustering) + rest(table.statics) + rest(table.regulars)


def _column_cql(name: str, type_text: str, static: bool) -> str:
    return f"{quote(name)} {type_text}" + (" static" if static else "")


def _table_options(table: Any) -> list[str]:
    opts = dict(DEFAULT_TABLE_OPTIONS)
    opts.update(getattr(table, "options", None) or {})

    def get(key: str) -> Any:
        return opts.get(key, DEFAULT_TABLE_OPTIONS[key])

    ext = get("extensions") or {}
    ext_text = {}
    for k, v in ext.items():
        if isinstance(v, (bytes, bytearray, memoryview)):
            ext_text[k] = "0x" + bytes(v).hex()
        elif isinstance(v, str) and v.startswith("0x"):
            ext_text[k] = v
        else:
            ext_text[k] = "0x" + str(v).encode().hex()
    return [
        f"additional_write_policy = {single_quote(str(get('additional_write_policy')))}",
        f"bloom_filter_fp_chance = {java_double(get('bloom_filter_fp_chance'))}",
        f"caching = {cql_map(get('caching'))}",
        f"cdc = {_option_text(bool(get('cdc')))}",
        f"comment = {single_quote(str(get('comment')))}",
        f"compaction = {cql_map(get('compaction'))}",
        f"compression = {cql_map(get('compression'))}",
        f"crc_check_chance = {java_double(get('crc_check_chance'))}",
        f"default_time_to_live = {int(get('default_time_to_live'))}",
        f"extensions = {cql_map(ext_text, quote_values=False)}",
        f"gc_grace_seconds = {int(get('gc_grace_seconds'))}",
        f"max_index_interval = {int(get('max_index_interval'))}",
        f"memtable_flush_period_in_ms = {int(get('memtable_flush_period_in_ms'))}",
        f"min_index_interval = {int(get('min_index_interval'))}",
        f"read_repair = {single_quote(str(get('read_repair')))}",
        f"speculative_retry = {single_quote(str(get('speculative_retry')))}",
    ]


def table_cql(table: Any, with_internals: bool = False, virtual: bool = False) -> str:
    full_name = table_name(table.keyspace, table.name)
    dropped: dict[str, tuple[str, int]] = dict(getattr(table, "dropped", None) or {}) if with_internals else {}
    single_pk = len(table.partition_key) == 1 and not table.clustering

    out: list[str] = []
    keyword = "CREATE"
    if virtual:
        out.append(f"/*\nWarning: Table {full_name} is a virtual table and cannot be recreated with CQL.\n")
        out.append("Structure, for reference:\n")
        keyword = "VIRTUAL"
    out.append(f"{keyword} TABLE {full_name} (\n")

    defs: list[str] = []
    for c in create_order(table):
        if c.name in dropped:
            continue  # re-added after a drop: the ALTER TABLE ... ADD below recreates it
        text = _column_cql(c.name, c.type.cql_name(), c.kind == "static")
        if single_pk and c.kind == "partition_key":
            text += " PRIMARY KEY"
        defs.append(text)
    for name, (type_text, _ts) in dropped.items():
        defs.append(_column_cql(name, type_text, False))
    for i, text in enumerate(defs):
        last = i == len(defs) - 1
        out.append(INDENT + text + ("" if single_pk and last else ",") + "\n")
    if not single_pk:
        pk = [quote(c.name) for c in table.partition_key]
        pk_text = pk[0] if len(pk) == 1 else "(" + ", ".join(pk) + ")"
        ck = [quote(c.name) for c in table.clustering]
        out.append(INDENT + "PRIMARY KEY (" + ", ".join([pk_text, *ck]) + ")\n")
    out.append(") WITH ")

    clauses: list[str] = []
    if with_internals:
        clauses.append(f"ID = {table.id}")
    if table.clustering:
        order = ", ".join(f"{quote(c.name)} {'DESC' if c.order == 'desc' else 'ASC'}" for c in table.clustering)
        clauses.append(f"CLUSTERING ORDER BY ({order})")
    if virtual:
        opts = getattr(table, "options", None) or {}
        clauses.append(f"comment = {single_quote(str(opts.get('comment', '')))}")
    else:
        clauses.extend(_table_options(table))
    out.append(f"\n{INDENT}AND ".join(clauses) + ";")
    if virtual:
        out.append("\n*/")

    for name, (_type_text, ts) in dropped.items():
        out.append(f"\nALTER TABLE {full_name} DROP {quote(name)} USING TIMESTAMP {ts};")
        col = table.columns.get(name)
        if col is not None:
            added = _column_cql(col.name, col.type.cql_name(), col.kind == "static")
            out.append(f"\nALTER TABLE {full_name} ADD {added};")
    return "".join(out)


def index_target(table: Any, index: Mapping[str, Any]) -> str:
    """IndexTarget.asCqlString: bare column for non-collections, ``kind(column)`` for collections."""
    column = str(index.get("column"))
    kind = index.get("target") or "values"
    col = table.columns.get(column)
    is_collection = bool(getattr(col.type, "is_collection", False)) if col is not None else kind != "values"
    return f"{kind}({quote(column)})" if is_collection else quote(column)


def index_cql(table: Any, name: str, index: Mapping[str, Any]) -> str:
    target = index_target(table, index)
    on = table_name(table.keyspace, table.name)
    custom = index.get("class")
    if custom:
        text = f"CREATE CUSTOM INDEX {quote(name)} ON {on} ({target}) USING {single_quote(str(custom))}"
        options = {k: v for k, v in (index.get("options") or {}).items() if k not in ("target", "class_name")}
        if options:
            text += f" WITH OPTIONS = {cql_map(options)}"
        return text + ";"
    return f"CREATE INDEX {quote(name)} ON {on} ({target});"


def type_cql(ut: Any) -> str:
    fields = []
    field_types = getattr(ut, "types", None) or ut.field_types
    for fname, ftype in zip(ut.field_names, field_types, strict=False):
        fields.append(f"{INDENT}{quote(fname)} {ftype.frozen().cql_name()}")
    return f"CREATE TYPE {quote(ut.keyspace)}.{quote(ut.name)} (\n" + ",\n".join(fields) + "\n);"


# ---------------------------------------------------------------- schema elements


def _referenced_udts(t: Any) -> Iterator[Any]:
    """UDTs referenced by ``t``, dependencies first (TableMetadata.addUserTypes / Types.sortedStream)."""
    subtypes: Iterable[Any] = ()
    if getattr(t, "is_udt", False):
        subtypes = getattr(t, "field_types", ())
    elif isinstance(t, cqltypes.MapType):
        subtypes = (t.key, t.value)
    elif isinstance(t, cqltypes.ListType):  # also SetType
        subtypes = (t.element,)
    elif getattr(t, "is_tuple", False):
        subtypes = getattr(t, "types", ())
    for sub in subtypes:
        yield from _referenced_udts(sub)
    if getattr(t, "is_udt", False):
        yield t


def sorted_types(ks: Any) -> list[Any]:
    """Types by name, each preceded by the types of this keyspace it depends on."""
    types: Mapping[str, Any] = ks.types
    seen: dict[str, Any] = {}
    for name in sorted(types, key=_utf8_key):
        for dep in _referenced_udts(types[name]):
            if dep.name in types and dep.name not in seen and getattr(dep, "keyspace", ks.name) == ks.name:
                seen[dep.name] = types[dep.name]
    return list(seen.values())


def _row(keyspace: str, kind: str, name: str, create: str | None = None) -> list[str | None]:
    row: list[str | None] = [quote(keyspace), kind, quote(name)]
    if create is not None:
        row.append(create)
    return row


def _table_rows(ks: Any, table: Any, with_internals: bool) -> Rows:
    virtual = bool(getattr(ks, "is_virtual", False) or getattr(table, "is_virtual", False))
    rows = [_row(ks.name, "table", table.name, table_cql(table, with_internals, virtual))]
    for iname in sorted(table.indexes, key=_utf8_key):
        rows.append(_row(ks.name, "index", iname, index_cql(table, iname, table.indexes[iname])))
    return rows


def _keyspace_rows(ks: Any, only: bool, with_internals: bool) -> Rows:
    rows = [_row(ks.name, "keyspace", ks.name, keyspace_cql(ks))]
    if only:
        return rows
    for ut in sorted_types(ks):
        rows.append(_row(ks.name, "type", ut.name, type_cql(ut)))
    # functions and aggregates: cqld has none
    for tname in sorted(ks.tables, key=_utf8_key):
        rows.extend(_table_rows(ks, ks.tables[tname], with_internals))
    return rows


def _find_index(ks: Any, name: str) -> tuple[Any, Mapping[str, Any]] | None:
    for tname in sorted(ks.tables, key=_utf8_key):
        table = ks.tables[tname]
        if name in table.indexes:
            return table, table.indexes[name]
    return None


# ---------------------------------------------------------------- entry point


def describe(
    stmt: Any,
    keyspaces: Iterable[Any],
    current_keyspace: str | None,
    cluster_name: str,
    partitioner: str = "Murmur3Partitioner",
    *,
    snitch: str = "SimpleSnitch",
    range_ownership: Mapping[str, list[str]] | None = None,
    address: str = "127.0.0.1",
) -> tuple[Columns, Rows]:
    """Run a parsed ``DESCRIBE`` (``cql_grammar.ast.Describe``) against ``keyspaces``.

    Returns (column specs as (name, cql type), rows). Raises ``InvalidRequest`` with Cassandra's messages.
    ``range_ownership`` (DESCRIBE CLUSTER with a user keyspace in use) defaults to the whole ring owned by
    ``address``.
    """
    by_name: dict[str, Any] = {ks.name: ks for ks in keyspaces}
    ordered = [by_name[n] for n in sorted(by_name, key=_utf8_key)]
    what = stmt.what
    internals = bool(getattr(stmt, "with_internals", False))

    def validate(name: str) -> Any:
        ks = by_name.get(name)
        if ks is None:
            raise InvalidRequest(f"'{name}' not found in keyspaces")
        return ks

    def element_keyspace() -> Any:
        name = stmt.keyspace if stmt.keyspace is not None else current_keyspace
        if name is None:
            raise InvalidRequest("No keyspace specified and no current keyspace")
        return validate(name)

    def listing(elements: Any) -> tuple[Columns, Rows]:
        kss = ordered if current_keyspace is None else [validate(current_keyspace)]
        rows: Rows = []
        for ks in kss:
            rows.extend(elements(ks))
        return LIST_COLUMNS, rows

    if what == "keyspaces":
        return LIST_COLUMNS, [_row(ks.name, "keyspace", ks.name) for ks in ordered]
    if what == "tables":
        return listing(lambda ks: [_row(ks.name, "table", t) for t in sorted(ks.tables, key=_utf8_key)])
    if what == "types":
        return listing(lambda ks: [_row(ks.name, "type", ut.name) for ut in sorted_types(ks)])
    if what in ("functions", "aggregates"):
        return listing(lambda ks: [])
    if what == "cluster":
        return _cluster(by_name, current_keyspace, cluster_name, partitioner, snitch, range_ownership, address)
    if what == "schema":
        rows: Rows = []
        for ks in ordered:
            if stmt.full or not getattr(ks, "is_system", False):
                rows.extend(_keyspace_rows(ks, False, internals))
        return ELEMENT_COLUMNS, rows
    if what == "keyspace":
        return ELEMENT_COLUMNS, _keyspace_rows(element_keyspace(), bool(stmt.only), internals)
    if what == "generic":
        return _generic(stmt, by_name, current_keyspace, internals)

    ks = element_keyspace()
    name = stmt.name
    if what == "table":
        table = ks.tables.get(name)
        if table is None:
            raise InvalidRequest(f"Table '{name}' not found in keyspace '{ks.name}'")
        return ELEMENT_COLUMNS, _table_rows(ks, table, internals)
    if what == "index":
        found = _find_index(ks, name)
        if found is None:
            raise InvalidRequest(f"Table for existing index '{name}' not found in '{ks.name}'")
        table, index = found
        return ELEMENT_COLUMNS, [_row(ks.name, "index", name, index_cql(table, name, index))]
    if what == "materialized_view":
        raise InvalidRequest(f"Materialized view '{name}' not found in '{ks.name}'")
    if what == "type":
        ut = ks.types.get(name)
        if ut is None:
            raise InvalidRequest(f"User defined type '{name}' not found in '{ks.name}'")
        return ELEMENT_COLUMNS, [_row(ks.name, "type", ut.name, type_cql(ut))]
    if what == "function":
        raise InvalidRequest(f"User defined function '{name}' not found in '{ks.name}'")
    if what == "aggregate":
        raise InvalidRequest(f"User defined aggregate '{name}' not found in '{ks.name}'")
    raise InvalidRequest(f"Unsupported DESCRIBE target '{what}'")


def _generic(stmt: Any, by_name: Mapping[str, Any], current: str | None, internals: bool) -> tuple[Columns, Rows]:
    """DESCRIBE <name>: a keyspace, else a table, an index or a view (in this order)."""
    name = stmt.name
    ks_name = stmt.keyspace
    if ks_name is None:
        if name in by_name:
            return ELEMENT_COLUMNS, _keyspace_rows(by_name[name], False, internals)
        ks_name = current if current is not None else name
    ks = by_name.get(ks_name)
    if ks is None:
        raise InvalidRequest(f"'{ks_name}' not found in keyspaces")
    table = ks.tables.get(name)
    if table is not None:
        return ELEMENT_COLUMNS, _table_rows(ks, table, internals)
    found = _find_index(ks, name)
    if found is not None:
        return ELEMENT_COLUMNS, [_row(ks.name, "index", name, index_cql(found[0], name, found[1]))]
    raise InvalidRequest(f"'{name}' not found in keyspace '{ks_name}'")


def _cluster(
    by_name: Mapping[str, Any],
    current: str | None,
    cluster_name: str,
    partitioner: str,
    snitch: str,
    range_ownership: Mapping[str, list[str]] | None,
    address: str,
) -> tuple[Columns, Rows]:
    partitioner = partitioner.removeprefix("org.apache.cassandra.dht.")
    snitch = snitch.removeprefix("org.apache.cassandra.locator.")
    row: list[Any] = [cluster_name, partitioner, snitch]
    ks = by_name.get(current) if current is not None else None
    if ks is None or getattr(ks, "is_system", False):
        return list(CLUSTER_COLUMNS), [row]
    ownership = dict(range_ownership) if range_ownership is not None else {MIN_TOKEN: [address]}
    row.append({str(k): list(v) for k, v in ownership.items()})
    return CLUSTER_COLUMNS + [RANGE_OWNERSHIP_COLUMN], [row]
