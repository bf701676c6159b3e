"""The seeds' CQL, verbatim (tests/fixtures/grammar_seed_statements.cql), does what the seeds describe.

Pasted non-breaking spaces are turned into spaces first: cqlsh and Cassandra refuse them too.
Amazon-Keyspaces-only behaviour (conditional batches over two tables, system_schema_mcs) gets
Cassandra's answer by default, as the seeds' migration story expects.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from cassandra import InvalidRequest
from cassandra.protocol import SyntaxException

from tests.conftest import serving

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "grammar_seed_statements.cql"


def seed_blocks() -> dict[str, str]:
    text = FIXTURE.read_text().replace("\u00a0", " ")
    parts = re.split(r"^-- @@ (\S+)$", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip().rstrip(";") for i in range(1, len(parts), 2)}


BLOCKS = seed_blocks()


def run(session, where: str):
    return session.execute(BLOCKS[where])


def test_logged_batches_seed(session):
    s = session
    s.execute("DROP KEYSPACE IF EXISTS online_shop")
    rs = run(s, "keyspaces-logged-batches.txt:54")
    assert any("SingleRegionStrategy" in w for w in rs.response_future.warnings)
    for where in ("62", "70", "81", "96"):
        run(s, f"keyspaces-logged-batches.txt:{where}")
    assert sorted(r.customer_name for r in run(s, "keyspaces-logged-batches.txt:105")) == [
        "Jane Doe",
        "John Smith",
        "Mike Johnson",
    ]
    run(s, "keyspaces-logged-batches.txt:108")
    by_id = list(run(s, "keyspaces-logged-batches.txt:115"))
    by_name = list(run(s, "keyspaces-logged-batches.txt:117"))
    assert [(r.order_id, r.customer_name, r.order_total) for r in by_id] == [
        ("ORD-001", "John Smith", Decimal("999.99"))
    ]
    assert [(r.customer_name, r.order_id) for r in by_name] == [("John Smith", "ORD-001")]
    # Step 3 is a conditional batch over two tables: Amazon Keyspaces only. Cassandra refuses it whole.
    with pytest.raises(InvalidRequest, match="Batch with conditions cannot span multiple"):
        run(s, "keyspaces-logged-batches.txt:122")
    assert [r.order_item_count for r in run(s, "keyspaces-logged-batches.txt:132")] == [1]
    # Step 4: without a batch, the invalid statement fails and the other one is applied.
    with pytest.raises((InvalidRequest, SyntaxException)):
        run(s, "keyspaces-logged-batches.txt:137")
    run(s, "keyspaces-logged-batches.txt:140")
    assert list(run(s, "keyspaces-logged-batches.txt:145")) == []
    assert [r.order_id for r in run(s, "keyspaces-logged-batches.txt:147")] == ["ORD-003"]
    run(s, "keyspaces-logged-batches.txt:152")
    assert list(run(s, "keyspaces-logged-batches.txt:147")) == []
    # Step 6: the same two statements in a logged batch: refused whole, nothing applied.
    with pytest.raises((InvalidRequest, SyntaxException)):
        run(s, "keyspaces-logged-batches.txt:157")
    assert list(run(s, "keyspaces-logged-batches.txt:145")) == []
    assert list(run(s, "keyspaces-logged-batches.txt:147")) == []


def test_lwt_blog_seed(session):
    s = session
    s.execute("DROP KEYSPACE IF EXISTS aws_blog")
    run(s, "keyspaces-lwt-blog-with-code.md:40")
    rs = run(s, "keyspaces-lwt-blog-with-code.md:48")
    assert any("custom_properties" in w for w in rs.response_future.warnings)
    with pytest.raises(InvalidRequest, match="system_schema_mcs"):
        run(s, "keyspaces-lwt-blog-with-code.md:75")
    assert run(s, "keyspaces-lwt-blog-with-code.md:97").was_applied
    again = run(s, "keyspaces-lwt-blog-with-code.md:97")
    assert not again.was_applied
    assert again.one().name == "Mike"
    assert run(s, "keyspaces-lwt-blog-with-code.md:120").was_applied
    assert run(s, "keyspaces-lwt-blog-with-code.md:142").was_applied
    assert tuple(run(s, "keyspaces-lwt-blog-with-code.md:146").one()) == ("v0", 500)
    assert run(s, "keyspaces-lwt-blog-with-code.md:160").was_applied
    assert tuple(run(s, "keyspaces-lwt-blog-with-code.md:170").one()) == ("v1", 700)
    failed = run(s, "keyspaces-lwt-blog-with-code.md:160")
    assert not failed.was_applied and tuple(failed.one()) == (False, "v1", 700)
    assert list(run(s, "keyspaces-lwt-blog-with-code.md:206")) == []
    assert run(s, "keyspaces-lwt-blog-with-code.md:215").was_applied
    assert run(s, "keyspaces-lwt-blog-with-code.md:237").was_applied
    rows = list(run(s, "keyspaces-lwt-blog-with-code.md:206"))
    assert [(r.profile_id, r.playing_time, r.account_playing_time, r.account_version) for r in rows] == [
        ("unique_profile_1", 700, 1300, "av1"),
        ("unique_profile_2", 600, 1300, "av1"),
    ]
    assert run(s, "keyspaces-lwt-blog-with-code.md:262").was_applied
    rows = list(run(s, "keyspaces-lwt-blog-with-code.md:206"))
    assert [(r.profile_version, r.playing_time, r.account_playing_time, r.account_version) for r in rows] == [
        ("pv1", 1200, 1800, "av2"),
        ("pv0", 600, 1800, "av2"),
    ]
    run(s, "keyspaces-lwt-blog-with-code.md:293")
    assert "aws_blog" not in {r.keyspace_name for r in s.execute("SELECT keyspace_name FROM system_schema.keyspaces")}


def _overview_tables(s):
    s.execute("CREATE TABLE user_accounts (username text PRIMARY KEY, email text, created_at timestamp)")
    s.execute("CREATE TABLE products (product_id text PRIMARY KEY, stock int)")
    s.execute("CREATE TABLE accounts (account_id text PRIMARY KEY, balance decimal)")
    s.execute("CREATE TABLE orders (order_id uuid PRIMARY KEY, status text, assigned_to text, shipped_at timestamp)")
    s.execute("CREATE TABLE sessions (session_id uuid PRIMARY KEY, data text)")
    s.execute("CREATE TABLE locks (resource_id text PRIMARY KEY, owner text)")


def test_lwt_overview_seed_cassandra_shape(session, keyspace):
    s = session
    _overview_tables(s)
    first = run(s, "lwt-overview.txt:6")
    assert first.column_names == ["[applied]"] and first.was_applied
    second = run(s, "lwt-overview.txt:6")
    assert second.column_names == ["[applied]", "username", "created_at", "email"]
    assert not second.was_applied and second.one().email == "alice@example.com"
    s.execute("INSERT INTO products (product_id, stock) VALUES ('prod-001', 10)")
    assert run(s, "lwt-overview.txt:17").was_applied
    again = run(s, "lwt-overview.txt:17")
    assert not again.was_applied and again.one().stock == 8
    s.execute("INSERT INTO accounts (account_id, balance) VALUES ('acc-123', 500.00)")
    assert run(s, "lwt-overview.txt:22").was_applied
    s.execute(
        "INSERT INTO orders (order_id, status, assigned_to) "
        "VALUES (550e8400-e29b-41d4-a716-446655440000, 'processing', 'warehouse-1')"
    )
    assert run(s, "lwt-overview.txt:27").was_applied
    assert not run(s, "lwt-overview.txt:33").was_applied  # no such session
    s.execute("INSERT INTO locks (resource_id, owner) VALUES ('report-gen', 'worker-5')")
    assert run(s, "lwt-overview.txt:37").was_applied
    assert s.execute("SELECT * FROM locks").one() is None


def test_lwt_overview_seed_scylla_shape_opt_in(tmp_path):
    with serving(tmp_path, env={"CQLD_LWT_RESULT_SHAPE": "scylla"}, keyspace="o", rf=1) as (server, s):
        s.set_keyspace("o")
        _overview_tables(s)
        first = run(s, "lwt-overview.txt:6")
        # As the seed shows: [applied] True and the (absent) old row as nulls.
        assert first.column_names == ["[applied]", "username", "created_at", "email"]
        assert tuple(first.one()) == (True, None, None, None)
        second = run(s, "lwt-overview.txt:6")
        assert not second.was_applied and second.one().username == "alice_dev"


def test_logged_batches_seed_cross_partition_lwt_opt_in(tmp_path):
    """With lwt_cross_partition_batches on, step 3 of the seed runs as Amazon Keyspaces shows."""
    with serving(tmp_path, env={"CQLD_LWT_CROSS_PARTITION_BATCHES": "true"}) as (server, s):
        for where in ("54", "62", "70", "81", "108"):
            run(s, f"keyspaces-logged-batches.txt:{where}")
        assert run(s, "keyspaces-logged-batches.txt:122").was_applied
        by_id = {r.order_id: r.order_item_count for r in run(s, "keyspaces-logged-batches.txt:132")}
        by_name = {
            (r.customer_name, r.order_id): r.order_item_count for r in run(s, "keyspaces-logged-batches.txt:134")
        }
        assert by_id == {"ORD-001": 3, "ORD-002": 2}
        assert by_name == {("John Smith", "ORD-001"): 3, ("Jane Doe", "ORD-002"): 2}
        # Run again: the IF NOT EXISTS conditions fail, so nothing of the batch applies.
        s.execute("UPDATE online_shop.order_by_order_id SET order_item_count = 9 WHERE order_id = 'ORD-001'")
        assert not run(s, "keyspaces-logged-batches.txt:122").was_applied
        assert {r.order_id: r.order_item_count for r in run(s, "keyspaces-logged-batches.txt:132")}["ORD-001"] == 9
