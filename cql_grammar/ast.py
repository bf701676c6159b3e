"""Syntax tree of CQL statements: what the text says, nothing resolved against a schema.

Identifiers arrive already case-folded (unquoted names lowered, quoted names kept verbatim).
Every node is a frozen, slotted dataclass; the executor never looks at CQL text again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------- terms


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant. kind: string, int, float, bool, uuid, hex, duration, null.

    value: str for string/duration (duration keeps its text, e.g. '1h30m' or 'P1D'),
    int for int, float for float (NaN/Infinity included), bool, uuid.UUID, bytes for hex, None for null.
    text: for a float, the literal as written (e.g. '3.14159265358979323846'), so a decimal receiver keeps
    every digit; None otherwise. Not part of equality.
    """

    kind: str
    value: Any
    text: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class BindMarker:
    """`?` (name None) or `:name`. index: position among the statement's markers, from 0."""

    index: int
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CollectionLiteral:
    """kind: list, set or map. items: terms, or (key, value) pairs for a map. `{}` is a map."""

    kind: str
    items: tuple


@dataclass(frozen=True, slots=True)
class TupleLiteral:
    items: tuple


@dataclass(frozen=True, slots=True)
class UdtLiteral:
    """`{field: term, ...}` whose keys are identifiers."""

    fields: tuple  # tuple[tuple[str, Term], ...]


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """name lower-cased (keyspace-qualified as 'ks.fn'); args are terms or selector expressions."""

    name: str
    args: tuple


@dataclass(frozen=True, slots=True)
class Star:
    """The `*` inside count(*)."""


@dataclass(frozen=True, slots=True)
class Cast:
    """CAST(expr AS type)."""

    expr: Any
    type: TypeRef


@dataclass(frozen=True, slots=True)
class TypeHint:
    """(type) term."""

    type: TypeRef
    term: Any


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """Arithmetic: op in + - * / %."""

    op: str
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Negate:
    term: Any


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A column named inside an expression (selectors, `SET c = c + 1`)."""

    name: str


@dataclass(frozen=True, slots=True)
class FieldRef:
    """expr.field (UDT field selection)."""

    expr: Any
    field: str


@dataclass(frozen=True, slots=True)
class ElementRef:
    """expr[key] (collection element selection)."""

    expr: Any
    key: Any


# ---------------------------------------------------------------- names and types


@dataclass(frozen=True, slots=True)
class TableName:
    keyspace: str | None
    name: str


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A CQL type as written. name: 'int', 'text', 'list', 'map', 'set', 'tuple', 'frozen',
    or a user type name (keyspace set when qualified); args: the type parameters.
    A quoted custom type ('org.apache...DurationType') has name 'custom' and the class in keyspace=None,
    args=() and custom set."""

    name: str
    args: tuple = ()
    keyspace: str | None = None
    custom: str | None = None


# ---------------------------------------------------------------- clauses


@dataclass(frozen=True, slots=True)
class Using:
    ttl: Any = None  # Term or None
    timestamp: Any = None


@dataclass(frozen=True, slots=True)
class TokenRef:
    """token(col, ...) on the left of a relation."""

    columns: tuple


@dataclass(frozen=True, slots=True)
class Relation:
    """WHERE relation.

    lhs: a column name (str), a tuple of names (multi-column relation), or TokenRef;
    ElementRef(ColumnRef(col), key) for a map-entry relation `m['k'] = v`.
    op: '=', '<', '<=', '>', '>=', '!=', 'IN', 'CONTAINS', 'CONTAINS KEY', 'LIKE', 'IS NOT'.
    rhs: a term; for IN a tuple of terms, or a single BindMarker (`IN ?`).
    For multi-column relations the rhs is a TupleLiteral / BindMarker, and for IN a tuple of those.
    """

    lhs: Any
    op: str
    rhs: Any


@dataclass(frozen=True, slots=True)
class Condition:
    """IF condition: column [element] [.field] op value. op as in Relation (no LIKE); IN rhs as there."""

    column: str
    op: str
    value: Any
    element: Any = None  # term for `col[term]`
    field: str | None = None  # for `col.field`


