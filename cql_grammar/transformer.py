"""Builds `cql_grammar.ast` nodes from the Lark parse of `cql.lark`.

Used inline (``Lark(..., transformer=CqlTransformer())``) so no parse tree is ever built: each method gets
the already-transformed children of one grammar rule.  Keyword tokens of the rule are among the children
(named terminals are kept by Lark); most methods only look at the non-token children.

Bind markers are numbered in text order; the counter lives in a thread-local and is reset by `reset()`
before each parse.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from functools import partialmethod
from typing import Any

from lark import Token, Transformer

from cql_grammar import ast
from cql_grammar.errors import CqlSyntaxError

NAN = float("nan")  # one shared object, so that equal ASTs holding NaN compare equal
INF = float("inf")


@dataclass(frozen=True, slots=True)
class _Part:
    """An optional clause of a statement, identified by kind (internal to the transformer)."""

    kind: str
    value: Any = True


@dataclass(frozen=True, slots=True)
class _Const:
    """A property constant: its Python value and its raw text (used inside option maps)."""

    value: Any
    raw: str


@dataclass(frozen=True, slots=True)
class _ColumnItem:
    column: ast.ColumnDef
    primary_key: bool


@dataclass(frozen=True, slots=True)
class _PrimaryKeyItem:
    partition: tuple
    clustering: tuple


def _nodes(children: list) -> list:
    """The children that are not keyword/punctuation tokens."""
    return [c for c in children if not isinstance(c, Token)]


def _parts(children: list) -> dict[str, Any]:
    return {c.kind: c.value for c in children if isinstance(c, _Part)}


def _has(children: list, token_type: str) -> bool:
    return any(isinstance(c, Token) and c.type == token_type for c in children)


def _error(token: Token | None, message: str) -> CqlSyntaxError:
    if token is not None and getattr(token, "line", None) is not None:
        return CqlSyntaxError(f"line {token.line}:{(token.column or 1) - 1} {message}")
    return CqlSyntaxError(message)


def _table(children: list) -> ast.TableName:
    """The (first) table, type, function or view name among a rule's children."""
    return next(x for x in children if isinstance(x, ast.TableName))


def _unquote_string(text: str) -> str:
    if text.startswith("$$"):
        return text[2:-2]
    return text[1:-1].replace("''", "'")


def _check_duration(tok: Token) -> str:
    # Unit order and repetition are checked when the literal is converted (InvalidRequest, as Cassandra).
    return str(tok)


def _wrap_tuple(term: Any) -> Any:
    """Right-hand side of a multi-column relation: a tuple literal or a marker."""
    if isinstance(term, (ast.TupleLiteral, ast.BindMarker)):
        return term
    return ast.TupleLiteral((term,))


def _chain(expr: Any) -> list:
    """Flatten a left-associated chain of + and - into [operand, op, operand, op, ...]."""
    if isinstance(expr, ast.BinaryOp) and expr.op in ("+", "-"):
        return _chain(expr.left) + [expr.op, expr.right]
    return [expr]


def _rebuild(chain: list) -> Any:
    result = chain[0]
    for i in range(1, len(chain), 2):
        result = ast.BinaryOp(chain[i], result, chain[i + 1])
    return result


