from __future__ import annotations

import uuid

import pytest

from paxos import MIN_BALLOT, Ballot, BallotClock, ballot_from_micros, ballot_micros


def test_ballot_is_version1_uuid_and_round_trips_micros() -> None:
    b = ballot_from_micros(1_700_000_000_123_456, node=7, clock_seq=3)
    assert isinstance(b, uuid.UUID) and b.version == 1 and b.variant == uuid.RFC_4122
    assert ballot_micros(b) == 1_700_000_000_123_456
    assert b.node == 7 and b.clock_seq == 3
    assert Ballot.of(uuid.UUID(bytes=b.bytes)) == b


def test_ordering_is_by_timestamp_then_bytes_not_by_uuid_int() -> None:
    # Find consecutive microseconds where time_low wraps: as plain UUIDs (compared by int, time_low
    # first) they are ordered the wrong way round.
    off = 0x01B21DD213814000  # Gregorian → Unix epoch in 100-ns ticks
    t = 1_700_000_000_000_000 * 10 + off
    wrap = (t // 2**32 + 1) * 2**32
    m = (wrap - off + 9) // 10 - 1
    early, late = ballot_from_micros(m, node=0), ballot_from_micros(m + 1, node=0)
    assert uuid.UUID(int=early.int) > uuid.UUID(int=late.int)
    assert early < late and late > early and early <= late and not late < early
    same_time_a = ballot_from_micros(5_000_000, node=1)
    same_time_b = ballot_from_micros(5_000_000, node=2)
    assert same_time_a < same_time_b  # tie broken by the raw bytes (node)
    assert sorted([late, same_time_b, early, same_time_a]) == sorted([same_time_a, same_time_b, early, late])
    assert MIN_BALLOT < early


def test_equality_and_hash_match_plain_uuid() -> None:
    b = ballot_from_micros(123, node=9)
    assert b == uuid.UUID(int=b.int) and hash(b) == hash(uuid.UUID(int=b.int))
    assert len({b, Ballot.of(uuid.UUID(int=b.int))}) == 1


def test_rejects_non_v1() -> None:
    with pytest.raises(ValueError):
        Ballot(int=uuid.uuid4().int)


def test_clock_strictly_increasing_even_when_time_stands_still_or_goes_back() -> None:
    now = [1_000_000]
    clock = BallotClock(lambda: now[0], node=1)
    seen = [clock.next() for _ in range(5)]
    now[0] = 500_000  # wall clock jumps back
    seen += [clock.next() for _ in range(5)]
    micros = [ballot_micros(b) for b in seen]
    assert micros == sorted(set(micros)), "microseconds must strictly increase"
    assert all(a < b for a, b in zip(seen, seen[1:], strict=False))


def test_observe_lifts_above_any_seen_ballot_after_restart_with_clock_behind() -> None:
    on_disk = ballot_from_micros(9_000_000, node=42)
    restarted = BallotClock(lambda: 1_000_000, node=1)  # new process, clock far behind
    restarted.observe(on_disk)
    nxt = restarted.next()
    assert nxt > on_disk and ballot_micros(nxt) > ballot_micros(on_disk)
    restarted.observe(ballot_from_micros(10, node=3))  # an older ballot changes nothing
    assert restarted.next() > nxt
    restarted.observe(None)


def test_a_clocks_ballots_carry_its_node_and_clock_sequence() -> None:
    clock = BallotClock(lambda: 1_700_000_000_000_001, node=0xABCDEF012345, clock_seq=0x1234)
    b = clock.next()
    assert b == ballot_from_micros(1_700_000_000_000_001, 0xABCDEF012345, 0x1234)
    assert (b.version, b.node, b.clock_seq, ballot_micros(b)) == (1, 0xABCDEF012345, 0x1234, 1_700_000_000_000_001)
    assert b == uuid.UUID(bytes=b.bytes) and b.variant == uuid.RFC_4122
