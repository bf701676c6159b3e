"""Ballots: version-1 time UUIDs ordered by their timestamp, and the clock that issues them.

A ballot's timestamp doubles as the write timestamp of the LWT's mutation (Cassandra's
`Proposal.of`), so ballots are built from *microseconds*: the UUID's 100-ns field holds
`micros * 10`, and `ballot_micros()` recovers the microseconds exactly.

Ordering: `uuid.UUID` compares by its 128-bit integer, which for version 1 puts `time_low`
first and so is not time ordered. `Ballot` compares by (timestamp, raw bytes) instead; the raw
bytes (clock sequence + node) break ties between coordinators that drew the same microsecond.

Nothing here reads the wall clock: `BallotClock` takes `now_micros` injected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

__all__ = ["Ballot", "BallotClock", "MIN_BALLOT", "ballot_from_micros", "ballot_micros"]

# 100-ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch (RFC 4122).
_GREGORIAN_OFFSET = 0x01B21DD213814000
_MAX_MICROS = ((1 << 60) - 1 - _GREGORIAN_OFFSET) // 10


class Ballot(uuid.UUID):
    """A version-1 UUID ordered by (timestamp, bytes). Hashes and equals like the plain UUID."""

    __slots__ = ("_key",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if self.version != 1:
            raise ValueError(f"a ballot must be a version-1 UUID, got version {self.version}")
        # UUID forbids attribute assignment; the sort key is computed once because ballots are
        # compared on every Paxos message.
        object.__setattr__(self, "_key", (self.time, self.int.to_bytes(16, "big")))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Ballot:
        """The ballot stored as these 16 bytes (the fast path of `Ballot(bytes=raw)`)."""
        n = int.from_bytes(raw, "big")
        if (n >> 76) & 0xF != 1:
            raise ValueError(f"a ballot must be a version-1 UUID, got version {(n >> 76) & 0xF}")
        return _ballot(n, ((n >> 64) & 0x0FFF) << 48 | ((n >> 80) & 0xFFFF) << 32 | n >> 96, raw)

    @classmethod
    def of(cls, value: uuid.UUID) -> Ballot:
        """Wrap a plain UUID (for example one loaded from disk) as a Ballot."""
        return value if isinstance(value, Ballot) else cls(int=value.int)

    def _cmp_key(self, other: object) -> tuple[int, bytes]:
        if type(other) is Ballot or isinstance(other, Ballot):
            return other._key  # type: ignore[no-any-return]
        if isinstance(other, uuid.UUID):
            return (other.time, other.bytes)
        raise TypeError(f"cannot compare Ballot with {type(other).__name__}")

    def __lt__(self, other: object) -> bool:
        return self._key < self._cmp_key(other)  # type: ignore[no-any-return]

    def __le__(self, other: object) -> bool:
        return self._key <= self._cmp_key(other)  # type: ignore[no-any-return]

    def __gt__(self, other: object) -> bool:
        return self._key > self._cmp_key(other)  # type: ignore[no-any-return]

    def __ge__(self, other: object) -> bool:
        return self._key >= self._cmp_key(other)  # type: ignore[no-any-return]

    @property
    def bytes(self) -> bytes:  # type: ignore[override]
        return self._key[1]  # type: ignore[no-any-return]  # kept at construction: stored with every state

    # __eq__ and __hash__ are inherited from uuid.UUID (same int ⇔ same bytes ⇔ same key).
    __hash__ = uuid.UUID.__hash__

    def __repr__(self) -> str:
        return f"Ballot({ballot_micros(self)}µs, {self.hex[16:]})"


def _ballot(n: int, t: int, raw: bytes | None = None) -> Ballot:
    # Bypasses UUID.__init__, which parses and validates its arguments: an LWT issues a ballot and
    # decodes stored ones, and the generic constructor was a visible share of its time.
    b = _new(Ballot)
    _set_int(b, n)
    _set_safe(b, _UNKNOWN)
    _set_key(b, (t, raw if raw is not None else n.to_bytes(16, "big")))
    return b


_new, _UNKNOWN = object.__new__, uuid.SafeUUID.unknown
# The slots' own setters: UUID forbids setattr, and object.__setattr__ looks each name up again (a quarter
# of a ballot's construction).
_set_int = uuid.UUID.__dict__["int"].__set__
_set_safe = uuid.UUID.__dict__["is_safe"].__set__
_set_key = Ballot.__dict__["_key"].__set__


def ballot_from_micros(micros: int, node: int, clock_seq: int = 0) -> Ballot:
    """Build the ballot for `micros` (µs since the Unix epoch), `node` (48 bits), `clock_seq` (14 bits)."""
    return _ballot_at(micros, _tail(node, clock_seq))


def _tail(node: int, clock_seq: int) -> int:
    """The low 64 bits of a ballot: variant, clock sequence and node, the same for every ballot of a clock."""
    return (((clock_seq >> 8) & 0x3F) | 0x80) << 56 | (clock_seq & 0xFF) << 48 | node & 0xFFFFFFFFFFFF


def _ballot_at(micros: int, tail: int) -> Ballot:
    if not 0 <= micros <= _MAX_MICROS:
        raise ValueError(f"micros out of range: {micros}")
    t = micros * 10 + _GREGORIAN_OFFSET
    # time_low, time_mid, then time_hi with the version (1) in its top four bits.
    n = (t & 0xFFFFFFFF) << 96 | ((t >> 32) & 0xFFFF) << 80 | (((t >> 48) & 0x0FFF) | 0x1000) << 64 | tail
    return _ballot(n, t)


def ballot_micros(ballot: uuid.UUID) -> int:
    """The write timestamp (µs since the Unix epoch) carried by the LWT decided at `ballot`."""
    t = ballot._key[0] if type(ballot) is Ballot else ballot.time
    return (t - _GREGORIAN_OFFSET) // 10


# Below every ballot a clock can issue (micros 0, all-zero tail): the "nothing promised yet" value.
MIN_BALLOT = ballot_from_micros(0, 0, 0)


class BallotClock:
    """Issues strictly increasing ballots for one coordinator.

    `next()` uses max(now, last + 1) microseconds, so it never repeats or goes back even when the
    wall clock does; `observe(b)` makes the next ballot's microseconds exceed b's. Seeding the clock
    with `observe()` of every ballot on disk at start-up keeps ballots above anything the replicas
    hold after a restart with a clock that went backwards. Strictly larger *microseconds* (not just
    a larger tie-break) matter: the ballot's microseconds become the write timestamp, and storage
    resolves equal timestamps by value, not by ballot.
    """

    __slots__ = ("_now_micros", "_node", "_clock_seq", "_last", "_tail")

    def __init__(self, now_micros: Callable[[], int], node: int, clock_seq: int = 0) -> None:
        self._now_micros = now_micros
        self._node = node & 0xFFFFFFFFFFFF
        self._clock_seq = clock_seq & 0x3FFF
        self._last = 0
        self._tail = _tail(self._node, self._clock_seq)

    @property
    def node(self) -> int:
        return self._node

    @property
    def last_micros(self) -> int:
        return self._last

    def next(self) -> Ballot:
        micros = self._now_micros()
        if micros <= self._last:
            micros = self._last + 1
        self._last = micros
        return _ballot_at(micros, self._tail)

    def observe(self, ballot: uuid.UUID | None) -> None:
        """Remember `ballot` so that every later `next()` is above it (by microseconds)."""
        if ballot is not None:
            micros = ballot_micros(ballot)
            if micros > self._last:
                self._last = micros
