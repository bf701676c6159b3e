"""Shared fixtures: a real cqld started as a subprocess on a free port, and real driver sessions."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


_started: list = []


class ServerProcess:
    """cqld in a subprocess with its own data dir; restartable on the same data."""

    def __init__(self, data_dir: Path, *extra: str, env: dict | None = None) -> None:
        self.data_dir = data_dir
        self.extra = list(extra)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}.log"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.update(self.env or {})
        self._log = open(self.log_path, "ab")
        _started.append(self)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", "0", "--data-dir", str(self.data_dir), *self.extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(rb"listening on [^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError(f"cqld did not start: {self.log()}")
        self._wait_ready(deadline)
        return self

    def _wait_ready(self, deadline: float) -> None:
        options = bytes([4, 0, 0, 1, 5, 0, 0, 0, 0])
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.sendall(options)
                    if len(s.recv(9)) == 9:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"cqld did not answer OPTIONS: {self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc.stdout.close()
        self._log.close()
        self.proc = None
        return code

    def kill9(self) -> None:
        self.stop(signal.SIGKILL)


@pytest.fixture(scope="session", autouse=True)
def no_server_outlives_the_run():
    """A test that fails between starting a server and stopping it must not leave the process behind."""
    yield
    for srv in _started:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("cqld") / "data").start()
    yield srv
    code = srv.stop()
    assert code == 0, srv.log()


@pytest.fixture
def fresh_server(tmp_path):
    srv = ServerProcess(tmp_path / "data")
    yield srv
    srv.stop()


def make_cluster(port: int, **kw):
    from cassandra.cluster import Cluster
    from cassandra.policies import WhiteListRoundRobinPolicy

    kw.setdefault("load_balancing_policy", WhiteListRoundRobinPolicy(["127.0.0.1"]))
    kw.setdefault("connect_timeout", 10)
    return Cluster(["127.0.0.1"], port=port, **kw)


def create_keyspace(session, name: str, rf: int = 3) -> None:
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
    )


@contextlib.contextmanager
def connected(server: ServerProcess):
    """A driver session on the running `server`; its cluster is shut down on leaving."""
    cluster = make_cluster(server.port)
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()


@contextlib.contextmanager
def serving(tmp_path, *args: str, env: dict | None = None, keyspace: str | None = None, rf: int = 3):
    """A server of its own (flags, environment) and a driver session; both stopped afterwards."""
    server = ServerProcess(tmp_path / "data", *args, env=env).start()
    try:
        with connected(server) as session:
            if keyspace is not None:
                create_keyspace(session, keyspace, rf)
            yield server, session
    finally:
        code = server.stop()
    assert code == 0, server.log()


@pytest.fixture(scope="session")
def cluster(server):
    c = make_cluster(server.port)
    yield c
    c.shutdown()


@pytest.fixture(scope="session")
def session(cluster):
    return cluster.connect()


_counter = iter(range(1_000_000))


@pytest.fixture
def keyspace(session):
    name = f"ks{next(_counter)}_{os.getpid() % 1000}"
    session.execute(f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}")
    session.set_keyspace(name)
    yield name
    session.execute(f"DROP KEYSPACE {name}")
