"""Schema statements: keyspaces, tables, types, indexes, USE. Each change is durable and visible in
system_schema before the Schema_change result leaves, so drivers that query straight away see it."""

from __future__ import annotations

import re
import uuid

from cql_grammar import ast
from server import messages as msg
from server.dispatch import Result
from server.errors import AlreadyExists, ConfigurationException, InvalidRequest, SyntaxException
from server.statements.tables import durations_refused, keyspace_of
from storage import cqltypes
from storage.schema import CLUSTERING, DEFAULT_TABLE_OPTIONS, PARTITION_KEY, REGULAR, STATIC, Column, Keyspace, Table

SYSTEM_KEYSPACES = (
    "system",
    "system_schema",
    "system_auth",
    "system_distributed",
    "system_traces",
    "system_views",
    "system_virtual_schema",
)
NAME_RE = re.compile(r"^\w{1,48}$")
STRATEGIES = {
    "SimpleStrategy": "org.apache.cassandra.locator.SimpleStrategy",
    "NetworkTopologyStrategy": "org.apache.cassandra.locator.NetworkTopologyStrategy",
    "LocalStrategy": "org.apache.cassandra.locator.LocalStrategy",
    "EverywhereStrategy": "org.apache.cassandra.locator.EverywhereStrategy",
}
DEFAULT_KEYSPACE_RF = "1"
LOCAL_DC = "datacenter1"
KEYSPACES_ONLY = {"SingleRegionStrategy"}  # Amazon Keyspaces: accepted, with a warning


def schema_result(change: str, target: str, keyspace: str, name: str | None = None, warnings=None) -> Result:
    return Result(
        msg.schema_change_body(change, target, keyspace, name),
        warnings,
        msg.schema_change_event_body(change, target, keyspace, name),
    )


def _check_name(kind: str, name: str) -> None:
    if not NAME_RE.match(name):
        raise InvalidRequest(
            f'{kind} name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got "{name}")'
        )


def _not_system(name: str) -> None:
    if name in SYSTEM_KEYSPACES:
        raise InvalidRequest(f"{name} keyspace is not user-modifiable")


def replication(props: dict, warnings: list[str], datacenters: tuple[str, ...] = ()) -> dict[str, str]:
    rep = props.get("replication", {})
    if not isinstance(rep, dict):
        raise InvalidRequest("Invalid value for property 'replication'")
    rep = {str(k): str(v) for k, v in rep.items()}
    cls = rep.get("class")
    if not cls:
        # Cassandra 4.1+: no class means NetworkTopologyStrategy, and no factor default_keyspace_rf (1),
        # in the local datacenter.
        rep["class"] = cls = STRATEGIES["NetworkTopologyStrategy"]
    short = cls.rsplit(".", 1)[-1]
    if short in KEYSPACES_ONLY:
        warnings.append(
            f"Replication strategy {short} is an Amazon Keyspaces option; cqld treats it as SimpleStrategy with replication_factor 3"
        )
        return {"class": STRATEGIES["SimpleStrategy"], "replication_factor": "3"}
    full = STRATEGIES.get(short)
    if full is None or (cls != short and cls != full):
        raise ConfigurationException(f"Unable to find replication strategy class '{cls}'")
    rep["class"] = full
    if short == "SimpleStrategy":
        if "replication_factor" not in rep:
            raise ConfigurationException("SimpleStrategy requires a replication_factor strategy option.")
        unknown = [k for k in rep if k not in ("class", "replication_factor")]
        if unknown:
            raise ConfigurationException(
                f"Unrecognized strategy option {{{', '.join(unknown)}}} passed to SimpleStrategy for keyspace"
            )
    if short == "NetworkTopologyStrategy":
        # replication_factor (or nothing: default_keyspace_rf) applies to every datacenter, i.e. ours.
        rf = rep.pop("replication_factor", None)
        if len(rep) == 1:
            rep[(datacenters or (LOCAL_DC,))[0]] = rf or DEFAULT_KEYSPACE_RF
    if short == "NetworkTopologyStrategy" and datacenters:
        unknown = [k for k in rep if k not in ("class", "replication_factor") and k not in datacenters]
        if unknown:
            raise ConfigurationException(
                f"Unrecognized strategy option {{{', '.join(unknown)}}} passed to NetworkTopologyStrategy for keyspace"
            )
    for k, v in rep.items():
        if k == "class":
            continue
        try:
            n = int(v)
        except ValueError:
            raise ConfigurationException(f"Replication factor must be numeric; found {v}") from None
        if n < 0:
            raise ConfigurationException(f"Replication factor must be non-negative; found {v}")
    return rep


