"""The driver's ORM, cqlengine: schema sync from system_schema, LWT helpers and their LWTException."""

from __future__ import annotations

import uuid

import pytest
from cassandra.cqlengine import columns, connection
from cassandra.cqlengine.management import create_keyspace_simple, sync_table
from cassandra.cqlengine.models import Model
from cassandra.cqlengine.query import LWTException


class Person(Model):
    __keyspace__ = "cqe"
    id = columns.UUID(primary_key=True, default=uuid.uuid4)
    name = columns.Text()
    tags = columns.Set(columns.Text)
    version = columns.Integer(default=0)


@pytest.fixture
def orm(server, monkeypatch):
    monkeypatch.setenv("CQLENG_ALLOW_SCHEMA_MANAGEMENT", "1")
    connection.register_connection(
        "cqld", hosts=["127.0.0.1"], cluster_options={"port": server.port, "protocol_version": 4}, default=True
    )
    create_keyspace_simple("cqe", 3, connections=["cqld"])
    sync_table(Person)
    sync_table(Person)  # idempotent: reads the table back from system_schema
    yield
    connection.unregister_connection("cqld")


def test_cqlengine_models_and_lwt(orm):
    p = Person.if_not_exists().create(name="ann", tags={"a"})
    with pytest.raises(LWTException) as e:
        Person.if_not_exists().create(id=p.id, name="bob")
    assert e.value.existing["name"] == "ann"
    p.iff(version=0).update(version=1, name="ann2")
    with pytest.raises(LWTException) as e:
        p.iff(version=0).update(version=2)
    assert e.value.existing == {"[applied]": False, "version": 1}
    got = Person.objects(id=p.id).get()
    assert (got.name, got.version, got.tags) == ("ann2", 1, {"a"})
