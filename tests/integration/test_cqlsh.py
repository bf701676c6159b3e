"""The real cqlsh (pip package) driven through a subprocess against cqld."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CQLSH = str(Path(sys.executable).parent / "cqlsh")


def cqlsh(server, commands: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=os.environ.get("HOME", "/tmp"))
    return subprocess.run(
        [CQLSH, "127.0.0.1", str(server.port), "--no-color"],
        input=commands,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def shop(server):
    setup = """
CREATE KEYSPACE IF NOT EXISTS shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3};
CREATE TABLE IF NOT EXISTS shop.orders (id int, line int, item text, qty int, PRIMARY KEY (id, line));
INSERT INTO shop.orders (id, line, item, qty) VALUES (1, 1, 'apple', 3);
"""
    r = cqlsh(server, setup)
    assert r.returncode == 0, r.stderr
    return server


def test_select_prints_rows(shop):
    r = cqlsh(shop, "SELECT id, line, item, qty FROM shop.orders WHERE id = 1;\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "apple" in out and "(1 rows)" in out
    header = next(line for line in out.splitlines() if "item" in line)
    assert [h.strip() for h in header.split("|")] == ["id", "line", "item", "qty"]


def test_lwt_prints_applied_column(shop):
    r = cqlsh(
        shop,
        "INSERT INTO shop.orders (id, line, item, qty) VALUES (2, 1, 'pear', 1) IF NOT EXISTS;\n"
        "INSERT INTO shop.orders (id, line, item, qty) VALUES (2, 1, 'plum', 9) IF NOT EXISTS;\n"
        "UPDATE shop.orders SET qty = 5 WHERE id = 2 AND line = 1 IF qty = 1;\n",
    )
    assert r.returncode == 0, r.stderr
    lines = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
    assert "[applied]" in lines[0]
    assert lines[2] == "True"
    # Not applied: [applied] then the existing row, in SELECT * order.
    header = [h.strip() for h in lines[3].split("|")]
    assert header == ["[applied]", "id", "line", "item", "qty"]
    assert [v.strip() for v in lines[5].split("|")] == ["False", "2", "1", "pear", "1"]
    assert "True" in lines[-1]


def test_describe_round_trips(shop):
    r = cqlsh(shop, "DESCRIBE KEYSPACES;\nDESCRIBE TABLE shop.orders;\nDESCRIBE KEYSPACE shop;\nDESC CLUSTER;\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "shop" in out and "system_schema" in out
    assert "CREATE TABLE shop.orders (" in out
    assert "PRIMARY KEY (id, line)" in out
    assert "CREATE KEYSPACE shop WITH replication" in out
    assert "Cluster: cqld" in out and "Murmur3Partitioner" in out


def test_session_commands(shop):
    r = cqlsh(
        shop,
        "CONSISTENCY QUORUM;\nSERIAL CONSISTENCY LOCAL_SERIAL;\nPAGING 1;\nTRACING OFF;\nEXPAND ON;\n"
        "SELECT item FROM shop.orders WHERE id = 1;\nCONSISTENCY SERIAL;\nSELECT item FROM shop.orders WHERE id = 1;\n",
    )
    assert r.returncode == 0, r.stderr
    assert "Consistency level set to QUORUM." in r.stdout
    assert "Serial consistency level set to LOCAL_SERIAL." in r.stdout
    assert r.stdout.count("apple") == 2
    assert "@ Row 1" in r.stdout


def test_errors_print_cassandra_texts(shop):
    r = cqlsh(shop, "SELECT * FROM shop.nosuch;\nINSERT INTO shop.orders (id) VALUES (1);\n")
    assert "InvalidRequest" in r.stderr and "table nosuch does not exist" in r.stderr
    assert "Some clustering keys are missing: line" in r.stderr
    assert r.returncode != 0
