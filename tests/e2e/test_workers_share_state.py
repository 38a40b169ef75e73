"""The real server with 2 gunicorn workers on SQLite: what one worker writes, the other reads."""

from __future__ import annotations

import httpx


def _pid_and_clock(url: str, session: str) -> tuple[int, float]:
    # One connection per probe: both calls land on the same worker, and new connections spread over workers.
    with httpx.Client(base_url=url, timeout=10) as c:
        pid = c.get("/_sim/health").json()["worker"]
        offset = c.get("/_sim/clock", headers={"X-Gosim-Session": session}).json()["offset_seconds"]
    return pid, offset


def test_a_clock_moved_through_one_worker_is_seen_by_every_worker(live_server, session_id):
    with live_server.client() as c:
        r = c.post("/_sim/clock/advance", json={"duration": "P10D"}, headers={"X-Gosim-Session": session_id})
        assert r.status_code == 200
    seen: dict[int, list[float]] = {}
    for _ in range(60):
        pid, offset = _pid_and_clock(live_server.url, session_id)
        seen.setdefault(pid, []).append(offset)
        if len(seen) >= 2 and sum(len(v) for v in seen.values()) >= 10:
            break
    assert len(seen) == 2, f"expected both workers to answer, saw {list(seen)}"
    for offsets in seen.values():
        assert all(abs(o - 10 * 86400) < 120 for o in offsets), offsets


def test_a_token_minted_by_one_worker_verifies_on_every_worker(live_server, session_id):
    headers = {"X-Gosim-Session": session_id}
    with live_server.client() as c:
        token = c.post("/_sim/tokens", json={"client_id": "demo-bank", "oid": 1000000001, "scopes": ["fines"]},
                       headers=headers).json()["access_token"]
    pids = set()
    for _ in range(40):
        with live_server.client() as c:
            pids.add(c.get("/_sim/health").json()["worker"])
            r = c.get("/api/v1/fines", headers={**headers, "Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
        if len(pids) == 2:
            break
    assert len(pids) == 2
