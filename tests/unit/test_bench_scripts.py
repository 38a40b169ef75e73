"""The bench scripts (make bench) still import and parse wrk's output; the load runs themselves are not tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:1/api/v1/fines/1
  2 threads and 64 connections
  Latency Distribution
     50%    1.20ms
     75%    2.00ms
     90%    3.10ms
     99%   83.00ms
  29000 requests in 10.00s, 60.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2900.12
"""


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_bench_scripts_import():
    for name in ("load", "startup", "run", "inproc", "soak"):
        assert _load(name) is not None


def test_wrk_output_is_read_into_rate_latency_and_errors(monkeypatch):
    load = _load("load")
    assert load._ms("83.00ms") == 83.0 and load._ms("1.5s") == 1500.0 and load._ms("250us") == 0.25
    monkeypatch.setattr(load, "ensure_wrk", lambda: "wrk")

    class Done:
        stdout = WRK_OUTPUT

    monkeypatch.setattr(load.subprocess, "run", lambda *a, **kw: Done())
    result = load.wrk("http://127.0.0.1:1/", seconds=1)
    assert (result.rps, result.p99_ms, result.requests, result.non2xx, result.errors) == (2900.12, 83.0, 29000, 4, 7)


def test_the_start_up_targets_are_judged_against_the_issues_limits():
    startup = _load("startup")
    lines = startup.target_lines({"seconds": 0.39, "rss_mb": 60}, {"seconds": 2.5, "rss_mb": 149})
    assert lines[2] == "| start-up with the story fixtures | 0.39 s | < 0.5 s | yes |"
    assert lines[3].endswith("| 2.50 s | < 2 s | no |")
    assert lines[4].endswith("| 149.00 MiB | < 150 MiB | yes |")


def test_the_in_process_benchmark_runs_and_reports_every_call(capsys):
    import asyncio

    inproc = _load("inproc")
    asyncio.run(inproc.main(64))
    out = capsys.readouterr().out
    for label in ("GetFine", "ListFines", "GetMyProfile", "health", "CreatePayment"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert float(line.split()[1]) > 0, line
