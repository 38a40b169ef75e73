"""Money is never taken twice: 50 concurrent CreatePayment calls across 2 workers on one SQLite file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support.payments import CAMERA_FINE, live_headers, new_key, payment_body

pytestmark = pytest.mark.e2e
N = 50


def _race(url: str, requests: list[tuple[dict, dict]]) -> list[httpx.Response]:
    def one(args: tuple[dict, dict]) -> httpx.Response:
        body, headers = args
        # A connection per call, so the kernel spreads them over both workers.
        with httpx.Client(base_url=url, timeout=60) as c:
            return c.post("/api/v1/payments", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=N) as pool:
        return list(pool.map(one, requests))


def _paid_amount(c: httpx.Client, session: str) -> int:
    citizen = live_headers(c, session, scopes=["fines"], oid=1000000001)
    return c.get(f"/api/v1/fines/{CAMERA_FINE}", headers=citizen).json()["paid_amount"]


def test_fifty_creates_with_different_keys_accept_exactly_one(live_server, session_id):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
    answers = _race(live_server.url, [(payment_body(), {**bank, "Idempotency-Key": new_key()}) for _ in range(N)])
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(201) == 1, [r.text for r in answers if r.status_code not in (201, 409)]
    assert statuses.count(409) == N - 1
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"PAYMENT_IN_PROGRESS"}
    winner = next(r.json() for r in answers if r.status_code == 201)
    with live_server.client() as c:
        listed = c.get("/api/v1/payments", params={"uin": CAMERA_FINE}, headers=bank).json()
        assert [p["id"] for p in listed["items"]] == [winner["id"]]
        assert c.get(f"/api/v1/payments/{winner['id']}", headers=bank).json()["status"] == "succeeded"
        assert _paid_amount(c, session_id) == 25000  # paid once, not 50 times
        # And a second wave after success: every one refused, the charge still paid once.
    answers = _race(live_server.url, [(payment_body(), {**bank, "Idempotency-Key": new_key()}) for _ in range(N)])
    assert {(r.status_code, r.json()["code"]) for r in answers} == {(409, "CHARGE_ALREADY_PAID")}
    with live_server.client() as c:
        assert _paid_amount(c, session_id) == 25000


def test_fifty_creates_with_one_key_make_one_payment_and_fifty_identical_answers(live_server, session_id):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
    body, key = payment_body(), new_key()
    answers = _race(live_server.url, [(body, {**bank, "Idempotency-Key": key}) for _ in range(N)])
    assert {r.status_code for r in answers} == {201}
    assert len({r.content for r in answers}) == 1
    assert sum(1 for r in answers if r.headers.get("idempotent-replayed") != "true") == 1
    with live_server.client() as c:
        listed = c.get("/api/v1/payments", headers=bank).json()
        assert listed["total"] == 1 and listed["items"][0]["id"] == answers[0].json()["id"]