class CqlTransformer(Transformer):
    """Grammar rule name -> AST node."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self._local = threading.local()

    # ------------------------------------------------------------ per-parse state

    def reset(self) -> None:
        self._local.markers = 0

    def _next_marker(self) -> int:
        index = getattr(self._local, "markers", 0)
        self._local.markers = index + 1
        return index

    # ------------------------------------------------------------ entry points

    def start(self, c: list) -> Any:
        return c[0]

    def type_start(self, c: list) -> Any:
        return c[0]

    # ------------------------------------------------------------ names

    def ident(self, c: list) -> str:
        tok = c[0]
        if isinstance(tok, Token):
            if tok.type == "QUOTED_NAME":
                return str(tok)[1:-1].replace('""', '"')
            return str(tok).lower()
        return tok  # a native type keyword, already lowered

    def native_type_kw(self, c: list) -> str:
        return str(c[0]).lower()

    def table_name(self, c: list) -> ast.TableName:
        if len(c) == 2:
            return ast.TableName(c[0], c[1])
        return ast.TableName(None, c[0])

    def ident_list(self, c: list) -> tuple:
        return tuple(c)

    # ------------------------------------------------------------ types

    def native_type(self, c: list) -> ast.TypeRef:
        return ast.TypeRef(c[0])

    def user_type(self, c: list) -> ast.TypeRef:
        if len(c) == 2:
            return ast.TypeRef(c[1], keyspace=c[0])
        return ast.TypeRef(c[0])

    def list_type(self, c: list) -> ast.TypeRef:
        return ast.TypeRef("list", tuple(_nodes(c)))

    def set_type(self, c: list) -> ast.TypeRef:
        return ast.TypeRef("set", tuple(_nodes(c)))

    def map_type(self, c: list) -> ast.TypeRef:
        return ast.TypeRef("map", tuple(_nodes(c)))

    def tuple_type(self, c: list) -> ast.TypeRef:
        return ast.TypeRef("tuple", tuple(_nodes(c)))

    def vector_type(self, c: list) -> ast.TypeRef:
        element, dimension = _nodes(c)
        return ast.TypeRef("vector", (element, ast.TypeRef(str(dimension))))

    def vector_dim(self, c: list) -> int:
        text = "".join(str(t) for t in c)
        value = int(text)
        if not -(2**31) <= value < 2**31:  # Java's Integer.parseInt, as in Cassandra's parser
            raise _error(c[0], f'NumberFormatException For input string: "{text}"')
        return value

    def frozen_type(self, c: list) -> ast.TypeRef:
        return ast.TypeRef("frozen", tuple(_nodes(c)))

    def custom_type(self, c: list) -> ast.TypeRef:
        return ast.TypeRef("custom", custom=_unquote_string(str(c[0])))

    # ------------------------------------------------------------ literals and markers

    def literal(self, c: list) -> ast.Literal:
        tok: Token = c[0]
        kind = tok.type
        text = str(tok)
        if kind in ("STRING", "DOLLAR_STRING"):
            return ast.Literal("string", _unquote_string(text))
        if kind == "INT":
            return ast.Literal("int", int(text))
        if kind == "FLOAT":
            return ast.Literal("float", float(text), text)
        if kind == "HEX":
            digits = text[2:]
            if len(digits) % 2:
                raise _error(tok, f"Invalid hex literal {text}: odd number of digits")
            return ast.Literal("hex", bytes.fromhex(digits))
        if kind == "UUID":
            return ast.Literal("uuid", uuid.UUID(text))
        if kind == "BAD_UUID":
            raise _error(tok, f"Invalid UUID literal {text}")
        if kind == "DURATION":
            return ast.Literal("duration", _check_duration(tok))
        if kind in ("TRUE", "FALSE"):
            return ast.Literal("bool", kind == "TRUE")
        if kind == "NULL":
            return ast.Literal("null", None)
        if kind == "NAN":
            return ast.Literal("float", NAN)
        if kind == "INFINITY":
            return ast.Literal("float", INF)
        raise _error(tok, f"no viable alternative at input '{text}'")  # pragma: no cover - grammar guarantees

    def anon_marker(self, c: list) -> ast.BindMarker:
        return ast.BindMarker(self._next_marker())

    def named_marker(self, c: list) -> ast.BindMarker:
        return ast.BindMarker(self._next_marker(), c[0])

    def int_value(self, c: list) -> Any:
        if isinstance(c[0], Token):
            return ast.Literal("int", int(c[0]))
        return c[0]

    def neg_int_value(self, c: list) -> ast.Literal:
        return ast.Literal("int", -int(c[1]))

    # ------------------------------------------------------------ expressions

    def binop(self, c: list) -> ast.BinaryOp:
        return ast.BinaryOp(str(c[1]), c[0], c[2])

    def glued_duration(self, c: list) -> Any:
        tok: Token = c[1]
        raise _error(tok, f"no viable alternative at input '{tok}'")

    def negate(self, c: list) -> Any:
        term = c[1]
        if isinstance(term, ast.Literal):
            if term.kind in ("int", "float") and not isinstance(term.value, bool):
                text = None if term.text is None else term.text[1:] if term.text[:1] == "-" else "-" + term.text
                return ast.Literal(term.kind, NAN if term.value is NAN else -term.value, text)
            if term.kind == "duration" and not term.value.startswith("-"):
                return ast.Literal("duration", "-" + term.value)
        return ast.Negate(term)

    def field_ref(self, c: list) -> ast.FieldRef:
        return ast.FieldRef(c[0], c[1])

    def element_ref(self, c: list) -> ast.ElementRef:
        return ast.ElementRef(c[0], c[1])

    def call(self, c: list) -> ast.FunctionCall:
        callee, args = c[0], c[1]
        if isinstance(callee, ast.ColumnRef):
            return ast.FunctionCall(callee.name, args)
        if isinstance(callee, ast.FieldRef) and isinstance(callee.expr, ast.ColumnRef):
            return ast.FunctionCall(f"{callee.expr.name}.{callee.field}", args)
        raise CqlSyntaxError("no viable alternative at input '(': only named functions can be called")

    def call_args(self, c: list) -> tuple:
        return c[0] if c else ()

    def star_arg(self, c: list) -> tuple:
        return (ast.Star(),)

    def expr_list(self, c: list) -> tuple:
        return tuple(c)

    def tuple_lit(self, c: list) -> ast.TupleLiteral:
        return ast.TupleLiteral((c[0],) + c[1])

    def list_lit(self, c: list) -> ast.CollectionLiteral:
        return ast.CollectionLiteral("list", c[0] if c and c[0] is not None else ())

    def empty_map(self, c: list) -> ast.CollectionLiteral:
        return ast.CollectionLiteral("map", ())

    def set_lit(self, c: list) -> ast.CollectionLiteral:
        return ast.CollectionLiteral("set", c[0])

    def map_entry(self, c: list) -> tuple:
        return (c[0], c[1])

    def map_lit(self, c: list) -> Any:
        if all(isinstance(k, ast.ColumnRef) for k, _ in c):
            return ast.UdtLiteral(tuple((k.name, v) for k, v in c))
        return ast.CollectionLiteral("map", tuple(c))

    def cast(self, c: list) -> ast.Cast:
        expr, type_ref = _nodes(c)
        return ast.Cast(expr, type_ref)

    def token_call(self, c: list) -> ast.FunctionCall:
        return ast.FunctionCall("token", c[1])

    def type_hint(self, c: list) -> ast.TypeHint:
        return ast.TypeHint(c[0], c[1])

    def column_ref(self, c: list) -> ast.ColumnRef:
        return ast.ColumnRef(c[0])

    # ------------------------------------------------------------ SELECT

    def select_stmt(self, c: list) -> ast.Select:
        p = _parts(c)
        table = _table(c)
        return ast.Select(
            table=table,
            selectors=p["selectors"],
            where=p.get("where", ()),
            distinct=p.get("distinct", False),
            json=p.get("json", False),
            group_by=p.get("group_by", ()),
            order_by=p.get("order_by", ()),
            per_partition_limit=p.get("per_partition_limit"),
            limit=p.get("limit"),
            allow_filtering=p.get("allow_filtering", False),
        )

    def json_flag(self, c: list) -> _Part:
        return _Part("json")

    def distinct_flag(self, c: list) -> _Part:
        return _Part("distinct")

    def select_star(self, c: list) -> _Part:
        return _Part("selectors", None)

    def select_clause(self, c: list) -> _Part:
        return _Part("selectors", tuple(c))

    def selector(self, c: list) -> ast.Selector:
        n = _nodes(c)
        return ast.Selector(n[0], n[1] if len(n) > 1 else None)

    def where(self, c: list) -> _Part:
        return _Part("where", tuple(_nodes(c)))

    def group_by(self, c: list) -> _Part:
        return _Part("group_by", _nodes(c)[0])

    def order_by(self, c: list) -> _Part:
        return _Part("order_by", tuple(_nodes(c)))

    def ordering(self, c: list) -> tuple:
        direction = "DESC" if _has(c, "DESC") else "ASC"
        return (c[0], direction)

    def per_partition_limit(self, c: list) -> _Part:
        return _Part("per_partition_limit", _nodes(c)[0])

    def limit(self, c: list) -> _Part:
        return _Part("limit", _nodes(c)[0])

    def allow_filtering(self, c: list) -> _Part:
        return _Part("allow_filtering")

    # ------------------------------------------------------------ relations

    def rel_op(self, c: list) -> str:
        return str(c[0])

    def rel_simple(self, c: list) -> ast.Relation:
        return ast.Relation(c[0], c[1], c[2])

    def rel_in(self, c: list) -> ast.Relation:
        name, values = _nodes(c)
        return ast.Relation(name, "IN", values)

    def rel_element(self, c: list) -> ast.Relation:
        name, key, op, value = c
        return ast.Relation(ast.ElementRef(ast.ColumnRef(name), key), op, value)

    def rel_contains_key(self, c: list) -> ast.Relation:
        name, value = _nodes(c)
        return ast.Relation(name, "CONTAINS KEY", value)

    def rel_contains(self, c: list) -> ast.Relation:
        name, value = _nodes(c)
        return ast.Relation(name, "CONTAINS", value)

    def rel_like(self, c: list) -> ast.Relation:
        name, value = _nodes(c)
        return ast.Relation(name, "LIKE", value)

    def rel_is_not_null(self, c: list) -> ast.Relation:
        return ast.Relation(_nodes(c)[0], "IS NOT", ast.Literal("null", None))

    def rel_multi(self, c: list) -> ast.Relation:
        names, op, value = c
        return ast.Relation(names, op, _wrap_tuple(value))

    def rel_multi_in(self, c: list) -> ast.Relation:
        names, values = _nodes(c)
        if isinstance(values, tuple):
            values = tuple(_wrap_tuple(v) for v in values)
        return ast.Relation(names, "IN", values)

    def rel_token(self, c: list) -> ast.Relation:
        names, op, value = _nodes(c)
        return ast.Relation(ast.TokenRef(names), op, value)

    def in_empty(self, c: list) -> tuple:
        return ()

    def in_list(self, c: list) -> tuple:
        return c[0]

    def in_marker(self, c: list) -> ast.BindMarker:
        return c[0]

    def multi_tuple(self, c: list) -> ast.TupleLiteral:
        return ast.TupleLiteral(tuple(c[0]))

    def multi_in_list(self, c: list) -> tuple:
        return tuple(_nodes(c))

    # ------------------------------------------------------------ INSERT / UPDATE / DELETE / BATCH

    def insert_values(self, c: list) -> ast.Insert:
        p = _parts(c)
        table, columns, values = [x for x in _nodes(c) if not isinstance(x, _Part)]
        return ast.Insert(
            table, columns, values, if_not_exists=p.get("if_not_exists", False), using=p.get("using", ast.Using())
        )

    def insert_json(self, c: list) -> ast.Insert:
        p = _parts(c)
        table, json_value = [x for x in _nodes(c) if not isinstance(x, _Part)]
        return ast.Insert(
            table,
            (),
            (),
            if_not_exists=p.get("if_not_exists", False),
            using=p.get("using", ast.Using()),
            json=json_value,
            json_default_unset=p.get("json_default_unset", False),
        )

    def json_value(self, c: list) -> Any:
        if isinstance(c[0], Token):
            return ast.Literal("string", _unquote_string(str(c[0])))
        return c[0]

    def json_default(self, c: list) -> _Part:
        return _Part("json_default_unset", _has(c, "UNSET"))

    def using(self, c: list) -> _Part:
        ttl = timestamp = None
        for kind, value in _nodes(c):
            if kind == "ttl":
                ttl = value
            else:
                timestamp = value
        return _Part("using", ast.Using(ttl=ttl, timestamp=timestamp))

    def using_ttl(self, c: list) -> tuple:
        return ("ttl", c[1])

    def using_timestamp(self, c: list) -> tuple:
        return ("timestamp", c[1])

    def update_stmt(self, c: list) -> ast.Update:
        p = _parts(c)
        nodes = _nodes(c)
        table = nodes[0]
        assignments = tuple(x for x in nodes[1:] if not isinstance(x, _Part))
        return ast.Update(
            table,
            assignments,
            p["where"],
            using=p.get("using", ast.Using()),
            conditions=p.get("conditions", ()),
            if_exists=p.get("if_exists", False),
        )

    def assign(self, c: list) -> Any:
        column, value = c
        chain = _chain(value)
        if len(chain) >= 3:
            first, last = chain[0], chain[-1]
            if isinstance(first, ast.ColumnRef) and first.name == column:
                rest = _rebuild(chain[2:])
                return ast.AddTo(column, rest) if chain[1] == "+" else ast.SubtractFrom(column, rest)
            if isinstance(last, ast.ColumnRef) and last.name == column and chain[-2] == "+":
                return ast.Prepend(column, _rebuild(chain[:-2]))
        return ast.SetValue(column, value)

    def assign_add(self, c: list) -> ast.AddTo:
        return ast.AddTo(c[0], c[1])

    def assign_sub(self, c: list) -> ast.SubtractFrom:
        return ast.SubtractFrom(c[0], c[1])

    def assign_element(self, c: list) -> ast.SetElement:
        return ast.SetElement(c[0], c[1], c[2])

    def assign_field(self, c: list) -> ast.SetField:
        return ast.SetField(c[0], c[1], c[2])

    def delete_stmt(self, c: list) -> ast.Delete:
        p = _parts(c)
        table = _table(c)
        return ast.Delete(
            table,
            p.get("targets", ()),
            p["where"],
            using=p.get("using", ast.Using()),
            conditions=p.get("conditions", ()),
            if_exists=p.get("if_exists", False),
        )

    def delete_targets(self, c: list) -> _Part:
        return _Part("targets", tuple(c))

    def del_column(self, c: list) -> ast.DeleteTarget:
        return ast.DeleteTarget(c[0])

    def del_element(self, c: list) -> ast.DeleteTarget:
        return ast.DeleteTarget(c[0], element=c[1])

    def del_field(self, c: list) -> ast.DeleteTarget:
        return ast.DeleteTarget(c[0], field=c[1])

    def if_exists(self, c: list) -> _Part:
        return _Part("if_exists")

    def if_conditions(self, c: list) -> _Part:
        return _Part("conditions", tuple(_nodes(c)))

    def cond_simple(self, c: list) -> ast.Condition:
        return ast.Condition(c[0], c[1], c[2])

    def cond_element(self, c: list) -> ast.Condition:
        return ast.Condition(c[0], c[2], c[3], element=c[1])

    def cond_field(self, c: list) -> ast.Condition:
        return ast.Condition(c[0], c[2], c[3], field=c[1])

    def cond_in(self, c: list) -> ast.Condition:
        name, values = _nodes(c)
        return ast.Condition(name, "IN", values)

    def cond_element_in(self, c: list) -> ast.Condition:
        name, key, values = _nodes(c)
        return ast.Condition(name, "IN", values, element=key)

    def cond_field_in(self, c: list) -> ast.Condition:
        name, field_name, values = _nodes(c)
        return ast.Condition(name, "IN", values, field=field_name)

    def cond_contains_key(self, c: list) -> ast.Condition:
        name, value = _nodes(c)
        return ast.Condition(name, "CONTAINS KEY", value)

    def cond_contains(self, c: list) -> ast.Condition:
        name, value = _nodes(c)
        return ast.Condition(name, "CONTAINS", value)

    def batch_stmt(self, c: list) -> ast.Batch:
        p = _parts(c)
        statements = tuple(x for x in c if isinstance(x, (ast.Insert, ast.Update, ast.Delete)))
        return ast.Batch(p.get("kind", "LOGGED"), statements, using=p.get("using", ast.Using()))

    def batch_kind(self, c: list) -> _Part:
        return _Part("kind", str(c[0]).upper())

    # ------------------------------------------------------------ misc statements

    def use_marker(self, c: list) -> ast.Use:
        raise CqlSyntaxError("Bind variables cannot be used for keyspace names")

    def use_stmt(self, c: list) -> ast.Use:
        return ast.Use(_nodes(c)[0])

    def truncate_stmt(self, c: list) -> ast.Truncate:
        return ast.Truncate(_nodes(c)[0])

    # ------------------------------------------------------------ functions, views, triggers

    def or_replace(self, c: list) -> _Part:
        return _Part("or_replace")

    def type_list(self, c: list) -> tuple:
        return tuple(_nodes(c))

    fn_arg = fn_arg_list = type_list  # (name, type) and lists of them: tuples of their parts

    def fn_null_policy(self, c: list) -> _Part:
        return _Part("null_policy")

    def fn_signature(self, c: list) -> _Part:
        nodes = _nodes(c)
        return _Part("signature", nodes[0] if nodes else ())

    def create_function(self, c: list) -> ast.CreateFunction:
        p = _parts(c)
        name = _table(c)
        args = next((x for x in c if isinstance(x, tuple)), ())
        return ast.CreateFunction(name, p.get("if_not_exists", False), tuple(t for _n, t in args))

    def drop_function(self, c: list) -> ast.DropFunction:
        p = _parts(c)
        name = _table(c)
        return ast.DropFunction(name, p.get("if_exists", False), False, p.get("signature"))

    def create_aggregate(self, c: list) -> ast.CreateFunction:
        p = _parts(c)
        nodes = [x for x in _nodes(c) if not isinstance(x, _Part)]
        name = nodes[0]
        args = nodes[1] if len(nodes) > 1 and isinstance(nodes[1], tuple) else ()
        sfunc = next(x for x in nodes[1:] if isinstance(x, str))
        return ast.CreateFunction(name, p.get("if_not_exists", False), args, True, sfunc)

    def drop_aggregate(self, c: list) -> ast.DropFunction:
        p = _parts(c)
        name = _table(c)
        return ast.DropFunction(name, p.get("if_exists", False), True, p.get("signature"))

    def create_view(self, c: list) -> ast.MaterializedViewStatement:
        p = _parts(c)
        return ast.MaterializedViewStatement("create", _table(c), p.get("if_not_exists", False))

    def alter_view(self, c: list) -> ast.MaterializedViewStatement:
        return ast.MaterializedViewStatement("alter", _table(c))

    def drop_view(self, c: list) -> ast.MaterializedViewStatement:
        p = _parts(c)
        return ast.MaterializedViewStatement("drop", _table(c), p.get("if_exists", False))

    def create_trigger(self, c: list) -> ast.TriggerStatement:
        p = _parts(c)
        name = next(x for x in _nodes(c) if isinstance(x, str))
        table = _table(c)
        cls = next(_unquote_string(str(t)) for t in c if isinstance(t, Token) and t.type == "STRING")
        return ast.TriggerStatement("create", name, table, p.get("if_not_exists", False), cls)

    def drop_trigger(self, c: list) -> ast.TriggerStatement:
        p = _parts(c)
        name = next(x for x in _nodes(c) if isinstance(x, str))
        table = _table(c)
        return ast.TriggerStatement("drop", name, table, p.get("if_exists", False))

    # ------------------------------------------------------------ roles and permissions

    def role_name(self, c: list) -> str:
        tok = c[0]
        if isinstance(tok, Token) and tok.type == "STRING":
            return _unquote_string(str(tok))
        return tok

    def bool_lit(self, c: list) -> bool:
        return str(c[0]).lower() == "true"

    def ro_password(self, c: list) -> tuple:
        return ("password", _unquote_string(str(c[-1])))

    def ro_login(self, c: list) -> tuple:
        return ("login", c[-1])

    def ro_superuser(self, c: list) -> tuple:
        return ("superuser", c[-1])

    def ro_options(self, c: list) -> tuple:
        value = c[-1]
        return ("options", value.value if isinstance(value, _Const) else value)

    def user_super(self, c: list) -> tuple:
        return ("superuser", str(c[0]).lower() == "superuser")

    def _role(self, action: str, c: list, user: bool) -> ast.RoleStatement:
        p = _parts(c)
        nodes = [x for x in _nodes(c) if not isinstance(x, _Part)]
        options = dict(x for x in nodes[1:] if isinstance(x, tuple))
        password = next((_unquote_string(str(t)) for t in c if isinstance(t, Token) and t.type == "STRING"), None)
        if user and password is not None:
            options["password"] = password
        if user and action == "create":
            options.setdefault("login", True)
        flag = p.get("if_not_exists", p.get("if_exists", False))
        return ast.RoleStatement(action, nodes[0], flag, options, user)

    create_role = partialmethod(_role, "create", user=False)
    alter_role = partialmethod(_role, "alter", user=False)
    drop_role = partialmethod(_role, "drop", user=False)
    create_user = partialmethod(_role, "create", user=True)
    alter_user = partialmethod(_role, "alter", user=True)
    drop_user = partialmethod(_role, "drop", user=True)

    def grant_role(self, c: list) -> ast.GrantRole:
        role, grantee = _nodes(c)
        return ast.GrantRole(role, grantee)

    def revoke_role(self, c: list) -> ast.GrantRole:
        role, grantee = _nodes(c)
        return ast.GrantRole(role, grantee, revoke=True)

    def _permission(self, action: str, c: list) -> ast.PermissionStatement:
        return ast.PermissionStatement(action)

    grant_permission = partialmethod(_permission, "grant")
    revoke_permission = partialmethod(_permission, "revoke")
    list_permissions = partialmethod(_permission, "list")

    def list_roles(self, c: list) -> ast.ListRoles:
        names = [x for x in _nodes(c) if isinstance(x, str)]
        return ast.ListRoles(names[0] if names else None, _has(c, "NORECURSIVE"))

    def list_users(self, c: list) -> ast.ListRoles:
        return ast.ListRoles(users=True)

    def if_not_exists(self, c: list) -> _Part:
        return _Part("if_not_exists")

    def if_exists_flag(self, c: list) -> _Part:
        return _Part("if_exists")

    # ------------------------------------------------------------ keyspaces and properties

    def create_keyspace(self, c: list) -> ast.CreateKeyspace:
        p = _parts(c)
        # WITH is optional (Cassandra 4.1+: NetworkTopologyStrategy with default_keyspace_rf).
        name, *rest = [x for x in _nodes(c) if not isinstance(x, _Part)]
        return ast.CreateKeyspace(name, p.get("if_not_exists", False), rest[0] if rest else {})

    def alter_keyspace(self, c: list) -> ast.AlterKeyspace:
        p = _parts(c)
        name, props = [x for x in _nodes(c) if not isinstance(x, _Part)]
        return ast.AlterKeyspace(name, p.get("if_exists", False), props)

    def drop_keyspace(self, c: list) -> ast.DropKeyspace:
        p = _parts(c)
        name = next(x for x in _nodes(c) if isinstance(x, str))
        return ast.DropKeyspace(name, p.get("if_exists", False))

    def properties(self, c: list) -> dict:
        return _property_dict(_nodes(c))

    def property(self, c: list) -> tuple:
        name, value = c
        return (name, value.value if isinstance(value, _Const) else value)

    def prop_constant(self, c: list) -> _Const:
        tok = c[-1]
        negative = len(c) == 2
        if not isinstance(tok, Token):  # an identifier
            return _Const(tok, tok)
        text = str(tok)
        kind = tok.type
        if kind == "STRING":
            value = _unquote_string(text)
            return _Const(value, value)
        if kind == "INT":
            value = -int(text) if negative else int(text)
            return _Const(value, ("-" if negative else "") + text)
        if kind == "FLOAT":
            fvalue = -float(text) if negative else float(text)
            return _Const(fvalue, ("-" if negative else "") + text)
        if kind in ("TRUE", "FALSE"):
            return _Const(kind == "TRUE", text.lower())
        return _Const(text, text)

    prop_literal = prop_constant

    def prop_empty_map(self, c: list) -> dict:
        return {}

    def prop_map(self, c: list) -> dict:
        result: dict[str, Any] = {}
        for key, value in c:
            if not isinstance(key, _Const):
                raise CqlSyntaxError(f"Invalid property name: {key}")
            if key.raw in result:
                raise CqlSyntaxError(f"Multiple definition for property {key.raw}")
            result[key.raw] = value.raw if isinstance(value, _Const) else value
        return result

    def prop_entry(self, c: list) -> tuple:
        return (c[0], c[1])

    # ------------------------------------------------------------ tables

    def create_table(self, c: list) -> ast.CreateTable:
        p = _parts(c)
        table = _table(c)
        columns = tuple(x.column for x in c if isinstance(x, _ColumnItem))
        inline = [x.column.name for x in c if isinstance(x, _ColumnItem) and x.primary_key]
        keys = [x for x in c if isinstance(x, _PrimaryKeyItem)]
        error = None
        if len(inline) + len(keys) > 1:
            # Cassandra raises this from the parser as an InvalidRequest; the executor reports `error` so.
            name = f"{table.keyspace}.{table.name}" if table.keyspace else table.name
            error = f"Multiple PRIMARY KEY specified for table '{name}' (exactly one required)"
        partition: tuple = ()
        clustering: tuple = ()
        if inline:
            partition = (inline[0],)
        elif keys:
            partition, clustering = keys[0].partition, keys[0].clustering
        options = p.get("with", ())
        props = _property_dict([o[1] for o in options if o[0] == "prop"])
        order: tuple = ()
        for o in options:
            if o[0] == "order":
                order += o[1]
        compact = any(o[0] == "compact" for o in options)
        return ast.CreateTable(
            table,
            p.get("if_not_exists", False),
            columns,
            partition,
            clustering,
            clustering_order=order,
            properties=props,
            compact_storage=compact,
            error=error,
        )

    def column_def(self, c: list) -> _ColumnItem:
        name, type_ref = _nodes(c)
        return _ColumnItem(ast.ColumnDef(name, type_ref, _has(c, "STATIC")), _has(c, "PRIMARY"))

    def primary_key_def(self, c: list) -> _PrimaryKeyItem:
        nodes = _nodes(c)
        return _PrimaryKeyItem(nodes[0], tuple(nodes[1:]))

    def partition_key(self, c: list) -> tuple:
        return c[0] if isinstance(c[0], tuple) else (c[0],)

    def table_with(self, c: list) -> _Part:
        return _Part("with", tuple(_nodes(c)))

    def table_option(self, c: list) -> tuple:
        return ("prop", c[0])

    def clustering_order(self, c: list) -> tuple:
        return ("order", tuple(_nodes(c)))

    def compact_storage(self, c: list) -> tuple:
        return ("compact", True)

    def alter_table(self, c: list) -> ast.AlterTable:
        p = _parts(c)
        table = _table(c)
        action = next(x for x in c if isinstance(x, dict))
        return ast.AlterTable(table, if_exists=p.get("if_exists", False), **action)

    def alter_add(self, c: list) -> dict:
        p = _parts(c)
        columns = tuple(x for x in c if isinstance(x, ast.ColumnDef))
        return {"add": columns, "add_if_not_exists": p.get("if_not_exists", False)}

    def alter_column(self, c: list) -> ast.ColumnDef:
        name, type_ref = _nodes(c)
        return ast.ColumnDef(name, type_ref, _has(c, "STATIC"))

    def alter_drop(self, c: list) -> dict:
        p = _parts(c)
        target = next(x for x in c if isinstance(x, (str, tuple)) and not isinstance(x, Token))
        columns = target if isinstance(target, tuple) else (target,)
        out = {"drop": columns, "drop_if_exists": p.get("if_exists", False)}
        if "drop_timestamp" in p:
            out["drop_timestamp"] = p["drop_timestamp"]
        return out

    def drop_timestamp(self, c: list) -> _Part:
        return _Part("drop_timestamp", int(c[-1]))

    def alter_rename(self, c: list) -> dict:
        names = _nodes(c)
        return {"renames": tuple(zip(names[::2], names[1::2], strict=True))}

    def alter_with(self, c: list) -> dict:
        options = _nodes(c)
        for o in options:
            if o[0] != "prop":
                raise CqlSyntaxError("CLUSTERING ORDER and COMPACT STORAGE cannot be changed by ALTER TABLE")
        return {"properties": _property_dict([o[1] for o in options])}

    def alter_type_of(self, c: list) -> dict:
        name, type_ref = _nodes(c)
        return {"alter_type": (name, type_ref)}

    def drop_table(self, c: list) -> ast.DropTable:
        p = _parts(c)
        return ast.DropTable(_table(c), p.get("if_exists", False))

    # ------------------------------------------------------------ types and indexes

    def create_type(self, c: list) -> ast.CreateType:
        p = _parts(c)
        name = _table(c)
        fields = tuple(x for x in c if isinstance(x, tuple))
        return ast.CreateType(name, p.get("if_not_exists", False), fields)

    def type_field(self, c: list) -> tuple:
        return (c[0], c[1])

    def alter_type(self, c: list) -> ast.AlterType:
        p = _parts(c)
        name = _table(c)
        action = next(x for x in c if isinstance(x, dict))
        return ast.AlterType(name, if_exists=p.get("if_exists", False), **action)

    def alter_type_add(self, c: list) -> dict:
        name, type_ref = _nodes(c)
        return {"add": ((name, type_ref),)}

    def alter_type_rename(self, c: list) -> dict:
        names = _nodes(c)
        return {"renames": tuple(zip(names[::2], names[1::2], strict=True))}

    def drop_type(self, c: list) -> ast.DropType:
        p = _parts(c)
        return ast.DropType(_table(c), p.get("if_exists", False))

    def create_index(self, c: list) -> ast.CreateIndex:
        p = _parts(c)
        table = _table(c)
        name = next((x for x in c if isinstance(x, str) and not isinstance(x, Token)), None)
        target, column = p["target"]
        custom_class, props = p.get("using_class", (None, {}))
        return ast.CreateIndex(
            name, table, column, target, p.get("if_not_exists", False), custom_class=custom_class, properties=props
        )

    def target_values_default(self, c: list) -> _Part:
        return _Part("target", ("values", c[0]))

    def target_keys(self, c: list) -> _Part:
        return _Part("target", ("keys", c[1]))

    def target_values(self, c: list) -> _Part:
        return _Part("target", ("values", c[1]))

    def target_entries(self, c: list) -> _Part:
        return _Part("target", ("entries", c[1]))

    def target_full(self, c: list) -> _Part:
        return _Part("target", ("full", c[1]))

    def index_using(self, c: list) -> _Part:
        cls = _unquote_string(str(c[1]))
        options = next((x for x in c if not isinstance(x, Token)), {})
        if isinstance(options, _Const) or not isinstance(options, dict):
            raise CqlSyntaxError("Invalid index OPTIONS: expected a map")
        return _Part("using_class", (cls, options))

    def drop_index(self, c: list) -> ast.DropIndex:
        p = _parts(c)
        return ast.DropIndex(_table(c), p.get("if_exists", False))

    # ------------------------------------------------------------ DESCRIBE

    def describe_stmt(self, c: list) -> ast.Describe:
        desc = next(x for x in c if isinstance(x, ast.Describe))
        if _parts(c).get("with_internals"):
            desc = replace(desc, with_internals=True)
        return desc

    def with_internals(self, c: list) -> _Part:
        return _Part("with_internals")

    def desc_cluster(self, c: list) -> ast.Describe:
        return ast.Describe("cluster")

    def desc_schema(self, c: list) -> ast.Describe:
        return ast.Describe("schema", full=_has(c, "FULL"))

    def desc_keyspaces(self, c: list) -> ast.Describe:
        return ast.Describe("keyspaces")

    def desc_keyspace(self, c: list) -> ast.Describe:
        names = _nodes(c)
        return ast.Describe("keyspace", keyspace=names[0] if names else None, only=_has(c, "ONLY"))

    def desc_tables(self, c: list) -> ast.Describe:
        return ast.Describe("tables")

    def desc_types(self, c: list) -> ast.Describe:
        return ast.Describe("types")

    def desc_functions(self, c: list) -> ast.Describe:
        return ast.Describe("functions")

    def desc_aggregates(self, c: list) -> ast.Describe:
        return ast.Describe("aggregates")

    def _named(self, what: str, c: list) -> ast.Describe:
        name: ast.TableName = _nodes(c)[0]
        return ast.Describe(what, keyspace=name.keyspace, name=name.name)

    def desc_table(self, c: list) -> ast.Describe:
        return self._named("table", c)

    def desc_type(self, c: list) -> ast.Describe:
        return self._named("type", c)

    def desc_function(self, c: list) -> ast.Describe:
        return self._named("function", c)

    def desc_aggregate(self, c: list) -> ast.Describe:
        return self._named("aggregate", c)

    def desc_index(self, c: list) -> ast.Describe:
        return self._named("index", c)

    def desc_view(self, c: list) -> ast.Describe:
        return self._named("materialized_view", c)

    def desc_generic(self, c: list) -> ast.Describe:
        return self._named("generic", c)


def _property_dict(pairs: list) -> dict:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise CqlSyntaxError(f"Multiple definition for property {name}")
        result[name] = value
    return result
