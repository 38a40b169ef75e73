"""A 15-second soak (bench/soak.py): mixed traffic with scenarios on, no unexpected error, fds and memory bounded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import soak  # noqa: E402


def test_fifteen_seconds_of_mixed_traffic_leave_the_server_healthy_and_bounded():
    lines, summary, samples = soak.run(seconds=15, interval=1.5, threads=4, persons=60)
    assert summary["alive"] and summary["health"] == 200
    assert summary["errors"] == [], summary["errors"][:5]
    assert summary["requests"] >= 200, "too little traffic to mean anything"
    assert summary["statuses"].get("2xx", 0) > summary["requests"] * 0.8
    assert summary["worker_sets"] == 1, "a worker died and was replaced"
    first, last = samples[1], samples[-1]  # samples[0] is before any traffic
    # Coarse bounds only (15 s is all warm-up): a leak of a socket or a file per request would blow through them.
    assert last["workers_fds"] <= first["workers_fds"] + 40, (first["workers_fds"], last["workers_fds"])
    assert last["master"]["fds"] <= first["master"]["fds"] + 5
    assert last["workers_rss_kib"] <= first["workers_rss_kib"] + 150 * 1024