# Simple types whose values a column of the key type can read (Cassandra's isValueCompatibleWith).
_READ_COMPATIBLE = {
    "text": {"ascii", "varchar"},
    "varchar": {"ascii", "text"},
    "bigint": {"timestamp"},
    "timestamp": {"bigint"},
    "varint": {"int", "bigint", "smallint", "tinyint"},
}


def _check_readd(table: Table, name: str, new_type) -> None:
    """Re-adding a dropped column: its type must read the old cells (AlterTableStatement.AddColumns)."""
    old = table.dropped[name][0]
    new = new_type.cql_name()
    if table.is_counter:
        raise InvalidRequest(f"Cannot re-add previously dropped counter column {name}")
    if old == new or (new == "blob" and not new_type.is_multicell):
        return
    old_multicell = old.startswith(("list<", "set<", "map<"))
    if not old_multicell and not new_type.is_multicell and old in _READ_COMPATIBLE.get(new, ()):
        return
    raise InvalidRequest(
        f"Cannot re-add previously dropped column '{name}' of type {new}, incompatible with previous type {old}"
    )


def _extra_keyspace_props(props: dict, warnings: list[str]) -> None:
    for k in props:
        if k in ("replication", "durable_writes"):
            continue
        if k in ("tags", "custom_properties"):
            warnings.append(f"Property '{k}' is an Amazon Keyspaces option and was ignored")
            continue
        raise SyntaxException(f"Unknown property '{k}'")


