"""Roles, permissions, functions, views and triggers parse and get Cassandra's answers for its default
configuration (CassandraRoleManager, AllowAllAuthenticator/Authorizer, UDFs and views disabled)."""

from __future__ import annotations

import pytest
from cassandra import InvalidRequest


def names(rs, column="role"):
    return [getattr(r, column) for r in rs]


def test_roles(session):
    s = session
    s.execute("CREATE ROLE alice WITH LOGIN = true")
    s.execute("CREATE ROLE IF NOT EXISTS alice")
    s.execute("CREATE ROLE staff")
    s.execute("GRANT staff TO alice")
    rows = {r.role: (r.super, r.login) for r in s.execute("LIST ROLES")}
    assert rows["alice"] == (False, True) and rows["cassandra"] == (True, True) and rows["staff"] == (False, False)
    assert names(s.execute("LIST ROLES OF alice")) == ["alice", "staff"]
    assert "alice" in names(s.execute("LIST USERS"), "name")
    with pytest.raises(InvalidRequest, match="alice already exists"):
        s.execute("CREATE ROLE alice")
    with pytest.raises(InvalidRequest, match="alice is a member of staff"):
        s.execute("GRANT staff TO alice")
    with pytest.raises(InvalidRequest, match="CassandraRoleManager doesn't support PASSWORD"):
        s.execute("CREATE USER bob WITH PASSWORD 'secret'")
    s.execute("ALTER ROLE alice WITH SUPERUSER = true")
    member_of = s.execute("SELECT is_superuser, member_of FROM system_auth.roles WHERE role = 'alice'").one()
    assert member_of.is_superuser and list(member_of.member_of) == ["staff"]
    s.execute("REVOKE staff FROM alice")
    s.execute("DROP ROLE alice")
    s.execute("DROP ROLE IF EXISTS alice")
    with pytest.raises(InvalidRequest, match="staff2 doesn't exist"):
        s.execute("DROP ROLE staff2")
    s.execute("DROP ROLE staff")


@pytest.mark.parametrize(
    "statement, text",
    [
        ("GRANT SELECT ON ALL KEYSPACES TO cassandra", "GRANT operation is not supported by AllowAllAuthorizer"),
        ("REVOKE MODIFY ON KEYSPACE acc FROM cassandra", "REVOKE operation is not supported by AllowAllAuthorizer"),
        ("LIST ALL PERMISSIONS OF cassandra", "LIST PERMISSIONS operation is not supported by AllowAllAuthorizer"),
        (
            "CREATE FUNCTION acc.f (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS $$ return a; $$",
            "User-defined functions are disabled in cassandra.yaml",
        ),
        ("CREATE AGGREGATE acc.agg (int) SFUNC f STYPE int", "State function acc.f doesn't exist"),
        ("DROP FUNCTION acc.nope", "Function 'acc.nope' doesn't exist"),
        (
            "CREATE MATERIALIZED VIEW acc.v AS SELECT * FROM acc.t WHERE k IS NOT NULL PRIMARY KEY (k)",
            "Materialized views are disabled. Enable in cassandra.yaml to use.",
        ),
        ("DROP MATERIALIZED VIEW acc.v", "Materialized view 'acc.v' doesn't exist"),
        (
            "CREATE TRIGGER tr ON acc.t USING 'org.example.Trigger'",
            "Trigger class 'org.example.Trigger' couldn't be loaded",
        ),
        ("DROP TRIGGER tr ON acc.t", "Trigger 'tr' on 'acc.t' doesn't exist"),
    ],
)
def test_refused_as_cassandra_refuses(session, statement, text):
    session.execute(
        "CREATE KEYSPACE IF NOT EXISTS acc WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute("CREATE TABLE IF NOT EXISTS acc.t (k int PRIMARY KEY)")
    with pytest.raises(InvalidRequest) as e:
        session.execute(statement)
    assert text in str(e.value)
    session.execute("DROP FUNCTION IF EXISTS acc.nope")
    session.execute("DROP MATERIALIZED VIEW IF EXISTS acc.v")
