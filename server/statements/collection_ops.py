"""Writes to non-frozen collections as element cells (see storage/collections.py): whole-value
assignments, appends, prepends, removals and element updates, as Cassandra's Lists/Sets/Maps do."""

from __future__ import annotations

from server.errors import InvalidRequest
from server.wire import UNSET
from storage import collections as coll
from storage import cqltypes
from storage.rows import cell_wins


def _elements(cur: dict, column: str) -> list[tuple[bytes, str, bytes]]:
    """The live elements of a collection in the current row: (key, cell name, payload), key order."""
    prefix = column + coll.SEP
    return sorted(
        (coll.element_key(name), name, payload)
        for name, payload in cur.items()
        if name.startswith(prefix) and len(name) > len(prefix) and payload is not None
    )


def _put(cells: dict, name: str, cell: tuple) -> None:
    """Two writes of one element in one statement reconcile as any two cells do (the greater wins)."""
    old = cells.get(name)
    if old is None or cell_wins(cell, old):
        cells[name] = cell


def _write_all(t, name: str, raw: bytes, cells: dict, ts: int, ttl: int, expires: int) -> None:
    value = t.deserialize(raw) if raw else None
    if not value:
        return
    if isinstance(t, cqltypes.MapType):
        for k, v in value.items():
            kb, vb = t.key.serialize(k), t.value.serialize(v)
            _put(cells, coll.element_name(name, t.key.comparable(kb)), (ts, coll.entry_payload(kb, vb), ttl, expires))
    elif isinstance(t, cqltypes.SetType):
        for e in value:
            eb = t.element.serialize(e)
            _put(cells, coll.element_name(name, t.element.comparable(eb)), (ts, coll.value_payload(eb), ttl, expires))
    else:
        for e in value:
            eb = t.element.serialize(e)
            cells[coll.element_name(name, coll.append_key(ts))] = (ts, coll.value_payload(eb), ttl, expires)


def apply(op, values: list, cells: dict, cur: dict, ts: int, ttl: int, expires: int) -> None:
    t = op.column.type
    name = op.column.name
    tomb = (ts, None, 0, 0)
    if op.kind == "del":
        cells[coll.tombstone_name(name)] = tomb
        return
    if op.kind == "set":
        v = op.value(values)
        if v is UNSET:
            return
        if v is None:
            cells[coll.tombstone_name(name)] = tomb
            return
        # Overwrite: drop what was there just before this write, then the new elements.
        cells[coll.tombstone_name(name)] = (ts - 1, None, 0, 0)
        _write_all(t, name, v, cells, ts, ttl, expires)
        return
    if op.kind == "add":
        v = op.value(values)
        if v is not UNSET and v is not None:
            _write_all(t, name, v, cells, ts, ttl, expires)
        return
    if op.kind == "prepend":
        v = op.value(values)
        if v is UNSET or v is None:
            return
        # Prepend keys decrease with each one drawn: the last element first, so the list keeps its order.
        for e in reversed(t.deserialize(v) or []):
            eb = t.element.serialize(e)
            cells[coll.element_name(name, coll.prepend_key(ts))] = (ts, coll.value_payload(eb), ttl, expires)
        return
    if op.kind == "sub":
        v = op.value(values)
        if v is UNSET or v is None:
            return
        if cqltypes.is_list(t):
            doomed = {coll.value_payload(t.element.serialize(e)) for e in t.deserialize(v)}
            for _key, cell_name, payload in _elements(cur, name):
                if payload in doomed:
                    cells[cell_name] = tomb
            return
        element_t = t.key if isinstance(t, cqltypes.MapType) else t.element
        for e in cqltypes.SetType(element_t).deserialize(v) or []:
            _put(cells, coll.element_name(name, element_t.comparable(element_t.serialize(e))), tomb)
        return
    if op.kind in ("set_elem", "del_elem"):
        k = op.key(values)
        if k is UNSET and op.kind == "del_elem" and cqltypes.is_list(t):
            return  # DELETE l[?] with an unset index deletes nothing, as in Cassandra
        what = "list index" if cqltypes.is_list(t) else "set element" if isinstance(t, cqltypes.SetType) else "map key"
        if k is None:
            raise InvalidRequest(f"Invalid null value for {what}")
        if k is UNSET:
            raise InvalidRequest(f"Invalid unset value for {what}")
        v = op.value(values) if op.kind == "set_elem" else None
        if v is UNSET:
            return
        if cqltypes.is_list(t):
            items = _elements(cur, name)
            idx = int.from_bytes(k, "big", signed=True)
            if idx < 0 or idx >= len(items):
                raise InvalidRequest(f"List index {idx} out of bound, list has size {len(items)}")
            cell_name = items[idx][1]
            cells[cell_name] = tomb if v is None else (ts, coll.value_payload(v), ttl, expires)
            return
        if isinstance(t, cqltypes.SetType):
            _put(cells, coll.element_name(name, t.element.comparable(k)), tomb)
            return
        cell_name = coll.element_name(name, t.key.comparable(k))
        _put(cells, cell_name, tomb if v is None else (ts, coll.entry_payload(k, v), ttl, expires))
        return
    raise AssertionError(op.kind)  # pragma: no cover - field operations are not collection operations


def needs_read(op) -> bool:
    """Only list positions and list removal by value look at the current elements."""
    return cqltypes.is_list(op.column.type) and op.kind in ("sub", "set_elem", "del_elem")
