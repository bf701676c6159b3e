"""A cqld subprocess for the benchmarks: fresh data dir, free port, bounded waits, always killed."""

from __future__ import annotations

import atexit
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import rawproto

ROOT = Path(__file__).resolve().parent.parent
_LIVE: set[subprocess.Popen] = set()


def _kill_all() -> None:
    for proc in list(_LIVE):
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        _LIVE.discard(proc)


atexit.register(_kill_all)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: have the kernel SIGKILL the server if the benchmark process dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort only
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchServer:
    """`python -m server` on its own data dir; `start()` returns once an OPTIONS round trip succeeds."""

    def __init__(self, data_dir: Path, *extra: str, env: dict | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.extra = list(extra)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self._lines: queue.Queue[bytes] = queue.Queue()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def spawn(self, port: int = 0) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.update(self.env or {})
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", str(port), "--data-dir", str(self.data_dir), *self.extra],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        _LIVE.add(self.proc)
        self.port = port or None
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()

    def _pump(self, stream) -> None:
        try:
            for line in iter(stream.readline, b""):
                self._lines.put(line)
        finally:
            self._lines.put(b"")
            stream.close()

    def start(self, timeout: float = 60.0) -> BenchServer:
        """Spawn on a port the server picks and wait for the listening line, then for OPTIONS to answer."""
        self.spawn(0)
        deadline = time.monotonic() + timeout
        while self.port is None:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = b""
            m = re.search(rb"listening on [^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
            elif not line or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"cqld did not start:\n{self.log()}")
        self.wait_ready(deadline)
        return self

    def wait_ready(self, deadline: float, interval: float = 0.005) -> None:
        """Poll with OPTIONS until a SUPPORTED comes back (or the process dies, or the deadline passes)."""
        assert self.proc is not None and self.port is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cqld exited with {self.proc.returncode}:\n{self.log()}")
            if rawproto.probe("127.0.0.1", self.port, timeout=2.0):
                return
            time.sleep(interval)
        self.kill()
        raise RuntimeError(f"cqld did not answer OPTIONS in time:\n{self.log()}")

    def status(self, field: str) -> int | None:
        """A /proc/<pid>/status size in KiB (VmHWM, VmRSS), or None off Linux / after exit."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError, AssertionError):
            return None
        return None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful: flush, close) and wait; SIGKILL if it hangs.  Returns the exit code."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self._close()
        return proc.returncode

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._close()

    def _close(self) -> None:
        assert self.proc is not None
        _LIVE.discard(self.proc)
        self._log.close()
        self.proc = None
