"""Entry points: `parse(text) -> ast.Statement` and `parse_type(text) -> ast.TypeRef`.

The Lark LALR parser (contextual lexer, inline transformer) is built once at import; its analysis is cached
on disk (user cache dir, else the temp dir) so start-up stays fast.  Every failure surfaces as
`CqlSyntaxError` with a Cassandra-style message (``line L:C ...``, column 0-based).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from cql_grammar import ast
from cql_grammar.errors import CqlSyntaxError
from cql_grammar.transformer import CqlTransformer

_GRAMMAR_PATH = Path(__file__).with_name("cql.lark")
_GRAMMAR = _GRAMMAR_PATH.read_text(encoding="utf-8")

# Keywords Cassandra reserves: never usable as unquoted names (ReservedKeywords / Parser.g).
RESERVED_KEYWORDS = frozenset(
    """
    add allow alter and apply asc authorize batch begin by columnfamily create delete desc describe drop entries
    execute from full grant if in index infinity insert into is keyspace limit materialized modify
    nan norecursive not null of on or order primary rename revoke schema select set table to token
    truncate unlogged update use using view where with true false
    """.split()
)

_MAX_INPUT = 1_000_000  # characters; longer statements are rejected outright


class _ReservedWord(Exception):
    def __init__(self, token: Token) -> None:
        super().__init__(str(token))
        self.token = token


def _check_ident(token: Token) -> Token:
    if token.lower() in RESERVED_KEYWORDS:
        raise _ReservedWord(token)
    return token


def _cache_file() -> str:
    digest = hashlib.sha256(_GRAMMAR.encode("utf-8")).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for directory in (os.path.join(base, "cqld"), tempfile.gettempdir()):
        try:
            os.makedirs(directory, exist_ok=True)
            if os.access(directory, os.W_OK):
                return os.path.join(directory, f"cql-grammar-{digest}.lark-cache")
        except OSError:
            continue
    return ""


_transformer = CqlTransformer()


def _build() -> Lark:
    options: dict[str, Any] = {
        "parser": "lalr",
        "lexer": "contextual",
        "start": ["start", "type_start"],
        "transformer": _transformer,
        "lexer_callbacks": {"IDENT": _check_ident},
        "maybe_placeholders": False,
        "propagate_positions": False,
    }
    cache = _cache_file()
    if cache:
        try:
            return Lark(_GRAMMAR, cache=cache, **options)
        except Exception:  # noqa: BLE001 - a broken cache file must not prevent start-up
            try:
                os.unlink(cache)
            except OSError:
                pass
    return Lark(_GRAMMAR, **options)


_parser = _build()


def parse(text: str) -> ast.Statement:
    """Parse one CQL statement (optionally ending with `;`)."""
    return _run(text, "start")


def parse_type(text: str) -> ast.TypeRef:
    """Parse a CQL type as written in DDL, e.g. ``frozen<map<text, list<int>>>``."""
    return _run(text, "type_start")


def _run(text: str, start: str) -> Any:
    if not isinstance(text, str):
        raise CqlSyntaxError("line 1:0 no viable alternative at input: expected a string")
    if len(text) > _MAX_INPUT:
        raise CqlSyntaxError(f"line 1:0 statement too long ({len(text)} characters)")
    _transformer.reset()
    try:
        return _parser.parse(text, start=start)
    except CqlSyntaxError as e:
        if e.message.startswith("line "):
            raise
        raise CqlSyntaxError(f"line 1:0 {e.message}") from None
    except _ReservedWord as e:
        raise CqlSyntaxError(_message(text, e.token, "no viable alternative at input")) from None
    except VisitError as e:
        orig = e.orig_exc
        if isinstance(orig, CqlSyntaxError):
            if orig.message.startswith("line "):
                raise orig from None
            raise CqlSyntaxError(f"line 1:0 {orig.message}") from None
        raise CqlSyntaxError(f"line 1:0 {orig}") from None
    except UnexpectedCharacters as e:
        snippet = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else ""
        raise CqlSyntaxError(
            f"line {e.line}:{max(e.column - 1, 0)} no viable alternative at character '{snippet}'"
            + _context(text, e.pos_in_stream, len(snippet))
        ) from None
    except UnexpectedToken as e:
        raise CqlSyntaxError(_token_error(text, e)) from None
    except UnexpectedEOF:
        raise CqlSyntaxError(_eof_message(text, "no viable alternative at input '<EOF>'")) from None
    except UnexpectedInput as e:
        raise CqlSyntaxError(f"line {getattr(e, 'line', 1)}:0 no viable alternative at input") from None
    except RecursionError:
        raise CqlSyntaxError("line 1:0 statement is nested too deeply") from None
    except Exception as e:  # noqa: BLE001 - the contract: nothing but CqlSyntaxError escapes
        raise CqlSyntaxError(f"line 1:0 could not parse statement: {e}") from None


# ---------------------------------------------------------------- error messages

_TERMINAL_NAMES = {
    "$END": "EOF",
    "SEMICOLON": "';'",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "DOT": "'.'",
    "COLON": "':'",
    "EQUAL": "'='",
    "LESSTHAN": "'<'",
    "MORETHAN": "'>'",
    "QMARK": "'?'",
    "IDENT": "IDENT",
    "QUOTED_NAME": "QUOTED_NAME",
    "STRING": "STRING_LITERAL",
    "INT": "INTEGER",
}


def _expected_name(term: str) -> str:
    if term in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[term]
    if term.isupper() and term.isidentifier() and not term.startswith("__"):
        return "K_" + term.removesuffix("_T")
    return term


def _token_error(text: str, e: UnexpectedToken) -> str:
    token = e.token
    expected_set = set(e.expected or ())
    try:  # the precise set (the contextual lexer only reports the terminals it could lex)
        expected_set = set(e.interactive_parser.accepts()) or expected_set
    except Exception:  # noqa: BLE001 - best effort, for the message only
        pass
    expected = sorted(expected_set)
    if token.type == "$END":
        if len(expected) == 1:
            return _eof_message(text, f"mismatched input '<EOF>' expecting {_expected_name(expected[0])}")
        return _eof_message(text, "no viable alternative at input '<EOF>'")
    if "$END" in expected:
        return _message(text, token, "mismatched input", "expecting EOF")
    if len(expected) == 1:
        return _message(text, token, "mismatched input", f"expecting {_expected_name(expected[0])}")
    return _message(text, token, "no viable alternative at input")


def _message(text: str, token: Token, what: str, tail: str = "") -> str:
    line = token.line or 1
    column = (token.column or 1) - 1
    msg = f"line {line}:{column} {what} '{token}'"
    if tail:
        msg += " " + tail
    start = token.start_pos if token.start_pos is not None else len(text)
    return msg + _context(text, start, len(str(token)))


def _eof_message(text: str, what: str) -> str:
    stripped = text.rstrip()
    lines = stripped.split("\n")
    return f"line {len(lines)}:{len(lines[-1])} {what}" + _context(text, len(stripped), 0)


def _context(text: str, start: int, length: int) -> str:
    """A short ` (before [token] after...)` excerpt, like Cassandra's ErrorCollector."""
    before = " ".join(text[max(0, start - 60) : start].split())
    token = text[start : start + length]
    after = " ".join(text[start + length : start + length + 20].split())
    parts = f"{before} [{token}]" if before else f"[{token}]"
    if after:
        parts += " " + after.split(" ")[0] + "..."
    return f" ({parts})"
