"""Starting and stopping real gosim servers (gunicorn + uvicorn workers) on free loopback ports for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simulator.testing import free_port


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a gunicorn master's workers), from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return sorted(out)


def largest_rss_mib(pids: list[int]) -> float:
    """The largest resident set among these processes, in MiB (0 for those already gone)."""
    best = 0
    for pid in set(pids):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best / 1024


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


def start_server(workdir: Path, *, workers: int = 2, storage: str | None = None, port: int | None = None,
                 extra_env: dict[str, str] | None = None, args: list[str] | None = None,
                 wait: bool = True) -> LiveServer:
    port = port or free_port()
    storage = storage or f"sqlite:///{workdir / 'state.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOSIM_")}
    env.update({"GOSIM_LOG_LEVEL": "warning", **(extra_env or {})})
    log = workdir / f"server-{port}.log"
    cmd = [sys.executable, "-m", "simulator.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--storage", storage, *(args or [])]
    process = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               start_new_session=True, cwd=str(workdir))
    server = LiveServer(url=f"http://127.0.0.1:{port}", port=port, process=process, workdir=workdir, env=env, log=log)
    if wait:
        wait_ready(server)
    return server


def wait_ready(server: LiveServer, timeout: float = 30) -> float:
    """Seconds from now until /_sim/ready answers 200; fails with the server's log if it never does."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gosim exited with {server.process.returncode}:\n{server.log.read_text() if server.log else ''}")
        try:
            if httpx.get(f"{server.url}/_sim/ready", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"gosim did not become ready in {timeout}s:\n{server.log.read_text() if server.log else ''}")
