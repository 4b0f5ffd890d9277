"""Child processes the stack supervises: started in their own session, logged, stopped whole."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil


class StartupError(RuntimeError):
    """A component did not become healthy. The message says which and where its log is."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _ephemeral_ports() -> range:
    """The ports the kernel hands out to sockets that bind port 0 or connect."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)  # Linux's default


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, outside the kernel's
    ephemeral range: a port from that range can be taken between this call and the
    component's start by any process binding port 0 (Spark's driver and block manager do)
    or connecting somewhere."""
    ephemeral = _ephemeral_ports()
    candidates = [p for p in range(20000, 30000) if p not in ephemeral] or list(
        range(1024 + 1, 20000))
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(candidates)
        if port_is_free(port) and not port_is_open(port):
            return port
    raise StartupError("no free TCP port outside the ephemeral range on 127.0.0.1")


def free_port_env(home: Path) -> dict[str, str]:
    """TALLYFLOW_* variables for an embedded stack under ``home`` on free ports."""
    return {
        "TALLYFLOW_HOME": str(home),
        "TALLYFLOW_POSTGRES_PORT": str(free_port()),
        "TALLYFLOW_KAFKA_PORT": str(free_port()),
        "TALLYFLOW_KAFKA_STORE_PORT": str(free_port()),
        "TALLYFLOW_SPARK_PORT": str(free_port()),
        "TALLYFLOW_AIRFLOW_PORT": str(free_port()),
        "TALLYFLOW_SITE_PORT": str(free_port()),
    }


def port_is_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text[-lines:])


@dataclass
class ManagedProcess:
    """One supervised command. Its whole process tree is stopped by :meth:`stop`."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 20.0
    popen: subprocess.Popen | None = field(default=None, init=False)
    restarts: int = field(default=0, init=False)
    started_at: float = field(default=0.0, init=False)  # time.monotonic() of the last start
    last_exit_code: int | None = field(default=None, init=False)
    # Its descendants when last looked at: those of a killed process are orphans afterwards
    # (re-parented, some in sessions of their own) and are found only through this.
    known_descendants: list[psutil.Process] = field(default_factory=list, init=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.cwd is not None:
            self.cwd.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
                user=self.user,
                start_new_session=True,  # own process group: Ctrl-C reaches the supervisor only
            )
        self.started_at = time.monotonic()

    def remember_descendants(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.known_descendants = psutil.Process(self.popen.pid).children(
                    recursive=True)

    def stop_orphans(self) -> None:
        """SIGKILL the remembered descendants still running (psutil checks they are the
        same processes, not reused pids)."""
        for proc in self.known_descendants:
            _signal(proc, signal.SIGKILL)
        psutil.wait_procs(self.known_descendants, timeout=5)
        self.known_descendants = []

    def restart(self) -> None:
        """Start it again after it exited, first stopping whatever its last run left behind
        (children of a killed process may outlive it)."""
        if self.popen is not None:
            self.last_exit_code = self.popen.poll()
            stop_tree(self.popen.pid, signal.SIGKILL, timeout=5.0)
            self.stop_orphans()
        self.restarts += 1
        self.start()

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def exited(self) -> int | None:
        """The exit code if the process has ended, else None."""
        return self.popen.poll() if self.popen else None

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready`` until true; fail fast with the log tail if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.exited()
            if code is not None:
                raise StartupError(
                    f"{self.name} exited with code {code} before it was {what}; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            try:
                if ready():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        raise StartupError(
            f"{self.name} was not {what} after {timeout:.0f} s; "
            f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        if self.popen is None:
            return
        stop_tree(self.popen.pid, self.stop_signal, self.stop_timeout)
        self.popen.wait(timeout=5)
        self.stop_orphans()


def stop_tree(pid: int, first_signal: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Stop a process, its process group and every descendant; SIGKILL what outlives timeout."""
    try:
        leader = psutil.Process(pid)
        tree = [leader, *leader.children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    tree += _same_group(pid, exclude={p.pid for p in tree})
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, first_signal)
    if first_signal != signal.SIGINT:
        for proc in tree[1:]:
            _signal(proc, first_signal)
    _, alive = psutil.wait_procs(tree, timeout=timeout)
    # Anything the group started while it was stopping (a scheduler forking a task worker)
    # was not in the first sweep.
    alive += _same_group(pid, exclude={p.pid for p in alive})
    for proc in alive:
        _signal(proc, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)


def _same_group(pgid: int, exclude: set[int]) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid not in exclude and os.getpgid(proc.pid) == pgid:
                found.append(proc)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return found


def _signal(proc: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.send_signal(sig)
