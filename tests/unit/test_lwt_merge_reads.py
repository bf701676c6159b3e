"""How an LWT merges its replicas' reads: replicas in step are taken as they are, others merged cell by cell."""

from __future__ import annotations

from server.lwt import merge_reads


def row(ts: int, value: bytes) -> list:
    return [(ts, 0, 0), None, {"v": (ts, value, 0, 0)}, []]


def test_replicas_in_step_are_taken_as_read():
    shared = row(5, b"a")  # replicas in step share one decoded row
    reads = [(None, [(b"", shared)]) for _ in range(3)]
    header, rows = merge_reads(reads)
    assert header is None and rows == [(b"", shared)] and rows[0][1] is shared
    assert merge_reads([(None, [])] * 3) == (None, [])


def test_replicas_that_differ_are_merged_newest_cell_first():
    older, newer = row(5, b"a"), row(9, b"b")
    header, rows = merge_reads([(None, [(b"", older)]), (None, []), (None, [(b"", newer)])])
    assert header is None and [(ck, r[2]["v"][1]) for ck, r in rows] == [(b"", b"b")]
    # Rows of different clustering keys come out in key order, whichever replica held them.
    _, rows = merge_reads([(None, [(b"\x02", newer)]), (None, [(b"\x01", older)])])
    assert [ck for ck, _ in rows] == [b"\x01", b"\x02"]
    # A header one replica lacks is kept.
    h = [7, None, []]
    assert merge_reads([(None, []), (h, [])])[0] == h
