"""Roles, permissions, user functions, views and triggers, answered as Cassandra answers them with its
default configuration: CassandraRoleManager with AllowAllAuthenticator and AllowAllAuthorizer,
user-defined functions and materialized views disabled, no trigger class installed."""

from __future__ import annotations

from cql_grammar import ast
from server import messages as msg
from server.dispatch import Result
from server.errors import InvalidRequest
from server.statements.tables import keyspace_of
from storage import cqltypes

ROLE_MANAGER = "org.apache.cassandra.auth.CassandraRoleManager"
AUTHORIZER = "AllowAllAuthorizer"
SUPPORTED_ROLE_OPTIONS = ("login", "superuser")  # what CassandraRoleManager supports without PasswordAuthenticator


class AccessStatements:
    def __init__(self, node) -> None:
        self.node = node

    @property
    def roles(self) -> dict[str, dict]:
        return self.node.schema.roles

    def execute(self, session, stmt) -> Result:
        return getattr(self, "_" + type(stmt).__name__)(session, stmt)

    # ------------------------------------------------------------ functions, views, triggers

    def _keyspace(self, name: ast.TableName, session) -> str:
        ks = keyspace_of(name, session.keyspace)
        if ks not in self.node.schema.keyspaces:
            raise InvalidRequest(f"Keyspace '{ks}' doesn't exist")
        return ks

    def _CreateFunction(self, session, s: ast.CreateFunction) -> Result:
        ks = self._keyspace(s.name, session)
        if s.aggregate:
            raise InvalidRequest(f"State function {ks}.{s.state_function} doesn't exist")
        raise InvalidRequest(
            "User-defined functions are disabled in cassandra.yaml - set user_defined_functions_enabled=true to enable"
        )

    def _DropFunction(self, session, s: ast.DropFunction) -> Result:
        ks = self._keyspace(s.name, session)
        if s.if_exists:
            return Result(msg.VOID_BODY)
        what = "Aggregate" if s.aggregate else "Function"
        raise InvalidRequest(f"{what} '{ks}.{s.name.name}' doesn't exist")

    def _MaterializedViewStatement(self, session, s: ast.MaterializedViewStatement) -> Result:
        if s.action == "create":
            raise InvalidRequest("Materialized views are disabled. Enable in cassandra.yaml to use.")
        ks = self._keyspace(s.name, session)
        if s.action == "drop" and s.if_flag:
            return Result(msg.VOID_BODY)
        raise InvalidRequest(f"Materialized view '{ks}.{s.name.name}' doesn't exist")

    def _TriggerStatement(self, session, s: ast.TriggerStatement) -> Result:
        ks = self._keyspace(s.table, session)
        if s.table.name not in self.node.schema.keyspaces[ks].tables:
            raise InvalidRequest(f"Table '{ks}.{s.table.name}' doesn't exist")
        if s.action == "create":
            raise InvalidRequest(f"Trigger class '{s.trigger_class}' couldn't be loaded")
        if s.if_flag:
            return Result(msg.VOID_BODY)
        raise InvalidRequest(f"Trigger '{s.name}' on '{ks}.{s.table.name}' doesn't exist")

    # ------------------------------------------------------------ roles

    def _RoleStatement(self, session, s: ast.RoleStatement) -> Result:
        for option in s.options:
            if option not in SUPPORTED_ROLE_OPTIONS:
                raise InvalidRequest(f"{ROLE_MANAGER} doesn't support {option.upper()}")
        role = self.roles.get(s.name)
        if s.action == "create":
            if role is not None:
                if s.if_flag:
                    return Result(msg.VOID_BODY)
                raise InvalidRequest(f"{s.name} already exists")
            role = self.roles[s.name] = {"super": False, "login": False, "member_of": []}
        elif role is None:
            if s.if_flag:
                return Result(msg.VOID_BODY)
            raise InvalidRequest(f"{s.name} doesn't exist")
        if s.action in ("create", "alter"):
            for option, field in (("superuser", "super"), ("login", "login")):
                if option in s.options:
                    role[field] = bool(s.options[option])
        else:
            del self.roles[s.name]
            for other in self.roles.values():
                if s.name in other["member_of"]:
                    other["member_of"].remove(s.name)
        self.node.schema_changed()
        return Result(msg.VOID_BODY)

    def _GrantRole(self, session, s: ast.GrantRole) -> Result:
        for name in (s.role, s.grantee):
            if name not in self.roles:
                raise InvalidRequest(f"{name} doesn't exist")
        member_of = self.roles[s.grantee]["member_of"]
        if s.revoke:
            if s.role not in member_of:
                raise InvalidRequest(f"{s.grantee} is not a member of {s.role}")
            member_of.remove(s.role)
        else:
            if s.role in member_of:
                raise InvalidRequest(f"{s.grantee} is a member of {s.role}")
            if s.role == s.grantee or s.grantee in self._granted(s.role):
                raise InvalidRequest(f"{s.grantee} is a member of {s.role}")
            member_of.append(s.role)
        self.node.schema_changed()
        return Result(msg.VOID_BODY)

    def _granted(self, name: str) -> list[str]:
        """The roles `name` is a member of, directly or through other roles."""
        out, todo = [], list(self.roles.get(name, {}).get("member_of", []))
        while todo:
            r = todo.pop(0)
            if r not in out:
                out.append(r)
                todo.extend(self.roles.get(r, {}).get("member_of", []))
        return out

    def _PermissionStatement(self, session, s: ast.PermissionStatement) -> Result:
        what = {"grant": "GRANT", "revoke": "REVOKE", "list": "LIST PERMISSIONS"}[s.action]
        raise InvalidRequest(f"{what} operation is not supported by {AUTHORIZER}")

    def _ListRoles(self, session, s: ast.ListRoles) -> Result:
        text, boolean = cqltypes.lookup_native("text"), cqltypes.lookup_native("boolean")
        options_t = cqltypes.parse_type_string("map<text, text>")
        if s.users:
            names = sorted(self.roles)
            specs = [("name", text), ("super", boolean), ("datacenters", text)]
            rows = [[n, self.roles[n]["super"], "ALL"] for n in names if self.roles[n]["login"]]
        else:
            if s.of is not None:
                if s.of not in self.roles:
                    raise InvalidRequest(f"{s.of} doesn't exist")
                granted = self.roles[s.of]["member_of"] if s.norecursive else self._granted(s.of)
                names = sorted({s.of, *granted})
            else:
                names = sorted(self.roles)
            specs = [
                ("role", text),
                ("super", boolean),
                ("login", boolean),
                ("options", options_t),
                ("datacenters", text),
            ]
            rows = [[n, self.roles[n]["super"], self.roles[n]["login"], {}, "ALL"] for n in names]
        columns = [msg.ColumnSpec("system_auth", "roles", n, t.option()) for n, t in specs]
        encoded = [[t.serialize(v) for (_n, t), v in zip(specs, row, strict=True)] for row in rows]
        return Result(msg.rows_body(columns, encoded))
