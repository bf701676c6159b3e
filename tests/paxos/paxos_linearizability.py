"""A Wing–Gong linearizability checker with Lowe's memoisation (after Porcupine's `checkSingle`).

History of ONE object: operations with call time, return time (math.inf when the outcome is
unknown: such an op may take effect at any point after its call, or never — linearising it last is
"never"), an input and an output; a model says whether `step(state, input, output)` is legal and
returns the next state. States must be hashable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Op", "check_linearizable", "cas_register_step"]


@dataclass(frozen=True)
class Op:
    call: float
    ret: float  # math.inf: unknown outcome
    input: Any
    output: Any
    client: Any = None


class _Node:
    __slots__ = ("op_index", "is_call", "match", "prev", "next")

    def __init__(self, op_index: int, is_call: bool) -> None:
        self.op_index = op_index
        self.is_call = is_call
        self.match: _Node | None = None
        self.prev: _Node | None = None
        self.next: _Node | None = None


def _unlink(n: _Node) -> None:
    n.prev.next = n.next  # type: ignore[union-attr]
    if n.next is not None:
        n.next.prev = n.prev


def _relink(n: _Node) -> None:
    n.prev.next = n  # type: ignore[union-attr]
    if n.next is not None:
        n.next.prev = n


def check_linearizable(
    ops: Sequence[Op],
    init: Any,
    step: Callable[[Any, Any, Any], tuple[bool, Any]],
    max_steps: int = 5_000_000,
) -> bool:
    """True iff `ops` has a linearization under the model. Raises if the search budget runs out."""
    events: list[tuple[float, int, int]] = []
    for i, op in enumerate(ops):
        events.append((op.call, 0, i))  # calls before returns at equal times
        events.append((op.ret, 1, i))
    events.sort()
    head = _Node(-1, False)
    prev = head
    calls: dict[int, _Node] = {}
    for _, kind, i in events:
        n = _Node(i, kind == 0)
        if kind == 0:
            calls[i] = n
        else:
            calls[i].match = n
        n.prev = prev
        prev.next = n
        prev = n

    state = init
    linearized = 0  # bitset of op indexes
    cache: set[tuple[int, Any]] = set()
    stack: list[tuple[_Node, Any]] = []
    entry = head.next
    steps = 0
    while head.next is not None:
        steps += 1
        if steps > max_steps:
            raise RuntimeError("linearizability search budget exhausted")
        assert entry is not None
        if entry.is_call:
            op = ops[entry.op_index]
            ok, new_state = step(state, op.input, op.output)
            if ok:
                bits = linearized | (1 << entry.op_index)
                key = (bits, new_state)
                if key not in cache:
                    cache.add(key)
                    stack.append((entry, state))
                    state = new_state
                    linearized = bits
                    _unlink(entry)
                    _unlink(entry.match)  # type: ignore[arg-type]
                    entry = head.next
                    continue
            entry = entry.next
        else:
            if not stack:
                return False
            entry, state = stack.pop()
            linearized &= ~(1 << entry.op_index)
            _relink(entry.match)  # type: ignore[arg-type]
            _relink(entry)
            entry = entry.next
    return True


def cas_register_step(state: Any, inp: Any, out: Any) -> tuple[bool, Any]:
    """CAS register: inputs ("read",) / ("cas", expected, new); outputs:
    read → ("ok", value) | ("unknown",);  cas → ("applied",) | ("failed", observed) | ("unknown",)."""
    kind = inp[0]
    if kind == "read":
        if out[0] == "unknown":
            return True, state
        return out[1] == state, state
    if kind == "cas":
        _, expected, new = inp
        tag = out[0]
        if tag == "applied":
            return state == expected, new
        if tag == "failed":
            return state != expected and state == out[1], state
        return True, (new if state == expected else state)
    raise ValueError(inp)


def infinite() -> float:
    return math.inf
