"""A Mutation: every change one statement (or one Paxos proposal) makes to one partition.

Plain data that marshals to bytes, so Paxos can carry it opaquely and the batchlog can store it.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass, field


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
