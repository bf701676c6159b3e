"""Simulation harness: a virtual-time asyncio loop, dict-backed replicas, a register workload.

Time never passes for real: when nothing is ready, the loop jumps to the next timer, so seconds of
simulated faults run in milliseconds and every run is a pure function of its seed.
"""

from __future__ import annotations

import asyncio
import math
import random
import selectors
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from paxos_linearizability import Op, cas_register_step, check_linearizable

from paxos import (
    Acceptor,
    Ballot,
    BallotClock,
    Coordinator,
    FaultyTransport,
    LocalTransport,
    PaxosCommitTimeout,
    PaxosOverloaded,
    PaxosState,
    PaxosTimeout,
    PaxosUnavailable,
    PaxosUnknownResult,
    Proposal,
)
from paxos.messages import EMPTY_STATE

T = TypeVar("T")


# ---- virtual time --------------------------------------------------------------------------------


class _VirtualSelector(selectors.SelectSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:
            raise RuntimeError("virtual loop deadlock: nothing ready and no timer pending")
        if timeout > 0:
            self._loop.advance(timeout)
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """asyncio loop whose clock jumps straight to the next timer instead of waiting."""

    def __init__(self) -> None:
        self._vtime = 0.0
        super().__init__(selector=_VirtualSelector(self))

    def time(self) -> float:
        return self._vtime

    def advance(self, dt: float) -> None:
        self._vtime += dt


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        # Sends still in flight after their round moved on (and late duplicates): drop them.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(_drain(pending))
        loop.close()


async def _drain(tasks: set[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


# ---- replicas ----------------------------------------------------------------------------------------


class MemoryBackend:
    """PaxosBackend over dicts. Data per key: (value, timestamp, op_id), last write (timestamp) wins."""

    def __init__(self, name: Any, observer: ChosenObserver | None = None) -> None:
        self.name = name
        self.states: dict[Any, PaxosState] = {}
        self.data: dict[Any, tuple[Any, int, int]] = {}
        self.applied: list[Proposal] = []
        self.tie_conflicts: list[tuple[Any, Any]] = []
        self.observer = observer

    def load_state(self, key: Any) -> PaxosState:
        return self.states.get(key, EMPTY_STATE)

    def store_state(self, key: Any, state: PaxosState) -> None:
        self.states[key] = state
        if self.observer is not None and state.accepted is not None:
            self.observer.accepted(self.name, state.accepted)

    def read(self, key: Any, read_request: Any) -> Any:
        return self.data.get(key)

    def apply(self, proposal: Proposal) -> None:
        self.applied.append(proposal)
        new = proposal.update
        cur = self.data.get(proposal.key)
        if cur is None or new[1] > cur[1]:
            self.data[proposal.key] = new
        elif new[1] == cur[1] and new != cur:
            # Two different LWT writes with one timestamp: storage would pick by value, not by
            # Paxos order. The ballot-microseconds rule must make this impossible.
            self.tie_conflicts.append((cur, new))


class MemoryGroup:
    """The `paxos.fast.GroupBackend` over a cluster's MemoryBackends: what the server's replica shards
    offer (their states in one store), so that the coordinator may take `fast_round`."""

    def __init__(self, backends: dict[Any, MemoryBackend]) -> None:
        self.backends = backends
        # The ballot floor the server keeps on disk: the highest ballot whose states `settle` dropped.
        self.floor: Ballot | None = None
        # Clocks that must stay above the floor: in the server, one clock for the one coordinator; here
        # every coordinator's, so that coordinators with clocks of their own model that one clock.
        self.clocks: list[BallotClock] = []

    def states(self, key: Any) -> dict[Any, PaxosState]:
        return {r: b.states[key] for r, b in self.backends.items() if key in b.states}

    def settle(self, key: Any, states: dict[Any, PaxosState], ballot: Ballot) -> None:
        for b in self.backends.values():
            b.states.pop(key, None)
        if self.floor is None or ballot > self.floor:
            self.floor = ballot
        for clock in self.clocks:
            clock.observe(ballot)

    def apply(self, replicas: Any, proposal: Proposal) -> None:
        for r in replicas:
            self.backends[r].apply(proposal)

    def read_all(self, replicas: Any, key: Any, read_request: Any) -> list[Any]:
        return [self.backends[r].read(key, read_request) for r in replicas]


def lww_merge(reads: list[Any]) -> Any:
    best = None
    for r in reads:
        if r is not None and (best is None or r[1] > best[1]):
            best = r
    return best


class ChosenObserver:
    """Watches every acceptor's accepted proposals: a ballot accepted by a quorum is *chosen*.

    Per key: each key is its own Paxos instance. A coordinator restarted with its clock set back may
    issue a ballot again for another key (nothing tells it about keys it never touched), which is
    harmless; the same ballot with two proposals for one key is not (found by the sweep, seed 10735,
    when the observer still mixed keys)."""

    def __init__(self, quorum: int) -> None:
        self.quorum = quorum
        self.acceptors: dict[Any, set[Any]] = defaultdict(set)
        self.proposals: dict[Any, Proposal] = {}
        self.chosen: dict[Any, Proposal] = {}  # (key, ballot) -> the proposal a quorum accepted
        self.conflicts: list[tuple[Proposal, Proposal]] = []

    def accepted(self, replica: Any, p: Proposal) -> None:
        instance = (p.key, p.ballot)
        known = self.proposals.setdefault(instance, p)
        if known != p:
            self.conflicts.append((known, p))  # two different proposals at one ballot of one key
        s = self.acceptors[instance]
        s.add(replica)
        if len(s) >= self.quorum:
            self.chosen[instance] = p


@dataclass
class Cluster:
    replicas: list[str]
    backends: dict[str, MemoryBackend]
    local: LocalTransport
    observer: ChosenObserver
    quorum: int


def make_cluster(n: int = 3, group: bool = False) -> Cluster:
    """`group`: the transport offers the replicas' states as one store (`MemoryGroup`), as the server's."""
    quorum = n // 2 + 1
    observer = ChosenObserver(quorum)
    names = [f"r{i}" for i in range(n)]
    backends = {r: MemoryBackend(r, observer) for r in names}
    local = LocalTransport(
        {r: Acceptor(b) for r, b in backends.items()}, group=MemoryGroup(backends) if group else None
    )
    return Cluster(names, backends, local, observer, quorum)


# ---- register workload ---------------------------------------------------------------------------------


@dataclass
class Record:
    key: Any
    op_id: int
    client: int
    call: float
    ret: float = math.inf
    input: tuple[Any, ...] = ()
    output: tuple[Any, ...] = ("unknown",)
    status: str = "pending"  # ok | unknown | failed


@dataclass
class SimConfig:
    seed: int
    replicas: int = 3
    coordinators: int = 3
    clients_per_coordinator: int = 2
    ops_per_client: int = 14
    keys: int = 2
    timeout: float = 0.5
    drop_request: float = 0.05
    drop_reply: float = 0.05
    duplicate: float = 0.05
    delay: tuple[float, float] = (0.0, 0.004)
    net_timeout: float = 0.02
    nemesis: bool = True
    commit_acks: int | None = None  # None: random per op between 0 and quorum
    skew_micros: int = 3000
    restart_coordinators: bool = True  # the nemesis also restarts coordinators with clocks set back
    # The server's path: coordinators call the acceptors directly (no faulty network) and propose and
    # commit in one broadcast; rounds of different coordinators interleave only between rounds.
    fused: bool = False
    # With `fused`: the replicas' states offered as one store, so that rounds whose preconditions hold
    # run as `paxos.fast.fast_round` (as in the server); the others still run `CasRound`.
    group: bool = False


@dataclass
class SimResult:
    config: SimConfig
    cluster: Cluster
    records: list[Record] = field(default_factory=list)
    coordinators: list[Coordinator] = field(default_factory=list)
    end_time: float = 0.0


def _decide(expected: Any, new: Any, op_id: int):  # type: ignore[no-untyped-def]
    def decide(read: Any, ts: int) -> tuple[Any, bool]:
        current = None if read is None else read[0]
        if current == expected:
            return (new, ts, op_id), True
        return None, False

    return decide


async def simulate(cfg: SimConfig) -> SimResult:
    loop = asyncio.get_running_loop()
    rng = random.Random(cfg.seed)
    cluster = make_cluster(cfg.replicas, group=cfg.group)
    result = SimResult(cfg, cluster)
    transports: list[FaultyTransport] = []
    for i in range(cfg.coordinators):
        skew = rng.randint(-cfg.skew_micros, cfg.skew_micros)
        clock = BallotClock(lambda skew=skew: int(loop.time() * 1e6) + 1_700_000_000_000_000 + skew, node=i + 1)
        ft = FaultyTransport(
            cluster.local,
            rng.randrange(1 << 30),
            drop_request=cfg.drop_request,
            drop_reply=cfg.drop_reply,
            duplicate=cfg.duplicate,
            delay=cfg.delay,
            timeout=cfg.net_timeout,
        )
        transports.append(ft)
        transport = cluster.local if cfg.fused else ft
        if cluster.local.group is not None:
            cluster.local.group.clocks.append(clock)
        result.coordinators.append(
            Coordinator(
                clock,
                transport,
                random.Random(rng.randrange(1 << 30)),
                asyncio.sleep,
                loop.time,
                fuse_commit=cfg.fused,
            )
        )
    keys = [f"k{i}" for i in range(cfg.keys)]
    op_ids = iter(range(1, 1 << 30))
    done = asyncio.Event()

    async def client(cid: int, coord: Coordinator, crng: random.Random) -> None:
        last_seen: Any = None  # CAS from the last value seen, as an application would (more applied ops)
        for _ in range(cfg.ops_per_client):
            await asyncio.sleep(crng.uniform(0, 0.01))
            key = crng.choice(keys)
            op_id = next(op_ids)
            rec = Record(key, op_id, cid, loop.time())
            result.records.append(rec)
            commit_acks = cfg.commit_acks if cfg.commit_acks is not None else crng.randint(0, cluster.quorum)
            try:
                if crng.random() < 0.3:
                    rec.input = ("read",)
                    read = await coord.read_serial(
                        key, cluster.replicas, None, lww_merge, quorum=cluster.quorum, timeout=cfg.timeout
                    )
                    rec.output = ("ok", None if read is None else read[0])
                    last_seen = rec.output[1]
                else:
                    expected = last_seen if crng.random() < 0.7 else crng.choice([None, 0, 1, 2, 3])
                    new = crng.randint(0, 3)
                    rec.input = ("cas", expected, new)
                    res = await coord.cas(
                        key,
                        cluster.replicas,
                        None,
                        _decide(expected, new, op_id),
                        lww_merge,
                        quorum=cluster.quorum,
                        commit_acks=commit_acks,
                        timeout=cfg.timeout,
                    )
                    if res.applied:
                        rec.output = ("applied",)
                        last_seen = new
                    else:
                        rec.output = ("failed", None if res.read is None else res.read[0])
                        last_seen = rec.output[1]
                rec.status = "ok"
                rec.ret = loop.time()
            except PaxosCommitTimeout:
                rec.output, rec.status, rec.ret = ("applied",), "ok", loop.time()
            except PaxosUnknownResult:
                rec.output, rec.status = ("unknown",), "unknown"
            except (PaxosTimeout, PaxosUnavailable, PaxosOverloaded):
                rec.status, rec.ret = "failed", loop.time()

    def restart_coordinator(coord: Coordinator, nrng: random.Random) -> None:
        # A new process: a fresh clock (set back by up to 50 ms) seeded, as start-up does, from every
        # ballot the replicas hold on disk. In-flight operations keep running, as a coordinator's
        # old tasks would until the process died; what matters is the new ballots.
        skew = -nrng.randint(0, 50_000)
        node = coord.clock.node  # same node id after restart
        clock = BallotClock(lambda: int(loop.time() * 1e6) + 1_700_000_000_000_000 + skew, node=node)
        for b in cluster.backends.values():
            for st in b.states.values():
                clock.observe(st.promised)
        group = cluster.local.group
        if group is not None:  # and from the floor, which stands for the states one-pass rounds dropped
            clock.observe(group.floor)
            group.clocks[group.clocks.index(coord.clock)] = clock
        coord.clock = clock

    async def nemesis(nrng: random.Random) -> None:
        while not done.is_set():
            await asyncio.sleep(nrng.uniform(0.005, 0.05))
            if cfg.restart_coordinators and nrng.random() < 0.1:
                restart_coordinator(nrng.choice(result.coordinators), nrng)
                continue
            r = nrng.choice(cluster.replicas)
            if cluster.local.is_alive(r):
                # Mostly keep a quorum alive, sometimes not (unavailability, timeouts).
                down = sum(1 for x in cluster.replicas if not cluster.local.is_alive(x))
                if down < cluster.quorum - 1 or nrng.random() < 0.1:
                    cluster.local.stop(r)
            else:
                cluster.local.start(r)

    tasks = []
    cid = 0
    for coord in result.coordinators:
        for _ in range(cfg.clients_per_coordinator):
            tasks.append(asyncio.ensure_future(client(cid, coord, random.Random(rng.randrange(1 << 30)))))
            cid += 1
    nem = asyncio.ensure_future(nemesis(random.Random(rng.randrange(1 << 30)))) if cfg.nemesis else None
    await asyncio.gather(*tasks)
    done.set()
    if nem is not None:
        await nem
    result.end_time = loop.time()

    # Stabilise: everyone up, in-flight messages land, then a fault-free SERIAL read per key from a
    # fresh coordinator finishes any in-progress proposal and repairs every laggard.
    for r in cluster.replicas:
        cluster.local.start(r)
    await asyncio.sleep(1.0)
    clock = BallotClock(lambda: int(loop.time() * 1e6) + 1_700_000_000_000_000, node=999)
    for b in cluster.backends.values():
        for st in b.states.values():
            clock.observe(st.promised)
    if cluster.local.group is not None:
        clock.observe(cluster.local.group.floor)
        cluster.local.group.clocks.append(clock)
    healer = Coordinator(clock, cluster.local, random.Random(0), asyncio.sleep, loop.time)
    for key in keys:
        for _ in range(2):
            await healer.read_serial(key, cluster.replicas, None, lww_merge, quorum=cluster.quorum, timeout=5.0)
    return result


# ---- checkers ----------------------------------------------------------------------------------------


def check_result(res: SimResult) -> None:
    cluster = res.cluster
    backends = list(cluster.backends.values())
    # (c) convergence: after stabilisation every replica holds the same data and latest commit.
    keys = {r.key for r in res.records}
    for key in keys:
        datas = {b.name: b.data.get(key) for b in backends}
        assert len(set(datas.values())) == 1, f"replicas diverge on {key}: {datas}"
        commits = {b.name: (b.states.get(key) or EMPTY_STATE).committed for b in backends}
        ballots = {c.ballot if c else None for c in commits.values()}
        assert len(ballots) == 1, f"latest commits diverge on {key}: {commits}"
    for b in backends:
        assert not b.tie_conflicts, f"equal-timestamp conflicting writes on {b.name}: {b.tie_conflicts[:3]}"
    assert not cluster.observer.conflicts, f"two proposals at one ballot of a key: {cluster.observer.conflicts[:3]}"

    # (b) once chosen, never changes: every chosen update is committed; every acknowledged update
    # is chosen and committed; every update whose op definitely failed never is; and the committed
    # updates, in ballot order, carry strictly increasing write timestamps (LWW agrees with Paxos).
    committed_ops: dict[int, Any] = {}
    per_key_log: dict[Any, dict[Any, Any]] = defaultdict(dict)
    for b in backends:
        for p in b.applied:
            committed_ops[p.update[2]] = p.update
            per_key_log[p.key][p.ballot] = p.update
    chosen_ops = {p.update[2] for p in cluster.observer.chosen.values() if p.update is not None}
    assert chosen_ops <= committed_ops.keys(), f"chosen but never committed: {chosen_ops - committed_ops.keys()}"
    for rec in res.records:
        if rec.input and rec.input[0] == "cas":
            if rec.status == "ok" and rec.output[0] == "applied":
                assert rec.op_id in committed_ops, f"acknowledged CAS lost: {rec}"
            if rec.status == "failed" or (rec.status == "ok" and rec.output[0] == "failed"):
                assert rec.op_id not in committed_ops, f"failed/not-applied CAS took effect: {rec}"
    for key, log in per_key_log.items():
        seen: set[int] = set()
        last_ts = -1
        for ballot in sorted(log):
            upd = log[ballot]
            if upd[2] in seen:
                continue  # the same update committed again under a later ballot (re-proposal)
            seen.add(upd[2])
            assert upd[1] > last_ts, f"write timestamps not increasing in ballot order on {key}: {upd}"
            last_ts = upd[1]
        final = {b.data.get(key) for b in backends}
        assert final == {log[max(log)]}, f"final value is not the newest commit on {key}"

    # (a) linearizability, one register per key.
    for key in keys:
        ops = [
            Op(r.call, r.ret, r.input, r.output, r.client)
            for r in res.records
            if r.key == key and r.status in ("ok", "unknown")
        ]
        assert check_linearizable(ops, None, cas_register_step), f"history of {key} is not linearizable"
