"""The whole life of payments against the real server (gunicorn, 2 workers, SQLite): settle, cancel, forced decline."""

from __future__ import annotations

import pytest
from support.payments import CAMERA_FINE, DECLINE_ACCOUNT, live_headers, new_key, payment_body

pytestmark = pytest.mark.e2e


def test_create_check_until_settled_fine_shows_paid_and_receipt(live_server, session_id):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
        r = c.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        for _ in range(10):
            payment = c.get(f"/api/v1/payments/{pid}", headers=bank).json()
            if payment["status"] in ("succeeded", "rejected", "cancelled"):
                break
        assert payment["status"] == "succeeded"
        citizen = live_headers(c, session_id, scopes=["fines"], oid=1000000001)
        fine = c.get(f"/api/v1/fines/{CAMERA_FINE}", headers=citizen).json()
        assert (fine["status"], fine["amount_due"], fine["quittance"]["payment_id"]) == ("paid", 0, pid)
        receipt = c.get(f"/api/v1/payments/{pid}/receipt", headers=bank)
        assert receipt.status_code == 200 and receipt.json()["amount"] == 25000
        html = c.get(f"/api/v1/payments/{pid}/receipt", params={"format": "html"}, headers=bank)
        assert html.headers["content-type"].startswith("text/html") and CAMERA_FINE in html.text
        again = c.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()})
        assert (again.status_code, again.json()["code"]) == (409, "CHARGE_ALREADY_PAID")
        cancel = c.post(f"/api/v1/payments/{pid}/cancel", headers=bank)
        assert (cancel.status_code, cancel.json()["current_status"]) == (409, "succeeded")


def test_create_then_cancel(live_server, session_id):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
        pid = c.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
        cancelled = c.post(f"/api/v1/payments/{pid}/cancel", json={"reason": "test"}, headers=bank)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert c.get(f"/api/v1/payments/{pid}", headers=bank).json()["status"] == "cancelled"


def test_a_forced_rejection(live_server, session_id):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
        body = payment_body(payer={"name": "Иванов Иван", "account": DECLINE_ACCOUNT})
        pid = c.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
        rejected = c.get(f"/api/v1/payments/{pid}", headers=bank).json()
        assert rejected["status"] == "rejected" and rejected["rejection"]["code"] == "INSUFFICIENT_FUNDS"
        receipt = c.get(f"/api/v1/payments/{pid}/receipt", headers=bank)
        assert (receipt.status_code, receipt.json()["code"]) == (409, "PAYMENT_STATE_CONFLICT")


def test_a_foreign_address_is_refused_for_strict_bank(live_server, session_id):
    # Behind a proxy on loopback the server takes the client address from X-Forwarded-For (gunicorn's default trust).
    with live_server.client() as c:
        strict = live_headers(c, session_id, client_id="strict-bank")
        r = c.get("/api/v1/payments", headers={**strict, "X-Forwarded-For": "203.0.113.9"})
        assert (r.status_code, r.json()["code"]) == (403, "IP_NOT_ALLOWED")
        r = c.get("/api/v1/payments", headers=strict)
        assert (r.status_code, r.json()["code"]) == (401, "SIGNATURE_INVALID")
