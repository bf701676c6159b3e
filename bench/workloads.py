"""The driver workloads: one schema, one session, one `measure()` per row of the table."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cassandra import ConsistencyLevel
from cassandra.query import BatchStatement, BatchType, SimpleStatement

from bench.load import FIXED_RATE_SEGMENTS, Measurement, interleaved, measure

KEYSPACE = "bench"
VALUE = "cqld-bench-value-0123456789abcde"  # 32 characters of text per row
CONTENDED_KEYS = 4
BATCH_SIZE = 10  # statements per batch: 5 partitions written in each of 2 tables
PRELOAD = 20_000  # rows loaded for the reads and updates when the INSERT workload is filtered out
ONE_IN_FLIGHT = "1 in flight"
INTERLEAVED_INSERT = "prepared INSERT, in turns with LWT"
INTERLEAVED_LWT = "LWT INSERT IF NOT EXISTS, in turns"
PLAIN_UPDATE = "plain UPDATE (distinct keys)"
LWT_UPDATE = "LWT UPDATE IF v = ? (distinct keys)"
FIXED_RATE_SHARE = 0.5  # of the LWT's throughput in turns: the load both are offered for the latency pair
FIXED_RATE_INSERT = "prepared INSERT, fixed rate"
FIXED_RATE_LWT = "LWT INSERT IF NOT EXISTS, fixed rate"
HOT_WINDOW = 8
HOT_KEY = f"LWT UPDATE IF, {HOT_WINDOW} clients on 1 key"
HOT_KEY_COUNTERPART = f"LWT UPDATE IF, {HOT_WINDOW} clients on own rows"
OWN_ROWS = 4096  # rows gone round lap after lap by the uncontended updates: far more than the window
RANGE = 50_000_000  # each workload writes its own key range: int keys stay below 2**31


@dataclass
class Settings:
    duration: float
    warmup: float
    window: int
    timeout: float
    # Measures the baseline (ops/s) right now; called around every workload, so each one gets a baseline
    # measured next to it in time (the geometric mean of the one before and the one after).
    baseline: Callable[[], float] | None = None


class Tally:
    """Counts LWT replies by their [applied] flag (callbacks run on the driver's event-loop thread)."""

    def __init__(self) -> None:
        self.applied = 0
        self.not_applied = 0
        self._lock = threading.Lock()

    def __call__(self, rows) -> None:
        applied = bool(rows[0][0])
        with self._lock:
            if applied:
                self.applied += 1
            else:
                self.not_applied += 1

    def fraction(self) -> float:
        total = self.applied + self.not_applied
        return self.applied / total if total else float("nan")


def create_schema(session, replication_factor: int = 3) -> None:
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}"
    )
    session.set_keyspace(KEYSPACE)
    for table in ("kv", "kv2"):
        session.execute(f"CREATE TABLE IF NOT EXISTS {table} (k int PRIMARY KEY, v text)")


