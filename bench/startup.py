"""Start-up and fixture-generation benchmarks: process start to first 200, and persons generated per second.

Run: `make bench` (or `.venv/bin/python bench/startup.py`). Numbers are medians of several fresh runs on this machine;
they go to docs/performance.md. Nothing here is asserted by tests: machines are shared and noisy.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.server import child_pids, free_port, largest_rss_mib  # noqa: E402


def generation(persons: int, runs: int = 3) -> dict:
    times = []
    size = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "simulator.cli", "fixtures", "generate", "--seed", "42",
                            "--persons", str(persons), "--out", tmp], check=True, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - started)
            size = (Path(tmp) / "persons.jsonl").stat().st_size
    return {"persons": persons, "seconds": statistics.median(times), "mb": size / 1e6}


def rss_mb(pid: int) -> float:
    return largest_rss_mib([pid, *child_pids(pid)])


def _serve_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOSIM_")}
    # An installed gosim runs from bytecode (pip compiles it at install time); a checkout under
    # PYTHONDONTWRITEBYTECODE=1 would compile ~60 modules from source on every start (~50 ms of CPU). The bytecode
    # goes to bench/.cache, not into the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / "bench" / ".cache" / "pycache")
    return env


def startup(data: Path | None, runs: int = 5, workers: int = 1) -> dict:
    """Seconds from exec to the first 200 of /_sim/ready; the largest worker's RSS after it.

    One untimed start first writes the bytecode and gosim's spec cache (~/.cache/gosim), as the first start after an
    install does; the timed starts are the ones every later start is like.
    """
    times, rss = [], []
    for run in range(runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            cmd = [sys.executable, "-m", "simulator.cli", "serve", "--port", str(port), "--workers", str(workers),
                   "--storage", f"sqlite:///{tmp}/state.db"]
            if data:
                cmd += ["--data", str(data)]
            env = _serve_env()
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                deadline = started + 120
                while time.perf_counter() < deadline:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/_sim/ready", timeout=0.5).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.01)
                if run:
                    times.append(time.perf_counter() - started)
                    rss.append(rss_mb(proc.pid))
            finally:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=20)
    return {"seconds": statistics.median(times), "rss_mb": statistics.median(rss)}


def target_lines(stories: dict, large: dict) -> list[str]:
    """Issue 6's start-up and memory targets against what was just measured."""
    checks = [
        ("start-up with the story fixtures", stories["seconds"], 0.5, "s"),
        ("start-up with 100 000 generated persons", large["seconds"], 2.0, "s"),
        ("RSS per worker with 100 000 generated persons", large["rss_mb"], 150, "MiB"),
    ]
    out = ["| target | measured | needed | met |", "|---|---:|---:|---|"]
    for label, value, limit, unit in checks:
        out.append(f"| {label} | {value:.2f} {unit} | < {limit:g} {unit} | {'yes' if value < limit else 'no'} |")
    return out


def main() -> list[str]:
    lines = ["## Start-up and fixture generation", "",
             "Process start (`gosim serve`, 1 worker, SQLite) to the first 200 from `/_sim/ready`; RSS of the "
             "largest process after it. Medians of 5 fresh processes.", "",
             "| data loaded | start-up to first 200 (s) | RSS (MiB) |", "|---|---:|---:|"]
    gens = []
    with tempfile.TemporaryDirectory() as tmp:
        datasets: list[tuple[str, Path | None]] = [("story fixtures only", None)]
        for n in (10_000, 100_000):
            gens.append(generation(n, runs=3 if n <= 10_000 else 1))
            out = Path(tmp) / f"d{n}"
            subprocess.run([sys.executable, "-m", "simulator.cli", "fixtures", "generate", "--persons", str(n),
                            "--out", str(out)], check=True, capture_output=True, cwd=ROOT)
            datasets.append((f"stories + {n:,} generated persons".replace(",", " "), out))
        results = []
        for label, data in datasets:
            result = startup(data, runs=5 if data is None else 3)
            results.append(result)
            lines.append(f"| {label} | {result['seconds']:.2f} | {result['rss_mb']:.0f} |")
    lines += ["", *target_lines(results[0], results[-1])]
    lines += ["", "`gosim fixtures generate --seed 42 --persons N` (wall time, median):", "",
              "| persons | seconds | persons/s | file (MB) |", "|---:|---:|---:|---:|"]
    for g in gens:
        lines.append(f"| {g['persons']:,} | {g['seconds']:.2f} | {g['persons'] / g['seconds']:,.0f} | {g['mb']:.0f} |"
                     .replace(",", " "))
    return lines


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    print("\n".join(main()))
