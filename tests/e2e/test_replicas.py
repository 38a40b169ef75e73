"""Two gosim replicas (separate gunicorn processes on two ports) sharing one real Redis behave as one server."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support.payments import CAMERA_FINE, HOLD_ACCOUNT, live_headers, new_key, payment_body
from support.server import LiveServer, start_server

pytestmark = pytest.mark.e2e
RACERS = 40
PUBLIC_URL = "http://gosim.test"  # what nginx would be in front of both


@pytest.fixture(scope="module")
def replicas(redis_server, tmp_path_factory):
    """Replica A with 2 workers and replica B with 1, both on the same Redis database and one public URL (the issuer),
    as behind the load balancer of docker-compose.yml."""
    redis_server.flush()
    started: list[LiveServer] = []
    try:
        for workers in (2, 1):
            started.append(start_server(tmp_path_factory.mktemp("replica"), workers=workers, storage=redis_server.url,
                                        extra_env={"GOSIM_PUBLIC_URL": PUBLIC_URL}))
        yield started
    finally:
        for server in started:
            server.stop()


def s(session: str, **extra: str) -> dict[str, str]:
    return {"X-Gosim-Session": session, **extra}


def test_a_payment_created_on_one_replica_is_seen_and_cancelled_on_the_other(replicas, session_id):
    a, b = replicas
    with a.client() as ca, b.client() as cb:
        bank = live_headers(ca, session_id)  # a token minted on A verifies on B: same key, same store
        body = payment_body(payer={"name": "Иванов Иван Петрович", "inn": "770858813912", "account": HOLD_ACCOUNT})
        created = ca.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key()})
        assert created.status_code == 201, created.text
        payment_id = created.json()["id"]
        seen = cb.get(f"/api/v1/payments/{payment_id}", headers=bank)
        assert seen.status_code == 200, seen.text
        assert seen.json()["status"] in ("pending", "processing")
        cancelled = cb.post(f"/api/v1/payments/{payment_id}/cancel", json={"reason": "replica test"}, headers=bank)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert ca.get(f"/api/v1/payments/{payment_id}", headers=bank).json()["status"] == "cancelled"


def test_a_scenario_enabled_on_one_replica_applies_on_the_other(replicas, session_id):
    a, b = replicas
    with a.client() as ca, b.client() as cb:
        citizen = live_headers(ca, session_id, scopes=["fines"], oid=1000000001)
        assert cb.get("/api/v1/fines", headers=citizen).status_code == 200
        r = ca.put("/_sim/scenarios/fines-down", headers=s(session_id), json={
            "rules": [{"match": {"operation": "ListFines"}, "status": 503, "retry_after": 30}]})
        assert r.status_code == 201, r.text
        down = cb.get("/api/v1/fines", headers=citizen)
        assert down.status_code == 503 and down.headers["retry-after"] == "30"
        assert cb.post("/_sim/scenarios/fines-down/disable", headers=s(session_id)).status_code == 200
        assert ca.get("/api/v1/fines", headers=citizen).status_code == 200


def test_a_client_rate_limit_is_one_bucket_across_replicas(replicas, session_id):
    a, b = replicas
    with a.client() as ca:
        limited = live_headers(ca, session_id, scopes=["fines"], oid=1000000001, client_id="limited-bank")
    # burst 3 at 2/s: six calls alternating between replicas within well under a second get at most 3 + 1 through;
    # two independent buckets would let all six through.
    with a.client() as ca, b.client() as cb:
        statuses = [c.get("/api/v1/fines", headers=limited).status_code
                    for c in itertools.islice(itertools.cycle((ca, cb)), 6)]
    assert statuses[:3] == [200, 200, 200], statuses
    assert statuses.count(429) >= 2, statuses
    assert set(statuses) <= {200, 429}


def test_a_clock_jump_on_one_replica_is_seen_by_the_other(replicas, session_id):
    a, b = replicas
    with a.client() as ca, b.client() as cb:
        before = cb.get("/_sim/clock", headers=s(session_id)).json()["offset_seconds"]
        r = ca.post("/_sim/clock/advance", json={"duration": "P3D"}, headers=s(session_id))
        assert r.status_code == 200, r.text
        after = cb.get("/_sim/clock", headers=s(session_id)).json()["offset_seconds"]
    assert abs(after - before - 3 * 86400) < 60


def test_concurrent_creates_for_one_uin_across_replicas_pay_it_once(replicas, session_id):
    a, b = replicas
    with a.client() as ca:
        bank = live_headers(ca, session_id)
        citizen = live_headers(ca, session_id, scopes=["fines"], oid=1000000001)

    def one(url: str) -> httpx.Response:
        # A connection per call, so calls also spread over replica A's two workers.
        with httpx.Client(base_url=url, timeout=60) as c:
            return c.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()})

    urls = [(a.url, b.url)[i % 2] for i in range(RACERS)]
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        answers = list(pool.map(one, urls))
    statuses = [r.status_code for r in answers]
    assert statuses.count(201) == 1, [r.text for r in answers if r.status_code not in (201, 409)]
    assert statuses.count(409) == RACERS - 1
    winner = next(r.json() for r in answers if r.status_code == 201)
    with a.client() as ca, b.client() as cb:
        for c in (ca, cb):
            listed = c.get("/api/v1/payments", params={"uin": CAMERA_FINE}, headers=bank).json()
            assert [p["id"] for p in listed["items"]] == [winner["id"]]
        # The default settlement (after_checks:1): the first CheckStatus, here on the other replica, settles it.
        assert cb.get(f"/api/v1/payments/{winner['id']}", headers=bank).json()["status"] == "succeeded"
        assert cb.get(f"/api/v1/fines/{CAMERA_FINE}", headers=citizen).json()["paid_amount"] == 25000
