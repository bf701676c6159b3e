"""A Paxos commit's form of a mutation: each row merged, then every deletion at the ballot's time − 1."""

from __future__ import annotations

from storage.collections import element_name, tombstone_name
from storage.mutation import Mutation, at_commit_timestamp

T = 1_000


def test_deletions_move_below_the_data_after_each_row_is_merged() -> None:
    m = Mutation(b"t" * 16, b"pk", 7, partition_deleted=T)
    m.range_tombstones = [(b"a", True, b"b", False, T)]
    m.static = [None, None, {"s": (T, b"1", 0, 0), "gone": (T, None, 0, 0)}, None]
    m.rows = [
        (b"r1", [None, T, {}, [b"r1"]]),  # a row deleted ...
        (b"r1", [(T, 0, 0), None, {"v": (T, b"x", 0, 0)}, [b"r1"]]),  # ... and written by another statement
        (b"r2", [(T, 0, 0), None, {"v": (T, b"y", 0, 0), "w": (T, None, 0, 0)}, [b"r2"]]),
        (
            b"r3",
            [
                None,
                None,
                {
                    tombstone_name("l"): (T, None, 0, 0),  # DELETE l ...
                    element_name("l", b"\x01k"): (T, b"e", 0, 0),  # ... and l = l + [e] in one batch
                    tombstone_name("m"): (T - 1, None, 0, 0),  # m = {...}: the overwrite's deletion
                    element_name("m", b"k"): (T, b"e", 0, 0),
                },
                [b"r3"],
            ],
        ),
    ]
    at_commit_timestamp(m, T)
    assert m.partition_deleted == T - 1
    assert m.range_tombstones == [(b"a", True, b"b", False, T - 1)]
    assert m.static == [None, None, {"s": (T, b"1", 0, 0), "gone": (T - 1, None, 0, 0)}, None]
    rows = dict(m.rows)
    assert list(rows) == [b"r1", b"r2", b"r3"]
    assert rows[b"r1"] == [None, T - 1, {}, [b"r1"]]  # the row's deletion shadowed what was written with it
    assert rows[b"r2"] == [(T, 0, 0), None, {"v": (T, b"y", 0, 0), "w": (T - 1, None, 0, 0)}, [b"r2"]]
    assert rows[b"r3"][2] == {
        tombstone_name("l"): (T - 1, None, 0, 0),
        tombstone_name("m"): (T - 1, None, 0, 0),
        element_name("m", b"k"): (T, b"e", 0, 0),
    }


def test_a_mutation_without_deletions_is_unchanged() -> None:
    row = [(T, 0, 0), None, {"v": (T, b"x", 0, 0)}, [b"c"]]
    m = Mutation(b"t" * 16, b"pk", 7, rows=[(b"c", row)])
    at_commit_timestamp(m, T)
    assert m.rows == [(b"c", row)] and m.rows[0][1] is row and m.partition_deleted is None
