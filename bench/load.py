"""Closed-loop load through the real driver: `execute_async` with a window of requests in flight.

The calling thread builds and sends requests (that is where the driver serialises them); the driver's
event-loop thread runs the callbacks, which record the latency and free a slot in the window.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

Request = tuple[Any, Any]  # (statement, parameters or None)
MakeOp = Callable[[int], Sequence[Request]]  # op number -> the requests of that op (sent together)


@dataclass
class Measurement:
    name: str
    ops: int  # completed ops, failed ones included
    elapsed: float  # seconds from the first send to the last reply
    latencies: list[float]  # seconds, successful ops only
    errors: Counter = field(default_factory=Counter)
    requests_per_op: int = 1
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] * 1000.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Stalled(RuntimeError):
    """No reply freed a slot in the window for `timeout` seconds."""


class _Op:
    __slots__ = ("remaining", "t0", "failed")

    def __init__(self, n: int, t0: float) -> None:
        self.remaining = n
        self.t0 = t0
        self.failed = False


def run(
    session,
    make_op: MakeOp,
    *,
    duration: float,
    window: int = 128,
    max_ops: int | None = None,
    start: int = 0,
    timeout: float = 30.0,
    on_result: Callable[[Any], None] | None = None,
    rate: float | None = None,
) -> tuple[int, float, list[float], Counter, int]:
    """Send ops until `duration` passes (or `max_ops` were sent), then wait for the stragglers.

    With `rate` (ops/s) the loop is open: op n is due at start + n / rate whatever the replies do, and
    its latency counts from when it was due, so a request held back by a full window or a late sender
    is charged for its wait (no coordinated omission).

    Returns (ops, elapsed, latencies, errors, next op number).  Raises `Stalled` if the window does not move.
    """
    slots = threading.Semaphore(window)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: Counter = Counter()
    perf = time.perf_counter

    def finish(op: _Op) -> None:
        # called with `lock` held
        op.remaining -= 1
        if op.remaining == 0 and not op.failed:
            latencies.append(perf() - op.t0)

    def ok(result, op: _Op) -> None:
        if on_result is not None:
            try:
                on_result(result)
            except Exception as e:  # noqa: BLE001 - a bad result counts as an error, never kills the loop
                with lock:
                    errors[f"check:{type(e).__name__}"] += 1
                    op.failed = True
        with lock:
            finish(op)
        slots.release()

    def err(exc, op: _Op) -> None:
        with lock:
            errors[type(exc).__name__] += 1
            op.failed = True
            finish(op)
        slots.release()

    i = start
    sent = 0
    t0 = perf()
    deadline = t0 + duration
    while perf() < deadline and (max_ops is None or sent < max_ops):
        due = None
        if rate:
            due = t0 + sent / rate
            ahead = due - perf()
            if ahead > 0:
                time.sleep(ahead)
        requests = make_op(i)
        for _ in requests:
            if not slots.acquire(timeout=timeout):
                raise Stalled(f"no reply for {timeout:.0f} s with {window} requests in flight")
        op = _Op(len(requests), perf() if due is None else due)
        for statement, params in requests:
            future = session.execute_async(statement, params, timeout=timeout)
            future.add_callbacks(ok, err, callback_args=(op,), errback_args=(op,))
        i += 1
        sent += 1
        if sent % 1024 == 0 and sum(errors.values()) > max(100, sent // 2):
            break  # mostly failing: stop early, the errors column will say why
    for _ in range(window):  # drain: every slot back means every request answered
        if not slots.acquire(timeout=timeout):
            raise Stalled(f"{window} requests still unanswered after {timeout:.0f} s")
    elapsed = perf() - t0
    return sent, elapsed, latencies, errors, i


def measure(
    name: str,
    session,
    make_op: MakeOp,
    *,
    duration: float,
    warmup: float,
    window: int = 128,
    max_ops: int | None = None,
    start: int = 0,
    timeout: float = 30.0,
    on_result: Callable[[Any], None] | None = None,
    note: str = "",
) -> Measurement:
    """A warm-up run (discarded), then the measured run continuing the op numbering."""
    nxt = start
    if warmup > 0:
        *_, nxt = run(session, make_op, duration=warmup, window=window, start=nxt, timeout=timeout, on_result=on_result)
    ops, elapsed, lat, errors, nxt = run(
        session,
        make_op,
        duration=duration,
        window=window,
        max_ops=max_ops,
        start=nxt,
        timeout=timeout,
        on_result=on_result,
    )
    m = Measurement(name, ops, elapsed, lat, errors, requests_per_op=len(make_op(start)), note=note)
    m.extra["next"] = nxt  # op numbers start..nxt-1 were sent (warm-up included)
    return m


SEGMENTS = 4  # turns per workload when workloads are measured in turns
# At a fixed rate (an open loop) a stall of the machine of a few ms backs up every request due behind it, and
# on this shared machine such stalls come by the second: with 4 turns one workload could catch more of them
# than the other and the p50 ratio moved between 0.9 and 2.5 from run to run. Short turns share them out.
FIXED_RATE_SEGMENTS = 16


def turns(names: list, segments: int = SEGMENTS) -> Iterator:
    """A B B A A B …: every name once per segment, in reversed order every other segment, so that neither
    workload always runs right after the other (a compaction or a purge started by one lands on both)."""
    for j in range(segments):
        yield from names if j % 2 == 0 else reversed(names)


def interleaved(
    session,
    ops: dict[str, MakeOp],
    *,
    duration: float,
    warmup: float,
    window: int = 128,
    timeout: float = 30.0,
    on_result: dict[str, Callable[[Any], None]] | None = None,
    rate: float | None = None,
    segments: int = SEGMENTS,
) -> list[Measurement]:
    """Workloads measured in turns (`turns`, `duration` in all per workload), so that both meet the same
    machine: their ops/s ratio needs no baseline to correct for load that comes and goes (which a shared
    machine's does within seconds). `on_result`: a result callback per workload name; `rate`: as in `run`;
    `segments`: turns per workload."""
    nxt = dict.fromkeys(ops, 0)
    total: dict[str, list] = {n: [0, 0.0, [], Counter()] for n in ops}
    checks = on_result or {}

    def segment(n: str, seconds: float) -> tuple:
        return run(
            session,
            ops[n],
            duration=seconds,
            window=window,
            start=nxt[n],
            timeout=timeout,
            on_result=checks.get(n),
            rate=rate,
        )

    for n in ops:
        if warmup > 0:
            *_, nxt[n] = segment(n, warmup)
    for n in turns(list(ops), segments):
        done, elapsed, lat, errors, nxt[n] = segment(n, duration / segments)
        t = total[n]
        t[0] += done
        t[1] += elapsed
        t[2] += lat
        t[3].update(errors)
    return [Measurement(n, t[0], t[1], t[2], t[3], note="interleaved") for n, t in total.items()]
