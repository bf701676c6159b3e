"""Errors raised by the CQL parser."""

from __future__ import annotations


class CqlSyntaxError(Exception):
    """The text is not valid CQL. `.message` holds a Cassandra-style text such as
    ``line 1:7 no viable alternative at input 'X' (SELECT [X]...)``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