class DDL:
    def __init__(self, node) -> None:
        self.node = node

    @property
    def schema(self):
        return self.node.schema

    def execute(self, session, stmt) -> Result:
        handler = getattr(self, "_" + type(stmt).__name__)
        return handler(session, stmt)

    def _changed(self) -> None:
        self.node.schema_changed()

    # ------------------------------------------------------------ keyspaces

    def _CreateKeyspace(self, session, s: ast.CreateKeyspace) -> Result:
        _check_name("Keyspace", s.name)
        warnings: list[str] = []
        if s.name in self.schema.keyspaces or s.name in SYSTEM_KEYSPACES:
            if s.if_not_exists:
                return Result(msg.VOID_BODY)
            raise AlreadyExists(f'Cannot add existing keyspace "{s.name}"', s.name)
        rep = replication(s.properties, warnings, self._datacenters())
        _extra_keyspace_props(s.properties, warnings)
        ks = Keyspace(s.name, rep, bool(s.properties.get("durable_writes", True)))
        rf = ks.replication_factor()
        if rf > self.node.config.replicas:
            warnings.append(
                f"Your replication factor {rf} for keyspace {s.name} is higher than the number of replica shards "
                f"({self.node.config.replicas}); each partition is placed on {self.node.config.replicas}"
            )
        self.schema.keyspaces[s.name] = ks
        self._changed()
        return schema_result("CREATED", "KEYSPACE", s.name, warnings=warnings or None)

    def _datacenters(self) -> tuple[str, ...]:
        cfg = getattr(self.node, "config", None)
        dc = getattr(cfg, "datacenter", None)
        return (dc,) if dc else ()

    def _AlterKeyspace(self, session, s: ast.AlterKeyspace) -> Result:
        _not_system(s.name)
        ks = self.schema.keyspaces.get(s.name)
        if ks is None:
            if s.if_exists:
                return Result(msg.VOID_BODY)
            raise InvalidRequest(f"Keyspace '{s.name}' doesn't exist")
        warnings: list[str] = []
        if "replication" in s.properties:
            rep = s.properties["replication"]
            if (
                isinstance(rep, dict)
                and str(rep.get("class", "")).endswith("NetworkTopologyStrategy")
                and len(rep) == 1
            ):
                # CASSANDRA-12681: altering to NetworkTopologyStrategy must name a datacenter.
                raise ConfigurationException("Configuration for at least one datacenter must be present")
            ks.replication = replication(s.properties, warnings, self._datacenters())
        if "durable_writes" in s.properties:
            ks.durable_writes = bool(s.properties["durable_writes"])
        _extra_keyspace_props(s.properties, warnings)
        self._changed()
        return schema_result("UPDATED", "KEYSPACE", s.name, warnings=warnings or None)

    def _DropKeyspace(self, session, s: ast.DropKeyspace) -> Result:
        _not_system(s.name)
        ks = self.schema.keyspaces.get(s.name)
        if ks is None:
            if s.if_exists:
                return Result(msg.VOID_BODY)
            raise ConfigurationException(f"Cannot drop non existing keyspace '{s.name}'.")
        for t in ks.tables.values():
            self.node.replicas.drop_table(t.id_bytes)
        del self.schema.keyspaces[s.name]
        self._changed()
        return schema_result("DROPPED", "KEYSPACE", s.name)

    # ------------------------------------------------------------ tables

    def _keyspace(self, name: ast.TableName, session) -> Keyspace:
        ks_name = keyspace_of(name, session.keyspace)
        ks = self.schema.keyspaces.get(ks_name)
        if ks is None:
            if ks_name in SYSTEM_KEYSPACES:
                raise InvalidRequest(f"{ks_name} keyspace is not user-modifiable")
            raise InvalidRequest(f"Keyspace '{ks_name}' doesn't exist")
        return ks

    def _resolve_type(self, ref, ks: Keyspace):
        try:
            return cqltypes.type_from_ref(ref, self.schema.udt_lookup, ks.name)
        except ValueError as e:
            raise InvalidRequest(str(e)) from None

    def _CreateTable(self, session, s: ast.CreateTable) -> Result:
        if s.error:
            raise InvalidRequest(s.error)
        ks = self._keyspace(s.table, session)
        _check_name("Table", s.table.name)
        if s.table.name in ks.tables:
            if s.if_not_exists:
                return Result(msg.VOID_BODY)
            raise AlreadyExists(
                f'Cannot add already existing table "{s.table.name}" to keyspace "{ks.name}"', ks.name, s.table.name
            )
        defs: dict[str, ast.ColumnDef] = {}
        for c in s.columns:
            if c.name in defs:
                raise InvalidRequest(f"Duplicate column '{c.name}' declaration for table '{s.table.name}'")
            defs[c.name] = c
        if not s.partition_key:
            raise InvalidRequest(f"No PRIMARY KEY specifed for table '{s.table.name}' (exactly one required)")
        order = {name: d.upper() for name, d in s.clustering_order}
        for name in order:
            if name not in s.clustering:
                if name not in defs:
                    raise InvalidRequest(f"Unknown definition {name} referenced in CLUSTERING ORDER BY")
                raise InvalidRequest("Only clustering key columns can be defined in CLUSTERING ORDER directive")
        if order and [n for n, _ in s.clustering_order] != list(s.clustering[: len(order)]):
            raise InvalidRequest(
                "The order of columns in the CLUSTERING ORDER directive must be the one of the clustering key"
            )
        columns: dict[str, Column] = {}
        seen_key = set()
        for kind, names in ((PARTITION_KEY, s.partition_key), (CLUSTERING, s.clustering)):
            for i, name in enumerate(names):
                d = defs.get(name)
                if d is None:
                    raise InvalidRequest(f"Unknown definition {name} referenced in PRIMARY KEY")
                if name in seen_key:
                    raise InvalidRequest(f"Column {name} appears twice in the PRIMARY KEY")
                seen_key.add(name)
                if d.static:
                    raise InvalidRequest(f"Static column {name} cannot be part of the PRIMARY KEY")
                t = self._resolve_type(d.type, ks)
                if t.is_collection and t.is_multicell:
                    raise InvalidRequest(
                        f"Invalid non-frozen collection type {t.cql_name()} for PRIMARY KEY column '{name}'"
                    )
                if getattr(t, "is_multicell", False) and isinstance(t, cqltypes.UserType):
                    raise InvalidRequest(
                        f"Invalid non-frozen user-defined type {t.cql_name()} for PRIMARY KEY column '{name}'"
                    )
                if t.cql_name() == "counter":
                    raise InvalidRequest(f"counter type is not supported for PRIMARY KEY column '{name}'")
                ordering = "none" if kind == PARTITION_KEY else order.get(name, "ASC").lower()
                columns[name] = Column(name, t, kind, i, ordering)
        has_counter = False
        has_regular = False
        for name, d in defs.items():
            if name in columns:
                continue
            t = self._resolve_type(d.type, ks)
            if d.static and not s.clustering:
                raise InvalidRequest(
                    "Static columns are only useful (and thus allowed) if the table has at least one clustering column"
                )
            is_counter = t.cql_name() == "counter"
            has_counter |= is_counter
            has_regular |= not is_counter
            columns[name] = Column(name, t, STATIC if d.static else REGULAR)
        if has_counter and has_regular:
            raise InvalidRequest("Cannot mix counter and non counter columns in the same table")
        options = dict(DEFAULT_TABLE_OPTIONS)
        warnings: list[str] = []
        options.update(self._table_options(s.properties, warnings))
        if has_counter and options.get("default_time_to_live"):
            raise InvalidRequest("Cannot set default_time_to_live on a table with counters")
        table = Table(ks.name, s.table.name, uuid.uuid1(), columns, options)
        ks.tables[table.name] = table
        self._changed()
        return schema_result("CREATED", "TABLE", ks.name, table.name, warnings or None)

    def _table_options(self, props: dict, warnings: list[str]) -> dict:
        out = {}
        for k, v in props.items():
            if k in (
                "tags",
                "custom_properties",
                "capacity_mode",
                "point_in_time_recovery",
                "encryption_specification",
                "ttl",
            ):
                warnings.append(f"Table property '{k}' is an Amazon Keyspaces option and was ignored")
                continue
            if k not in DEFAULT_TABLE_OPTIONS and k not in ("id",):
                raise SyntaxException(f"Unknown property '{k}'")
            default = DEFAULT_TABLE_OPTIONS.get(k)
            if isinstance(default, bool):
                v = v if isinstance(v, bool) else str(v).lower() == "true"
            elif isinstance(default, int):
                try:
                    v = int(v)
                except (TypeError, ValueError):
                    raise ConfigurationException(f"Invalid value for {k}: {v}") from None
                if v < 0:
                    raise ConfigurationException(f"{k} must be greater than or equal to 0 (got {v})")
            elif isinstance(default, float):
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    raise ConfigurationException(f"Invalid value for {k}: {v}") from None
            elif isinstance(default, dict):
                if not isinstance(v, dict):
                    raise ConfigurationException(f"Invalid value for property '{k}'")
                v = {str(a): str(b) if not isinstance(b, bool) else str(b).lower() for a, b in v.items()}
            else:
                v = str(v)
            out[k] = v
        return out

    def _table(self, session, name: ast.TableName, if_exists: bool = False) -> Table | None:
        if if_exists and keyspace_of(name, session.keyspace) not in self.schema.keyspaces:
            return None
        ks = self._keyspace(name, session)
        t = ks.tables.get(name.name)
        if t is None and not if_exists:
            raise InvalidRequest(f"Table '{ks.name}.{name.name}' doesn't exist")
        return t

    def _AlterTable(self, session, s: ast.AlterTable) -> Result:
        table = self._table(session, s.table, s.if_exists)
        if table is None:
            return Result(msg.VOID_BODY)
        ks = self.schema.keyspaces[table.keyspace]
        warnings: list[str] = []
        for d in s.add:
            if d.name in table.columns:
                if s.add_if_not_exists:
                    continue
                raise InvalidRequest(f"Column with name '{d.name}' already exists")
            t = self._resolve_type(d.type, ks)
            if d.static and not table.clustering:
                raise InvalidRequest(
                    "Static columns are not allowed in COMPACT STORAGE tables or tables without clustering columns"
                )
            if (t.cql_name() == "counter") != table.is_counter and table.regulars + table.statics:
                raise InvalidRequest("Cannot mix counter and non counter columns in the same table")
            if d.name in table.dropped:
                _check_readd(table, d.name, t)
            table.columns[d.name] = Column(d.name, t, STATIC if d.static else REGULAR)
        for name in s.drop:
            col = table.columns.get(name)
            if col is None:
                if s.drop_if_exists:
                    continue
                raise InvalidRequest(f"Column {name} was not found in table {table.name}")
            if col.kind in (PARTITION_KEY, CLUSTERING):
                raise InvalidRequest(f"Cannot drop PRIMARY KEY column {name}")
            from server.statements.tables import now_micros

            at = s.drop_timestamp if s.drop_timestamp is not None else now_micros()
            table.dropped[name] = (col.type.cql_name(), at)
            del table.columns[name]
        for old, new in s.renames:
            col = table.columns.get(old)
            if col is None:
                raise InvalidRequest(f"Column {old} was not found in table {table.keyspace}.{table.name}")
            if col.kind not in (PARTITION_KEY, CLUSTERING):
                raise InvalidRequest(f"Cannot rename non PRIMARY KEY column {old}")
            if new in table.columns:
                raise InvalidRequest(
                    f"Cannot rename column {old} to {new} in table '{table.name}'; another column with that name already exists"
                )
            del table.columns[old]
            col.name = new
            table.columns[new] = col
        if s.alter_type is not None:
            raise InvalidRequest("Altering column types is no longer supported")
        if s.properties:
            table.options.update(self._table_options(s.properties, warnings))
        if s.renames:
            # Rows store clustering values positionally and cells by name: rename the cells' owner columns
            # only for key columns, whose values live in keys, so no data moves.
            pass
        table.refresh()
        self._changed()
        return schema_result("UPDATED", "TABLE", table.keyspace, table.name, warnings or None)

    def _DropTable(self, session, s: ast.DropTable) -> Result:
        if s.if_exists and keyspace_of(s.table, session.keyspace) not in self.schema.keyspaces:
            return Result(msg.VOID_BODY)
        ks = self._keyspace(s.table, session)
        table = ks.tables.get(s.table.name)
        if table is None:
            if s.if_exists:
                return Result(msg.VOID_BODY)
            raise InvalidRequest(f"Table '{ks.name}.{s.table.name}' doesn't exist")
        self.node.replicas.drop_table(table.id_bytes)
        del ks.tables[table.name]
        self._changed()
        return schema_result("DROPPED", "TABLE", ks.name, table.name)

    def _Truncate(self, session, s: ast.Truncate) -> Result:
        from server.statements.tables import resolve_table

        table = resolve_table(self.schema, s.table, session.keyspace)
        self.node.replicas.drop_table(table.id_bytes)
        return Result(msg.VOID_BODY)

    # ------------------------------------------------------------ types

    def _CreateType(self, session, s: ast.CreateType) -> Result:
        ks = self._keyspace(s.name, session)
        if s.name.name in ks.types:
            if s.if_not_exists:
                return Result(msg.VOID_BODY)
            raise InvalidRequest(f"A user type with name '{s.name.name}' already exists")
        names = [n for n, _ in s.fields]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise InvalidRequest(f"Duplicate field name {sorted(dup)[0]} in type {s.name.name}")
        types = []
        for _name, ref in s.fields:
            t = self._resolve_type(ref, ks)
            if t.cql_name() == "counter":
                raise InvalidRequest("A user type cannot contain counters")
            if t.is_collection and t.is_multicell:
                raise InvalidRequest(f"Non-frozen collections are not allowed inside user types: {t.cql_name()}")
            types.append(t)
        ks.types[s.name.name] = cqltypes.UserType(ks.name, s.name.name, names, types)
        self._changed()
        return schema_result("CREATED", "TYPE", ks.name, s.name.name)

    def _AlterType(self, session, s: ast.AlterType) -> Result:
        ks = self._keyspace(s.name, session)
        old = ks.types.get(s.name.name)
        if old is None:
            if s.if_exists:
                return Result(msg.VOID_BODY)
            raise InvalidRequest(f"No user type named {s.name.name} exists.")
        names = list(old.field_names)
        types = list(old.field_types)
        for n, ref in s.add:
            if n in names:
                raise InvalidRequest(
                    f"Cannot add new field {n} to type {s.name.name}: a field of the same name already exists"
                )
            ft = self._resolve_type(ref, ks)
            in_key = _tables_keyed_by_type(ks, old.name)
            if in_key:
                raise InvalidRequest(
                    f"Cannot add new field {n} of type {ft.cql_name()} to user type {ks.name}.{old.name} as the type"
                    f" is being used in partition key by the following tables: {', '.join(in_key)}"
                )
            names.append(n)
            types.append(ft)
        if s.renames:
            in_key = _tables_keyed_by_type(ks, old.name)
            if in_key:
                # A partition key's serialized form must not change meaning (Cassandra's dtest
                # test_udt_change_in_partition_key rejects RENAME as it does ADD).
                raise InvalidRequest(
                    f"Cannot rename fields of user type {ks.name}.{old.name} as the type is being used in"
                    f" partition key by the following tables: {', '.join(in_key)}"
                )
        for a, b in s.renames:
            if a not in names:
                raise InvalidRequest(f"Unknown field {a} in user type {s.name.name}")
            names[names.index(a)] = b
        new = cqltypes.UserType(ks.name, s.name.name, names, types)
        ks.types[s.name.name] = new
        self._replace_type(ks, old, new)
        self._changed()
        return schema_result("UPDATED", "TYPE", ks.name, s.name.name)

    def _replace_type(self, ks: Keyspace, old, new) -> None:
        for table in ks.tables.values():
            for col in table.columns.values():
                if col.type.references_udt(ks.name, old.name):
                    col.type = cqltypes.parse_type_string(col.type.cql_name(), self.schema.udt_lookup, ks.name)
            table.refresh()

    def _DropType(self, session, s: ast.DropType) -> Result:
        ks = self._keyspace(s.name, session)
        if s.name.name not in ks.types:
            if s.if_exists:
                return Result(msg.VOID_BODY)
            raise InvalidRequest(f"No user type named {s.name.name} exists.")
        for table in ks.tables.values():
            for col in table.columns.values():
                if col.type.references_udt(ks.name, s.name.name):
                    raise InvalidRequest(
                        f"Cannot drop user type {ks.name}.{s.name.name} as it is still used by table {ks.name}.{table.name}"
                    )
        del ks.types[s.name.name]
        self._changed()
        return schema_result("DROPPED", "TYPE", ks.name, s.name.name)

    # ------------------------------------------------------------ indexes

    def _CreateIndex(self, session, s: ast.CreateIndex) -> Result:
        table = self._table(session, s.table)
        col = table.columns.get(s.column)
        if col is None:
            raise InvalidRequest(f"Undefined column name {s.column} in table {table.keyspace}.{table.name}")
        name = s.name or f"{table.name}_{col.name}_idx"
        ks = self.schema.keyspaces[table.keyspace]
        for t in ks.tables.values():
            if name in t.indexes:
                if s.if_not_exists:
                    return Result(msg.VOID_BODY)
                raise InvalidRequest(f"Index '{name}' already exists")
        target = s.target
        _check_index_target(table, col, target)
        index = {"column": col.name, "target": target, "class": s.custom_class}
        same = next((n for n, i in table.indexes.items() if i == index), None)
        if same is not None:  # the same index under another name
            if s.if_not_exists:
                return Result(msg.VOID_BODY)
            raise InvalidRequest(f"Index {name} is a duplicate of existing index {same}")
        table.indexes[name] = index
        self._changed()
        return schema_result("UPDATED", "TABLE", table.keyspace, table.name)

    def _DropIndex(self, session, s: ast.DropIndex) -> Result:
        ks_name = s.name.keyspace or session.keyspace
        ks = self.schema.keyspaces.get(ks_name) if ks_name else None
        if ks is not None:
            for t in ks.tables.values():
                if s.name.name in t.indexes:
                    del t.indexes[s.name.name]
                    self._changed()
                    return schema_result("UPDATED", "TABLE", ks.name, t.name)
        if s.if_exists:
            return Result(msg.VOID_BODY)
        raise InvalidRequest(f"Index '{s.name.name}' could not be found in any of the tables of keyspace '{ks_name}'")

    # ------------------------------------------------------------ USE

    def _Use(self, session, s: ast.Use) -> Result:
        if s.keyspace not in self.schema.keyspaces and s.keyspace not in self.node.system_tables.keyspaces:
            raise InvalidRequest(f"Keyspace '{s.keyspace}' does not exist")
        session.keyspace = s.keyspace
        return Result(msg.set_keyspace_body(s.keyspace))


