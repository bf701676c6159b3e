"""Turning raw partitions (header + rows from storage) into live CQL rows, at a point in time."""

from __future__ import annotations

from storage.collections import SEP, assemble
from storage.rows import marker_live, max_ts, range_deletion_at
from storage.schema import Table, without_dropped


class LiveRow:
    """One CQL row as a reader sees it: column -> serialized value, plus the live cells for
    writetime()/ttl(). `ck` is the byte-comparable clustering key (b'' for the static-only row)."""

    __slots__ = ("ck", "values", "cells", "static_only")

    def __init__(self, ck: bytes, values: dict, cells: dict, static_only: bool = False) -> None:
        self.ck = ck
        self.values = values
        self.cells = cells
        self.static_only = static_only


def _cells_of(row, shadow, now_s) -> tuple[dict, dict]:
    deleted = max_ts(row[1], shadow)
    vals, cells = {}, {}
    has_elements = False
    for col, cell in row[2].items():
        if SEP in col:
            has_elements = True
            continue
        if cell[1] is None or (deleted is not None and cell[0] <= deleted) or (cell[3] and cell[3] <= now_s):
            continue
        vals[col] = cell[1]
        cells[col] = cell
    if has_elements:
        # Non-frozen collections: their wire value by column, and each live element's payload by its
        # cell name (what list updates by position or by value work from).
        collections, elements = assemble(row[2], deleted, now_s)
        vals.update(collections)
        for name, cell in elements.items():
            vals[name] = cell[1]
            cells[name] = cell
    return vals, cells


def live_rows(
    table: Table,
    pk_values: list[bytes],
    header,
    rows,
    now_s: int,
    include_static_only: bool = True,
) -> list[LiveRow]:
    """Live rows of one partition, each carrying the partition key and static values."""
    header, rows = without_dropped(table, header, rows)
    pdel = header[0] if header else None
    tombs = header[2] if header else []
    static_vals, static_cells = ({}, {})
    if header and header[1] is not None:
        static_vals, static_cells = _cells_of(header[1], pdel, now_s)
    base = {c.name: v for c, v in zip(table.partition_key, pk_values, strict=False)}
    out = []
    for ck, row in rows:
        shadow = max_ts(pdel, range_deletion_at(tombs, ck)) if tombs else pdel
        vals, cells = _cells_of(row, shadow, now_s)
        if not vals and not marker_live(row, shadow, now_s):
            continue
        v = dict(base)
        if row[3]:
            for c, cv in zip(table.clustering, row[3], strict=False):
                v[c.name] = cv
        v.update(static_vals)
        v.update(vals)
        cells.update(static_cells)
        out.append(LiveRow(ck, v, cells))
    if not out and static_vals and include_static_only:
        v = dict(base)
        v.update(static_vals)
        out.append(LiveRow(b"", v, dict(static_cells), static_only=True))
    return out