@dataclass(frozen=True, slots=True)
class ColumnDef:
    name: str
    type: TypeRef
    static: bool = False


@dataclass(frozen=True, slots=True)
class Selector:
    expr: Any  # ColumnRef, FunctionCall, Cast, FieldRef, ElementRef, Literal, ...
    alias: str | None = None


# ---------------------------------------------------------------- assignments (UPDATE SET)


@dataclass(frozen=True, slots=True)
class SetValue:
    column: str
    value: Any


@dataclass(frozen=True, slots=True)
class SetElement:
    """col[key] = value (list index or map key)."""

    column: str
    key: Any
    value: Any


@dataclass(frozen=True, slots=True)
class SetField:
    """col.field = value (non-frozen UDT)."""

    column: str
    field: str
    value: Any


@dataclass(frozen=True, slots=True)
class AddTo:
    """col = col + value, or col += value."""

    column: str
    value: Any


@dataclass(frozen=True, slots=True)
class SubtractFrom:
    """col = col - value, or col -= value."""

    column: str
    value: Any


@dataclass(frozen=True, slots=True)
class Prepend:
    """col = value + col (lists)."""

    column: str
    value: Any


@dataclass(frozen=True, slots=True)
class DeleteTarget:
    """DELETE col, col[key], col.field."""

    column: str
    element: Any = None
    field: str | None = None


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class CreateKeyspace:
    name: str
    if_not_exists: bool
    properties: dict = field(default_factory=dict)  # 'replication' -> dict[str, str], 'durable_writes' -> bool


@dataclass(frozen=True, slots=True)
class AlterKeyspace:
    name: str
    if_exists: bool
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DropKeyspace:
    name: str
    if_exists: bool


@dataclass(frozen=True, slots=True)
class CreateTable:
    table: TableName
    if_not_exists: bool
    columns: tuple  # tuple[ColumnDef, ...] in written order
    partition_key: tuple  # tuple[str, ...]
    clustering: tuple  # tuple[str, ...]
    clustering_order: tuple = ()  # tuple[tuple[str, 'ASC'|'DESC'], ...]
    properties: dict = field(default_factory=dict)  # option name -> str/int/float/bool/dict
    compact_storage: bool = False
    error: str | None = None  # a semantic error found while parsing (reported as InvalidRequest)


@dataclass(frozen=True, slots=True)
class AlterTable:
    table: TableName
    if_exists: bool = False
    add: tuple = ()  # tuple[ColumnDef, ...]
    add_if_not_exists: bool = False
    drop: tuple = ()  # tuple[str, ...]
    drop_if_exists: bool = False
    renames: tuple = ()  # tuple[tuple[str, str], ...]
    alter_type: tuple | None = None  # (column, TypeRef)
    properties: dict = field(default_factory=dict)
    drop_timestamp: int | None = None  # DROP ... USING TIMESTAMP n (microseconds)


@dataclass(frozen=True, slots=True)
class DropTable:
    table: TableName
    if_exists: bool


@dataclass(frozen=True, slots=True)
class Truncate:
    table: TableName


@dataclass(frozen=True, slots=True)
class CreateType:
    name: TableName
    if_not_exists: bool
    fields: tuple  # tuple[tuple[str, TypeRef], ...]


@dataclass(frozen=True, slots=True)
class AlterType:
    name: TableName
    if_exists: bool = False
    add: tuple = ()  # tuple[tuple[str, TypeRef], ...]
    renames: tuple = ()  # tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class DropType:
    name: TableName
    if_exists: bool


@dataclass(frozen=True, slots=True)
class CreateIndex:
    name: str | None
    table: TableName
    column: str
    target: str  # 'values' (default), 'keys', 'entries', 'full'
    if_not_exists: bool
    custom_class: str | None = None
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DropIndex:
    name: TableName  # keyspace may be None
    if_exists: bool


@dataclass(frozen=True, slots=True)
class Use:
    keyspace: str


