"""The proposer of one CAS attempt as a sans-IO state machine (one ballot, one `CasRound`).

The round never sends or waits: it hands back a `Broadcast` (a message for some replicas, with a
sequence number) and is fed the replies with `on_replies(seq, items)`; each call returns the next
`Broadcast`, a terminal outcome (`Decided`, `Retry`, `Unknown`) or None ("keep feeding me").
Replies to an earlier broadcast (stale `seq`) are ignored. The async driver is `paxos.coordinator`.

Steps, as Cassandra's v1 `StorageProxy.cas` (prepare → finish in-progress → read → propose → commit),
with the read folded into the prepare:

1. PREPARE to every replica; the first rejection ends the round (`Retry("contention")`, fail fast as
   v1's PrepareCallback). A quorum of promises continues:
2. the newest accepted proposal among the promises, if newer than the newest commit among them, is
   in progress. Non-empty: re-propose its update under our ballot, commit it to everyone, then
   `Retry("restart")` (the reads predate it). Empty: ignore it — the highest accepted value is
   "no change", and proposing our own value instead is the same history (see `_after_prepare`).
3. If the newest commit's microseconds are not below ours, our writes could not be timestamped
   after it (storage resolves equal timestamps by value, not by ballot): `Retry("restart")` with
   the clock lifted above it.
4. Quorum members that miss the newest commit get it (repair) and must acknowledge before we go on,
   so that every decided update stays applied on some member of every future quorum. `merge_reads`
   must therefore merge like storage does (newest write timestamp wins), as Cassandra's quorum read.
5. `decide(merged_read, ballot_micros)` → (update or None, applied).
6. PROPOSE (the empty update when None: CASSANDRA-12126) to every replica. A quorum of accepts is a
   decision. Otherwise: nobody accepted (and no reply was lost) ⇒ `Retry("contention")`; some
   accepted, or a lost reply may hide an accept ⇒ `Unknown` for a non-empty update (CASSANDRA-6013:
   a later round may complete it), `Retry` for the empty one (it changes nothing either way).
7. COMMIT a non-empty update to every replica, waiting for `commit_acks` (0: fire and forget).
   Empty updates are not committed (as v1): an accepted empty proposal is never completed, only
   superseded, so nothing is lost.

Fused steps 6 and 7 (`fuse_commit`, for the in-process transport only): PROPOSE_AND_COMMIT, each
replica accepting and, if it accepted, committing in the same delivery. Committing before counting
the accepts is safe only when the proposal is certain to be accepted by every replica that promised:
the transport must deliver to every live replica synchronously, lose nothing, and let no other
message reach an acceptor between this round's prepare and its proposal. `LocalTransport` under one
event loop does exactly that (a round never suspends), so the promises still stand and the value is
chosen before anyone can look. Any other transport runs steps 6 and 7 as two broadcasts.

Shortcut for step 6 with an empty update (failed condition, SERIAL read): when *every* replica
promised our ballot and none holds a non-empty accepted proposal newer than the newest commit, no
older proposal can ever be accepted again (all promised above it) and none is held anywhere, so
nothing older can be completed after us: the empty proposal is skipped (one round trip instead of
two). With the in-process transport all replicas answer, so an uncontended failed CAS or SERIAL
read costs one round. This is the spirit of Paxos v2's "skip the proposal for reads" check, made
conservative: it needs all replicas, not a quorum plus `promisedWrite` registers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from paxos.ballot import Ballot, ballot_micros
from paxos.errors import ReplicaDown
from paxos.messages import (
    Accepted,
    Commit,
    CommitAck,
    Message,
    Prepare,
    Promise,
    Proposal,
    Propose,
    ProposeAndCommit,
    Refused,
)

__all__ = ["Broadcast", "CasRound", "Decided", "Outcome", "Retry", "Unknown"]

ReplicaId = Any
Decide = Callable[[Any, int], tuple[Any, bool]]
MergeReads = Callable[[list[Any]], Any]


@dataclass(slots=True, unsafe_hash=True)
class Broadcast:
    """Send `message` to each of `targets`; feed the replies back tagged with `seq`."""

    seq: int
    message: Message
    targets: tuple[ReplicaId, ...]


@dataclass(slots=True, unsafe_hash=True)
class Decided:
    """The attempt finished. `background`: commit to send without waiting (commit_acks == 0).
    `commit_acks` < `commit_required` means the update is decided but the commit lagged."""

    applied: bool
    read: Any
    commit_acks: int = 0
    commit_required: int = 0
    background: Broadcast | None = None

    @property
    def commit_short(self) -> bool:
        return self.commit_acks < self.commit_required


@dataclass(slots=True, unsafe_hash=True)
class Retry:
    """Start again with a new ballot. reason: "contention" (a higher ballot won: back off),
    "restart" (finished someone's proposal or lifted the clock: go again at once), "short" (too
    few replies: back off). `received`/`required` describe the phase that fell short."""

    reason: str
    received: int = 0
    required: int = 0


@dataclass(slots=True, unsafe_hash=True)
class Unknown:
    """Our non-empty proposal may or may not be decided (accepted by some, not a quorum)."""

    accepted: int
    required: int


Outcome = Decided | Retry | Unknown
Action = Broadcast | Outcome

_PREPARE, _REPAIR, _FINISH_PROPOSE, _FINISH_COMMIT, _PROPOSE, _COMMIT, _PROPOSE_COMMIT, _DONE = range(8)


class CasRound:
    """One ballot's attempt at a CAS (or a SERIAL read: `decide` returning (None, False))."""

    __slots__ = (
        "key",
        "replicas",
        "ballot",
        "read_request",
        "decide",
        "merge_reads",
        "quorum",
        "commit_acks",
        "skip_empty_when_unanimous",
        "fuse_commit",
        "highest_seen",
        "_phase",
        "_seq",
        "_targets",
        "_ok",
        "_no",
        "_lost",
        "_maybe",
        "_promises",
        "_read",
        "_applied",
        "_proposal",
    )

    def __init__(
        self,
        key: Any,
        replicas: Sequence[ReplicaId],
        ballot: Ballot,
        read_request: Any,
        decide: Decide,
        merge_reads: MergeReads,
        *,
        quorum: int,
        commit_acks: int,
        skip_empty_when_unanimous: bool = True,
        fuse_commit: bool = False,
    ) -> None:
        if not 0 < quorum <= len(replicas):
            raise ValueError(f"quorum {quorum} impossible with {len(replicas)} replicas")
        self.key = key
        self.replicas = tuple(replicas)
        self.ballot = ballot
        self.read_request = read_request
        self.decide = decide
        self.merge_reads = merge_reads
        self.quorum = quorum
        self.commit_acks = min(commit_acks, len(self.replicas))
        self.skip_empty_when_unanimous = skip_empty_when_unanimous
        self.fuse_commit = fuse_commit
        # The highest ballot the replies reported above or beside ours (a promise of our own ballot
        # contributes only its commit): the driver lifts its clock above it.
        self.highest_seen: Ballot | None = None
        self._phase = _DONE
        self._seq = 0
        self._targets: tuple[ReplicaId, ...] = ()
        self._ok = 0  # promises / accepts / commit acks in the current phase
        self._no = 0  # explicit refusals in the current phase
        self._lost = 0  # no reply, certainly not delivered
        self._maybe = 0  # no reply, maybe delivered
        self._promises: dict[ReplicaId, Promise] = {}
        self._read: Any = None
        self._applied = False
        self._proposal: Proposal | None = None

    # ---- driver interface -------------------------------------------------------------------

    def start(self) -> Broadcast:
        self._promises = {}
        return self._broadcast(_PREPARE, Prepare(self.ballot, self.key, self.read_request), self.replicas)

    def on_replies(self, seq: int, items: Sequence[tuple[ReplicaId, object]]) -> Action | None:
        """Feed replies (or `ReplicaDown` exceptions) to broadcast `seq`."""
        if seq != self._seq or self._phase == _DONE:
            return None
        for replica, reply in items:
            self._count(replica, reply)
        return self._evaluate()

    # ---- internals ----------------------------------------------------------------------------

    def _broadcast(self, phase: int, message: Message, targets: tuple[ReplicaId, ...]) -> Broadcast:
        self._phase = phase
        self._seq += 1
        self._targets = targets
        self._ok = self._no = self._lost = self._maybe = 0
        return Broadcast(self._seq, message, targets)

    def _see(self, ballot: Ballot | None) -> None:
        if ballot is not None and (self.highest_seen is None or ballot > self.highest_seen):
            self.highest_seen = ballot

    def _count(self, replica: ReplicaId, reply: object) -> None:
        t = type(reply)
        if t is CommitAck or t is Accepted:
            self._ok += 1
        elif t is Promise:
            if reply.promised_ok:  # type: ignore[attr-defined]
                self._ok += 1
                self._promises[replica] = reply  # type: ignore[assignment]
                # A promise of our ballot reports nothing above it (a replica's promise is at least its
                # accepted and committed ballots); its commit is still noted, because step 3 restarts
                # when a commit's microseconds equal ours and the driver lifts the clock above it.
                com = reply.committed  # type: ignore[attr-defined]
                if com is not None:
                    self._see(com.ballot)
                return
            self._no += 1
            self._see(reply.ballot)  # type: ignore[attr-defined]
            acc, com = reply.accepted, reply.committed  # type: ignore[attr-defined]
            if acc is not None:
                self._see(acc.ballot)
            if com is not None:
                self._see(com.ballot)
        elif t is Refused:
            self._see(reply.promised)  # type: ignore[attr-defined]
            self._no += 1
        elif isinstance(reply, ReplicaDown):
            if reply.maybe_delivered:
                self._maybe += 1
            else:
                self._lost += 1
        else:
            raise AssertionError(f"unexpected reply {reply!r} in phase {self._phase}")

    def _pending(self) -> int:
        return len(self._targets) - self._ok - self._no - self._lost - self._maybe

    def _evaluate(self) -> Action | None:
        phase = self._phase
        if phase == _PREPARE:
            if self._no:
                return self._finish(Retry("contention", self._ok, self.quorum))
            if self._ok >= self.quorum:
                return self._after_prepare()
            if self._ok + self._pending() < self.quorum:
                return self._finish(Retry("short", self._ok, self.quorum))
            return None

        if phase == _REPAIR:
            if self._ok == len(self._targets):
                return self._decide()
            if self._pending() == 0:
                return self._finish(Retry("short", self._ok, len(self._targets)))
            return None

        if phase in (_PROPOSE, _FINISH_PROPOSE, _PROPOSE_COMMIT):
            if self._ok >= self.quorum:
                if phase == _PROPOSE_COMMIT:
                    # Accepted is committed here: done once commit_acks replicas did, or all answered.
                    if self._ok < self.commit_acks and self._pending():
                        return None
                    return self._finish(Decided(self._applied, self._read, self._ok, self.commit_acks))
                return self._after_accept()
            if self._ok + self._pending() >= self.quorum:
                return None  # a quorum is still possible
            own_write = phase != _FINISH_PROPOSE and self._proposal is not None and not self._proposal.is_empty
            if not own_write:
                # Someone else's value, or the empty update: no effect of ours can be pending.
                return self._finish(Retry("contention" if self._no else "short", self._ok, self.quorum))
            if self._ok or self._maybe:
                return self._finish(Unknown(self._ok, self.quorum))
            if self._pending():
                return None  # CASSANDRA-6013: wait to know whether anybody accepted
            return self._finish(Retry("contention" if self._no else "short", self._ok, self.quorum))

        if phase == _FINISH_COMMIT:
            if self._ok >= self.quorum:
                return self._finish(Retry("restart"))
            if self._ok + self._pending() < self.quorum:
                return self._finish(Retry("short", self._ok, self.quorum))
            return None

        if phase == _COMMIT:
            if self._ok >= self.commit_acks:
                return self._finish(Decided(self._applied, self._read, self._ok, self.commit_acks))
            if self._pending() == 0:
                return self._finish(Decided(self._applied, self._read, self._ok, self.commit_acks))
            return None

        return None

    def _finish(self, outcome: Outcome) -> Outcome:
        self._phase = _DONE
        return outcome

    def _after_prepare(self) -> Action:
        promises = self._promises.values()
        newest_commit: Proposal | None = None
        in_progress: Proposal | None = None
        for p in promises:
            c = p.committed
            if c is not None and (newest_commit is None or c.ballot > newest_commit.ballot):
                newest_commit = c
            a = p.accepted
            if a is not None and (in_progress is None or a.ballot > in_progress.ballot):
                in_progress = a
        if in_progress is not None and newest_commit is not None and in_progress.ballot <= newest_commit.ballot:
            in_progress = None

        if in_progress is not None and not in_progress.is_empty:
            # Paxos: the value of the highest accepted ballot must be proposed. It keeps its own
            # update (and so its original write timestamps: the update is opaque here, and the
            # original timestamp is the one its ballot order justified, as in Paxos v2).
            self._proposal = Proposal(self.ballot, self.key, in_progress.update)
            return self._broadcast(_FINISH_PROPOSE, Propose(self._proposal), self.replicas)
        # An empty in-progress proposal is skipped: its value is "no change", so deciding our own
        # update at a higher ballot yields the same sequence of states; any older non-empty
        # proposal stays fenced because the empty one, at a higher ballot, is what every later
        # quorum sees first.

        if newest_commit is not None and ballot_micros(newest_commit.ballot) >= ballot_micros(self.ballot):
            return self._finish(Retry("restart"))

        laggards = tuple(
            r
            for r, p in self._promises.items()
            if newest_commit is not None and (p.committed is None or p.committed.ballot != newest_commit.ballot)
        )
        if laggards:
            assert newest_commit is not None
            return self._broadcast(_REPAIR, Commit(newest_commit), laggards)
        return self._decide()

    def _decide(self) -> Action:
        promises = list(self._promises.values())
        self._read = self.merge_reads([p.read for p in promises])
        update, applied = self.decide(self._read, ballot_micros(self.ballot))
        self._applied = applied
        if update is None and self.skip_empty_when_unanimous and self._unanimous(promises):
            return self._finish(Decided(applied, self._read))
        self._proposal = Proposal(self.ballot, self.key, update)
        if self.fuse_commit and update is not None:
            return self._broadcast(_PROPOSE_COMMIT, ProposeAndCommit(self._proposal), self.replicas)
        return self._broadcast(_PROPOSE, Propose(self._proposal), self.replicas)

    def _unanimous(self, promises: list[Promise]) -> bool:
        if len(promises) != len(self.replicas):
            return False
        newest = max((p.committed.ballot for p in promises if p.committed is not None), default=None)
        for p in promises:
            a = p.accepted
            if a is not None and not a.is_empty and (newest is None or a.ballot > newest):
                return False
        return True

    def _after_accept(self) -> Action:
        proposal = self._proposal
        assert proposal is not None
        if self._phase == _FINISH_PROPOSE:
            return self._broadcast(_FINISH_COMMIT, Commit(proposal), self.replicas)
        if proposal.is_empty:
            return self._finish(Decided(self._applied, self._read))
        if self.commit_acks == 0:
            bc = self._broadcast(_DONE, Commit(proposal), self.replicas)
            return self._finish(Decided(self._applied, self._read, 0, 0, background=bc))
        return self._broadcast(_COMMIT, Commit(proposal), self.replicas)
