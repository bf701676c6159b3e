"""Paging state: where a page stopped, opaque to clients and authenticated so a forged one is refused."""

from __future__ import annotations

import hashlib
import hmac
import marshal
from dataclasses import dataclass

from server.errors import ProtocolError

_MAC = 16


@dataclass(slots=True)
class State:
    token: int
    pk: bytes
    last_ck: bytes | None
    remaining: int | None
    partition_count: int


def encode(key: bytes, s: State) -> bytes:
    body = marshal.dumps((1, s.token, s.pk, s.last_ck, s.remaining, s.partition_count))
    return body + hmac.new(key, body, hashlib.sha256).digest()[:_MAC]


def decode(key: bytes, data: bytes) -> State:
    body, mac = data[:-_MAC], data[-_MAC:]
    if len(data) <= _MAC or not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()[:_MAC]):
        raise ProtocolError("Invalid value for the paging state")
    try:
        version, token, pk, last_ck, remaining, count = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        raise ProtocolError("Invalid value for the paging state") from None
    if version != 1:
        raise ProtocolError("Invalid value for the paging state")
    return State(token, pk, last_ck, remaining, count)
