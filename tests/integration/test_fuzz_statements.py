"""Random and mutated statements through the server: each gets a result or a Cassandra error, never a
server error (an invariant broken in cqld), a crash or a hang."""

from __future__ import annotations

import random

import pytest
from cassandra.cluster import NoHostAvailable
from cassandra.protocol import ServerError

from tests.integration.test_seeds import BLOCKS

BASE = [
    "SELECT * FROM t WHERE k = 1 AND c > 2 ORDER BY c DESC LIMIT 3",
    "SELECT k, count(*), max(v), writetime(v) FROM t WHERE k IN (1, 2) GROUP BY k",
    "INSERT INTO t (k, c, v, l, m, s) VALUES (1, 2, 'x', [1, 2], {'a': 1}, 5) USING TTL 100",
    "UPDATE t SET v = 'y', l = l + [3], m['b'] = 2 WHERE k = 1 AND c = 2 IF v = 'x'",
    "DELETE l[0], m['a'] FROM t WHERE k = 1 AND c = 2",
    "DELETE FROM t WHERE k = 1 AND c > 0 AND c < 10",
    "BEGIN BATCH INSERT INTO t (k, c) VALUES (3, 3); UPDATE t SET s = 1 WHERE k = 3; APPLY BATCH",
    "SELECT JSON k, v FROM t WHERE k = 1",
    'INSERT INTO t JSON \'{"k": 9, "c": 1, "v": "j"}\'',
    "SELECT DISTINCT k, s FROM t",
    "SELECT * FROM t WHERE v = 'x' ALLOW FILTERING",
    "SELECT * FROM t WHERE (c, v) > (1, 'a') AND k = 1",
    "UPDATE t SET s = 2 WHERE k = 1 IF s = null",
    "SELECT token(k), ttl(v), CAST(c AS text) FROM t",
    "ALTER TABLE t ADD extra int",
    "CREATE INDEX IF NOT EXISTS ON t (v)",
]
TOKENS = ["(", ")", ",", "'", "?", "IF", "NOT", "EXISTS", "null", "-1", "[", "{", "}", ";", "token(", "AND", "IN", "*"]


def mutate(rng: random.Random, stmt: str) -> str:
    words = stmt.split(" ")
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        i = rng.randrange(len(words))
        if op < 0.3:
            del words[i]
            if not words:
                words = [rng.choice(TOKENS)]
        elif op < 0.6:
            words.insert(i, rng.choice(TOKENS))
        elif op < 0.8:
            words[i] = rng.choice(TOKENS)
        else:
            j = rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
    return " ".join(words)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_statements_never_break_the_server(session, keyspace, seed):
    session.execute(
        "CREATE TABLE t (k int, c int, v text, l list<int>, m map<text, int>, s int static, PRIMARY KEY (k, c))"
    )
    rng = random.Random(seed)
    corpus = BASE + list(BLOCKS.values())
    server_errors = []
    for _ in range(150):
        stmt = mutate(rng, rng.choice(corpus))
        try:
            session.execute(stmt, timeout=10)
        except ServerError as e:
            server_errors.append((stmt, str(e)))
        except NoHostAvailable as e:
            if any(isinstance(x, ServerError) for x in e.errors.values()):
                server_errors.append((stmt, str(e)))
        except Exception:  # any Cassandra error (syntax, invalid, ...) or a client-side refusal
            pass
    assert server_errors == [], f"SEED={seed}"
    assert session.execute("SELECT key FROM system.local").one().key == "local"
