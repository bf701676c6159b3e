"""A Mutation: every change one statement (or one Paxos proposal) makes to one partition.

Plain data that marshals to bytes, so Paxos can carry it opaquely and the batchlog can store it.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass, field

from storage.collections import SEP, base_column
from storage.rows import merge_rows


@dataclass(slots=True)
class Mutation:
    table_id: bytes
    pk: bytes  # serialized partition key (composite form for several columns)
    token: int
    partition_deleted: int | None = None  # timestamp of a partition deletion
    static: list | None = None  # a row (see rows.py) for the static columns
    rows: list = field(default_factory=list)  # [(clustering_bytes, row)]
    range_tombstones: list = field(default_factory=list)
    _encoded: bytes | None = field(default=None, compare=False, repr=False)

    def is_empty(self) -> bool:
        return self.partition_deleted is None and self.static is None and not self.rows and not self.range_tombstones

    def to_bytes(self) -> bytes:
        # A Paxos proposal is stored several times per replica: encode it once (mutations are not
        # changed once proposed).
        if self._encoded is None:
            self._encoded = marshal.dumps(
                (
                    self.table_id,
                    self.pk,
                    self.token,
                    self.partition_deleted,
                    self.static,
                    self.rows,
                    self.range_tombstones,
                )
            )
        return self._encoded

    @classmethod
    def from_bytes(cls, data: bytes) -> Mutation:
        t = marshal.loads(data)
        return cls(t[0], t[1], t[2], t[3], t[4], [tuple(r) for r in t[5]], [tuple(r) for r in t[6]])

    def absorb(self, other: Mutation) -> None:
        """Add another statement's changes to the same partition (a conditional batch builds one update)."""
        self.rows.extend(other.rows)
        self.range_tombstones.extend(other.range_tombstones)
        if other.static is not None:
            self.static = merge_rows(self.static, other.static)
        if other.partition_deleted is not None:
            self.partition_deleted = max(self.partition_deleted or 0, other.partition_deleted)


def at_commit_timestamp(m: Mutation, ts: int) -> Mutation:
    """`m` as a Paxos commit writes it, in place: what its statements wrote to one row is merged first
    (a deletion there shadows what it wrote at the same time), then every deletion — of the partition, a
    range, a row, a collection, a cell — moves to `ts - 1` while the data stays at `ts`, as Cassandra's
    PartitionUpdate.updateAllTimestamp does to a proposal. So a conditional batch that deletes a partition
    or a range and writes rows into it keeps those rows, as in Cassandra."""
    rows = m.rows
    if len(rows) > 1:
        by_ck: dict[bytes, list] = {}
        for ck, row in rows:
            by_ck[ck] = merge_rows(by_ck.get(ck), row)
        rows = m.rows = list(by_ck.items())
    for i, (ck, row) in enumerate(rows):
        if _deletes(row):
            rows[i] = (ck, _row_at(row, ts))
    if m.static is not None and _deletes(m.static):
        m.static = _row_at(m.static, ts)
    if m.partition_deleted is not None:
        m.partition_deleted = ts - 1
    if m.range_tombstones:
        m.range_tombstones = [(lo, li, hi, hii, ts - 1) for lo, li, hi, hii, _ in m.range_tombstones]
    return m


def _deletes(row: list) -> bool:
    """Whether a row deletes anything (its data is at the commit's timestamp already)."""
    if row[1] is not None:
        return True
    for cell in row[2].values():
        if cell[1] is None:
            return True
    return False


def _row_at(row: list, ts: int) -> list:
    marker, deleted, cells, ck_values = row
    if deleted is not None and marker is not None and marker[0] <= deleted:
        marker = None
    dropped = {
        base_column(n): c[0] for n, c in cells.items() if c[1] is None and n.endswith(SEP)
    }  # collection deletions
    out = {}
    for name, cell in cells.items():
        if deleted is not None and cell[0] <= deleted:
            continue
        if SEP in name and not name.endswith(SEP):
            gone = dropped.get(base_column(name))
            if gone is not None and cell[0] <= gone:
                continue
        out[name] = cell if cell[1] is not None else (ts - 1, None, cell[2], cell[3])
    return [marker, None if deleted is None else ts - 1, out, ck_values]