@dataclass(frozen=True, slots=True)
class Insert:
    table: TableName
    columns: tuple  # tuple[str, ...]; empty for JSON
    values: tuple  # tuple[Term, ...]
    if_not_exists: bool = False
    using: Using = Using()
    json: Any = None  # Term (string literal or marker) for INSERT JSON
    json_default_unset: bool = False  # DEFAULT UNSET (DEFAULT NULL is the default)


@dataclass(frozen=True, slots=True)
class Update:
    table: TableName
    assignments: tuple  # SetValue | SetElement | SetField | AddTo | SubtractFrom | Prepend
    where: tuple  # tuple[Relation, ...]
    using: Using = Using()
    conditions: tuple = ()  # tuple[Condition, ...]
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class Delete:
    table: TableName
    columns: tuple  # tuple[DeleteTarget, ...]; empty deletes the row(s)
    where: tuple
    using: Using = Using()
    conditions: tuple = ()
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class Select:
    table: TableName
    selectors: tuple | None  # None for *
    where: tuple = ()
    distinct: bool = False
    json: bool = False
    group_by: tuple = ()  # tuple[str, ...]
    order_by: tuple = ()  # tuple[tuple[str, 'ASC'|'DESC'], ...]
    per_partition_limit: Any = None
    limit: Any = None
    allow_filtering: bool = False


@dataclass(frozen=True, slots=True)
class Batch:
    kind: str  # 'LOGGED', 'UNLOGGED', 'COUNTER'
    statements: tuple  # tuple[Insert | Update | Delete, ...]
    using: Using = Using()


@dataclass(frozen=True, slots=True)
class Describe:
    """DESCRIBE / DESC.

    what: 'keyspaces', 'keyspace', 'tables', 'table', 'types', 'type', 'functions', 'function',
    'aggregates', 'aggregate', 'index', 'materialized_view', 'schema', 'cluster', 'generic'.
    """

    what: str
    keyspace: str | None = None
    name: str | None = None
    only: bool = False  # DESC ONLY KEYSPACE
    full: bool = False  # DESC FULL SCHEMA
    with_internals: bool = False


@dataclass(frozen=True, slots=True)
class CreateFunction:
    """CREATE [OR REPLACE] FUNCTION / AGGREGATE (aggregate True); arg_types as written."""

    name: TableName
    if_not_exists: bool
    arg_types: tuple
    aggregate: bool = False
    state_function: str | None = None


@dataclass(frozen=True, slots=True)
class DropFunction:
    name: TableName
    if_exists: bool
    aggregate: bool = False
    arg_types: tuple | None = None


@dataclass(frozen=True, slots=True)
class MaterializedViewStatement:
    """CREATE / ALTER / DROP MATERIALIZED VIEW (action 'create', 'alter', 'drop')."""

    action: str
    name: TableName
    if_flag: bool = False


@dataclass(frozen=True, slots=True)
class TriggerStatement:
    """CREATE / DROP TRIGGER (action 'create', 'drop')."""

    action: str
    name: str
    table: TableName
    if_flag: bool = False
    trigger_class: str | None = None


@dataclass(frozen=True, slots=True)
class RoleStatement:
    """CREATE / ALTER / DROP ROLE or USER. options: password, login, superuser, options (a map)."""

    action: str
    name: str
    if_flag: bool = False
    options: dict = field(default_factory=dict)
    user_syntax: bool = False


@dataclass(frozen=True, slots=True)
class GrantRole:
    role: str
    grantee: str
    revoke: bool = False


@dataclass(frozen=True, slots=True)
class PermissionStatement:
    """GRANT / REVOKE / LIST of permissions (action 'grant', 'revoke', 'list')."""

    action: str


@dataclass(frozen=True, slots=True)
class ListRoles:
    of: str | None = None
    norecursive: bool = False
    users: bool = False


Statement = (
    CreateKeyspace
    | AlterKeyspace
    | DropKeyspace
    | CreateTable
    | AlterTable
    | DropTable
    | Truncate
    | CreateType
    | AlterType
    | DropType
    | CreateIndex
    | DropIndex
    | Use
    | Insert
    | Update
    | Delete
    | Select
    | Batch
    | Describe
)