def _check_index_target(table, col, target: str) -> None:
    """What Cassandra's CREATE INDEX refuses, in its order and words (CreateIndexStatement)."""
    t = col.type
    if table.is_counter:
        raise InvalidRequest("Secondary indexes are not supported on counter tables")
    if cqltypes.has_duration(t):
        raise InvalidRequest(durations_refused("Secondary indexes", t))
    if col.kind == PARTITION_KEY and len(table.partition_key) == 1:
        raise InvalidRequest(f"Cannot create secondary index on the only partition key column {col.name}")
    frozen_collection = t.is_collection and not t.is_multicell
    # `values` is also what the grammar makes of a column without modifier, so only keys()/entries() are
    # certainly explicit here.
    if frozen_collection and target in ("keys", "entries"):
        raise InvalidRequest(
            f"Cannot create {target}() index on frozen column {col.name}. Frozen collections are immutable and must "
            f"be fully indexed by using the 'full({col.name})' modifier"
        )
    if not frozen_collection and target == "full":
        raise InvalidRequest("full() indexes can only be created on frozen collections")
    if not t.is_collection and target in ("keys", "entries"):
        raise InvalidRequest(
            f"Cannot create {target}() index on {col.name}. Non-collection columns only support simple indexes"
        )
    if target in ("keys", "entries") and not isinstance(t, cqltypes.MapType):
        raise InvalidRequest(f"Cannot create index on {target} of column {col.name} with non-map type")
    if isinstance(t, cqltypes.UserType) and t.is_multicell:
        raise InvalidRequest(f"Cannot create index on non-frozen UDT column {col.name}")


def _tables_keyed_by_type(ks, type_name: str) -> list[str]:
    """Tables whose partition key uses the type: its fields may then neither grow nor be renamed."""
    return [
        f"{ks.name}.{t.name}"
        for t in ks.tables.values()
        if any(c.type.references_udt(ks.name, type_name) for c in t.partition_key)
    ]
