"""Outcomes of a Paxos operation that are not a result. The server maps them onto protocol errors:
PaxosUnavailable → Unavailable; PaxosTimeout (and subclasses) → WriteTimeout CAS (ReadTimeout for
SERIAL reads); PaxosOverloaded → Overloaded."""

from __future__ import annotations

__all__ = [
    "PaxosCommitTimeout",
    "PaxosError",
    "PaxosOverloaded",
    "PaxosTimeout",
    "PaxosUnavailable",
    "PaxosUnknownResult",
    "ReplicaDown",
]


class PaxosError(Exception):
    """Base class of every error this package raises to its caller."""


class PaxosUnavailable(PaxosError):
    """Fewer than `required` replicas alive when the operation started: nothing was attempted."""

    def __init__(self, required: int, alive: int) -> None:
        super().__init__(f"Cannot achieve consistency level SERIAL (required {required}, alive {alive})")
        self.required = required
        self.alive = alive


class PaxosTimeout(PaxosError):
    """The deadline passed before a decision. The operation had no effect unless a subclass says
    otherwise (`received` replies of `required` in the last phase, `contentions` lost ballot races)."""

    def __init__(self, received: int, required: int, contentions: int = 0, message: str | None = None) -> None:
        super().__init__(message or f"CAS operation timed out - encountered contentions: {contentions}")
        self.received = received
        self.required = required
        self.contentions = contentions


class PaxosUnknownResult(PaxosTimeout):
    """Our proposal was accepted by some replicas (or maybe by some: replies were lost) but not by a
    quorum, and a competing ballot won: a later round may still complete it (CASSANDRA-6013)."""

    def __init__(self, accepted_count: int, required: int, contentions: int = 0) -> None:
        super().__init__(
            accepted_count,
            required,
            contentions,
            f"CAS operation result is unknown - proposal accepted by {accepted_count} but not a quorum.",
        )
        self.accepted_count = accepted_count


class PaxosCommitTimeout(PaxosTimeout):
    """The update was decided (accepted by a quorum: it *is* applied, and every later Paxos round
    completes it) but fewer than `required` replicas acknowledged the commit (Cassandra v1's
    WriteTimeout with write type SIMPLE)."""

    def __init__(self, received: int, required: int, contentions: int = 0) -> None:
        super().__init__(received, required, contentions, f"Operation timed out - received only {received} responses.")
        self.applied = True


class PaxosOverloaded(PaxosError):
    """Too many operations already wait for this key at this coordinator."""

    def __init__(self, key: object, limit: int) -> None:
        super().__init__(f"too many pending LWTs on one partition (limit {limit})")
        self.key = key
        self.limit = limit


class ReplicaDown(Exception):
    """A transport could not get a reply from `replica`.

    maybe_delivered: False when the message certainly never reached the acceptor (replica stopped
    before sending, request dropped); True when it may have been handled (reply lost, timeout). The
    coordinator needs the difference to tell "fully refused, retry" from "outcome unknown".
    """

    def __init__(self, replica: object, maybe_delivered: bool = False) -> None:
        super().__init__(f"replica {replica!r} did not reply")
        self.replica = replica
        self.maybe_delivered = maybe_delivered