def run_all(
    session, s: Settings, progress: Callable[[Measurement], None], only: str | None = None
) -> list[Measurement]:
    """Every driver workload in a fixed order; `only` keeps those whose name contains it (plus what they need)."""
    out: list[Measurement] = []
    local: dict[str, float] = {}
    ranges = iter(range(1, 40))

    def base() -> int:
        return next(ranges) * RANGE

    def bracketed(names: list[str], take: Callable[[], list[Measurement]]) -> list[Measurement]:
        """`take()` between two baseline bursts, unless `only` leaves out every one of `names`."""
        if only and not any(only.lower() in n.lower() for n in names):
            return []
        before = local.get("last") or (s.baseline() if s.baseline else None)
        taken = take()
        if s.baseline:
            local["last"] = after = s.baseline()
            for m in taken:
                m.extra["local_baseline"] = math.sqrt(before * after)
        for m in taken:
            out.append(m)
            progress(m)
        return taken

    def go(name: str, make_op, *, note: str = "", on_result=None, start: int = 0) -> Measurement | None:
        taken = bracketed(
            [name],
            lambda: [
                measure(
                    name,
                    session,
                    make_op,
                    duration=s.duration,
                    warmup=s.warmup,
                    window=s.window,
                    timeout=s.timeout,
                    on_result=on_result,
                    note=note,
                    start=start,
                )
            ],
        )
        return taken[0] if taken else None

    prep = session.prepare
    p_ins = prep("INSERT INTO kv (k, v) VALUES (?, ?)")
    p_ins2 = prep("INSERT INTO kv2 (k, v) VALUES (?, ?)")
    p_sel = prep("SELECT k, v FROM kv WHERE k = ?")
    p_upd = prep("UPDATE kv SET v = ? WHERE k = ?")
    p_lwt_ins = prep("INSERT INTO kv (k, v) VALUES (?, ?) IF NOT EXISTS")
    p_lwt_upd = prep("UPDATE kv SET v = ? WHERE k = ? IF v = ?")
    p_local = prep("SELECT key FROM system.local WHERE key = 'local'")

    # -- driver-level baseline
    go("driver: prepared SELECT system.local", lambda i: [(p_local, None)], note="driver-level baseline")

    # -- prepared INSERT / SELECT: the core numbers.  The SELECT reads the rows the INSERT wrote.
    ins_base = base()
    m = go("prepared INSERT", lambda i: [(p_ins, (ins_base + i, VALUE))])
    if m is None:  # filtered out: load rows for the reads and the updates of distinct rows
        from cassandra.concurrent import execute_concurrent_with_args

        execute_concurrent_with_args(session, p_ins, [(ins_base + i, VALUE) for i in range(PRELOAD)], concurrency=128)
    written = max(1, m.extra["next"] if m else PRELOAD)
    go("prepared SELECT by key", lambda i: [(p_sel, (ins_base + i % written,))])

    # -- unprepared but repeated: the same text every time (server statement cache) vs. text that changes
    fixed_key = ins_base
    same_ins = SimpleStatement(f"INSERT INTO kv (k, v) VALUES ({fixed_key}, '{VALUE}')")
    same_sel = SimpleStatement(f"SELECT k, v FROM kv WHERE k = {fixed_key}")
    fmt_ins = SimpleStatement("INSERT INTO kv (k, v) VALUES (%s, %s)")
    fmt_sel = SimpleStatement("SELECT k, v FROM kv WHERE k = %s")
    go("unprepared INSERT, same text", lambda i: [(same_ins, None)], note="identical QUERY text each time")
    fmt_base = base()
    go(
        "unprepared INSERT, %s values",
        lambda i: [(fmt_ins, (fmt_base + i, VALUE))],
        note="values inlined by the driver",
    )
    go("unprepared SELECT, same text", lambda i: [(same_sel, None)], note="identical QUERY text each time")
    go("unprepared SELECT, %s values", lambda i: [(fmt_sel, (ins_base + i % written,))], note="text differs per key")

    # -- LWT vs. plain
    lwt_base = base()
    tally_ins = Tally()
    m = go(
        "LWT INSERT IF NOT EXISTS (distinct keys)",
        lambda i: [(p_lwt_ins, (lwt_base + i, VALUE))],
        on_result=tally_ins,
    )
    if m:
        m.extra["applied"] = tally_ins.fraction()

    def turns_of(ops: dict, **kw) -> list[Measurement]:
        """Workloads measured in turns: both meet the same machine, so their ratio needs no baseline."""
        kw.setdefault("window", s.window)
        return interleaved(session, ops, duration=s.duration, warmup=s.warmup, timeout=s.timeout, **kw)

    def insert_pair(plain: str, lwt: str, **kw) -> list[Measurement]:
        """The prepared INSERT and the LWT INSERT, each on new keys of its own, in turns."""
        a, b = base(), base()
        return turns_of(
            {plain: lambda i: [(p_ins, (a + i, VALUE))], lwt: lambda i: [(p_lwt_ins, (b + i, VALUE))]}, **kw
        )

    # -- the same two, measured in turns
    saturated = bracketed(
        [INTERLEAVED_INSERT, INTERLEAVED_LWT], lambda: insert_pair(INTERLEAVED_INSERT, INTERLEAVED_LWT)
    )

    # -- latency at the same load: both offered the same fixed rate (half of what the LWT sustains), so
    # p50 is the time a request takes on a busy server rather than the time it queues behind 127 others
    # (which, at the full window, is set by the throughput alone).
    def at_fixed_rate() -> list[Measurement]:
        lwt_rate = next((m.ops_per_s for m in saturated if m.name == INTERLEAVED_LWT), None)
        if not lwt_rate:  # the saturated pair was filtered out: a measurement of its own instead
            # As long as the pair's (a 1-s burst after 0.2 s of warm-up once overstated the rate on a noisy
            # machine, and the LWT could not keep up with the rate it was offered: 5.19×).
            lwt_rate = measure(
                "",
                session,
                lambda i, b=base(): [(p_lwt_ins, (b + i, VALUE))],
                duration=s.duration,
                warmup=s.warmup,
                window=s.window,
            ).ops_per_s
        rate = FIXED_RATE_SHARE * lwt_rate
        taken = insert_pair(FIXED_RATE_INSERT, FIXED_RATE_LWT, rate=rate, segments=FIXED_RATE_SEGMENTS)
        for m in taken:
            m.note = f"{rate:,.0f} ops/s offered, in turns"
            m.extra["rate"] = rate  # the raw client offers the server the same load (cli.raw_at_rate)
        return taken

    bracketed([FIXED_RATE_INSERT, FIXED_RATE_LWT], at_fixed_rate)

    # -- latency proper: one request at a time, so nothing queues and p50 is the round trip itself
    # (with 128 in flight, p50 is mostly time spent waiting behind the other 127). In turns: one after
    # the other, a few seconds of a slower machine under one of them moved their ratio from 1.2 to 3.7.
    one_ins, one_lwt = f"prepared INSERT, {ONE_IN_FLIGHT}", f"LWT INSERT IF NOT EXISTS, {ONE_IN_FLIGHT}"

    def one_in_flight() -> list[Measurement]:
        tally = Tally()
        taken = insert_pair(one_ins, one_lwt, window=1, on_result={one_lwt: tally})
        for m in taken:
            m.note = "latency, in turns"
            if m.name == one_lwt:
                m.extra["applied"] = tally.fraction()
        return taken

    bracketed([one_ins, one_lwt], one_in_flight)

    # -- uncontended LWT UPDATE: each op a compare-and-set on its own row (rows of the second half of the
    # ones the INSERT workload wrote, each holding VALUE), so every condition holds; each pass over the
    # rows expects the value the pass before set. Its plain counterpart rewrites rows of the first half
    # with the value they hold. Both go round the same number of rows (OWN_ROWS, far more than the
    # window), lap after lap: over all the rows the plain one, twice as fast, came back to rows it had
    # just written while the LWT met its rows cold, and the ratio measured the CPU caches. In turns.
    half = max(1, written // 2)
    rows = min(half, OWN_ROWS)

    def laps(first: int, count: int, initial: str):
        """Op i: a compare-and-set of row first + i % count to its lap number, expecting the lap before
        (`initial` on the first lap): each row's own, so every condition holds."""

        def op(i: int):
            lap = i // count
            return [(p_lwt_upd, (str(lap + 1), first + i % count, initial if lap == 0 else str(lap)))]

        return op

    lwt_update_own_row = laps(ins_base + half, rows, VALUE)
    tally_own = Tally()

    def updates_in_turns() -> list[Measurement]:
        return turns_of(
            {PLAIN_UPDATE: lambda i: [(p_upd, (VALUE, ins_base + i % rows))], LWT_UPDATE: lwt_update_own_row},
            on_result={LWT_UPDATE: tally_own},
        )

    for m in bracketed([PLAIN_UPDATE, LWT_UPDATE], updates_in_turns):
        if m.name == LWT_UPDATE:
            m.extra["applied"] = tally_own.fraction()
    hot = base()
    for k in range(CONTENDED_KEYS):
        session.execute(p_ins, (hot + k, "0"))
    go(
        f"plain UPDATE ({CONTENDED_KEYS} hot keys)",
        lambda i: [(p_upd, (str(i % 3), hot + i % CONTENDED_KEYS))],
    )
    for k in range(CONTENDED_KEYS):
        session.execute(p_ins, (hot + k, "0"))

    def lwt_update(i: int):
        j = (i // CONTENDED_KEYS) % 3
        return [(p_lwt_upd, (str((j + 1) % 3), hot + i % CONTENDED_KEYS, str(j)))]

    tally_upd = Tally()
    m = go(f"LWT UPDATE IF v = ? ({CONTENDED_KEYS} hot keys)", lwt_update, on_result=tally_upd, note="contended")
    if m:
        m.extra["applied"] = tally_upd.fraction()

    # -- one hot key, 8 clients (8 requests in flight), each an increment by compare-and-set on what it
    # last saw: Cassandra and ScyllaDB collapse into timeouts here; cqld queues them per partition.
    # Measured in turns with the same compare-and-set, 8 in flight, each on a row of its own (nothing
    # contended): their ratio is what contention costs. The ratio divides by the uncontended LWT
    # at the full window instead, which 8 in flight reach only when the server's replies do not hold the
    # client in lock step (server/connection.py, REPLY_BATCH).
    seen = {"v": 0}

    def one_key(i: int):
        cur = seen["v"]
        return [(p_lwt_upd, (str(cur + 1), one, str(cur)))]

    def track(rows) -> None:
        if rows[0][0]:
            seen["v"] += 1
        elif len(rows[0]) > 1 and rows[0][1] is not None:
            seen["v"] = int(rows[0][1])
        tally_one(rows)

    def hot_in_turns() -> list[Measurement]:
        from cassandra.concurrent import execute_concurrent_with_args

        session.execute(p_ins, (one, "0"))
        execute_concurrent_with_args(session, p_ins, [(own + i, "0") for i in range(OWN_ROWS)], concurrency=128)
        return turns_of(
            {HOT_KEY: one_key, HOT_KEY_COUNTERPART: laps(own, OWN_ROWS, "0")},
            window=HOT_WINDOW,
            on_result={HOT_KEY: track, HOT_KEY_COUNTERPART: tally_own_rows},
        )

    one, own = base(), base()
    tally_one, tally_own_rows = Tally(), Tally()
    for m in bracketed([HOT_KEY, HOT_KEY_COUNTERPART], hot_in_turns):
        m.extra["applied"] = (tally_one if m.name == HOT_KEY else tally_own_rows).fraction()
    state = dict(session.execute("SELECT name, value FROM system_views.paxos_state"))
    print(
        f"{'':<44} (Paxos state after the LWT workloads: {state['partitions_with_state']} partitions, "
        f"{state['bytes'] / 2**20:.1f} MiB)",
        flush=True,
    )

    def serial(i: int):
        bound = p_sel.bind((ins_base + i % written,))
        bound.consistency_level = ConsistencyLevel.SERIAL
        return [(bound, None)]

    go("SERIAL SELECT by key", serial, note="read through Paxos")

    # -- batches of 10 statements over 2 tables vs. the same statements one by one
    def statements(b: int, i: int):
        k0 = b + i * (BATCH_SIZE // 2)
        return [(p, (k0 + j, VALUE)) for j in range(BATCH_SIZE // 2) for p in (p_ins, p_ins2)]

    def batch(kind: BatchType, b: int):
        def make(i: int):
            bs = BatchStatement(batch_type=kind)
            for stmt, params in statements(b, i):
                bs.add(stmt, params)
            return [(bs, None)]

        return make

    go(f"LOGGED BATCH of {BATCH_SIZE} (2 tables)", batch(BatchType.LOGGED, base()), note="1 op = 1 batch")
    go(f"UNLOGGED BATCH of {BATCH_SIZE} (2 tables)", batch(BatchType.UNLOGGED, base()), note="1 op = 1 batch")
    singles_base = base()
    go(
        f"{BATCH_SIZE} single INSERTs (2 tables)",
        lambda i: statements(singles_base, i),
        note=f"1 op = {BATCH_SIZE} requests sent at once",
    )

    # -- consistency levels, keyspace RF 3
    for cl in (ConsistencyLevel.ONE, ConsistencyLevel.QUORUM, ConsistencyLevel.ALL):
        cl_name = ConsistencyLevel.value_to_name[cl]
        cl_base = base()

        def write(i: int, cl=cl, b=cl_base):
            bound = p_ins.bind((b + i, VALUE))
            bound.consistency_level = cl
            return [(bound, None)]

        def read(i: int, cl=cl):
            bound = p_sel.bind((ins_base + i % written,))
            bound.consistency_level = cl
            return [(bound, None)]

        go(f"prepared INSERT at {cl_name}", write)
        go(f"prepared SELECT at {cl_name}", read)
    return out


ROW_FACTORY = "tuple"


def make_cluster(port: int, connect_timeout: float = 10.0):
    """The real driver against one local node; the protocol version is negotiated (cqld answers v5 with v4).

    Rows come back as plain tuples unless ROW_FACTORY is "named" (`--row-factory named`): the driver's
    default, `named_tuple_factory`, builds a new namedtuple class for every result that has rows
    (about 300 µs of client CPU each, measured with yappi), which is the driver's cost, not the
    server's, and it would hide every server-side difference between a write and an LWT, whose
    reply carries a row."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy
    from cassandra.query import named_tuple_factory, tuple_factory

    profile = ExecutionProfile(
        load_balancing_policy=WhiteListRoundRobinPolicy(["127.0.0.1"]),
        row_factory=named_tuple_factory if ROW_FACTORY == "named" else tuple_factory,
    )
    return Cluster(
        ["127.0.0.1"],
        port=port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=connect_timeout,
    )
