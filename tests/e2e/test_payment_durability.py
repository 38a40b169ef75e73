"""A payment and its idempotency record survive SIGKILL of the server: SQLite commits before the 201 goes out."""

from __future__ import annotations

import pytest
from support.payments import PLAIN_FINE, live_headers, new_key, payment_body
from support.server import start_server

pytestmark = pytest.mark.e2e


def test_a_payment_and_its_key_survive_sigkill_and_restart(tmp_path, session_id):
    server = start_server(tmp_path, workers=2)
    try:
        body, key = payment_body(), new_key()
        with server.client() as c:
            bank = live_headers(c, session_id)
            first = c.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": key})
            assert first.status_code == 201
        server.kill()
    finally:
        server.stop()

    restarted = start_server(tmp_path, workers=2)  # same directory, same state.db
    try:
        with restarted.client() as c:
            bank = live_headers(c, session_id)  # a new token: the issuer names the new port
            pid = first.json()["id"]
            assert c.get(f"/api/v1/payments/{pid}", headers=bank).json()["id"] == pid
            again = c.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": key})
            assert (again.status_code, again.content) == (201, first.content)
            assert again.headers["idempotent-replayed"] == "true"
            other = c.post("/api/v1/payments", json=payment_body(uin=PLAIN_FINE), headers={**bank, "Idempotency-Key": key})
            assert (other.status_code, other.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
            assert c.get(f"/api/v1/payments/{pid}", headers=bank).json()["status"] == "succeeded"
    finally:
        restarted.stop()
