"""Per-client transport rules (strict-bank): IP allowlist 403 IP_NOT_ALLOWED, request signing 401 SIGNATURE_INVALID."""

from __future__ import annotations

import json
import time

import pytest
from conftest import bearer
from support.payments import new_key, payment_body, signed_headers


@pytest.fixture
def strict(mint) -> dict[str, str]:
    return bearer(mint(["payments"], oid=None, client_id="strict-bank"))


@pytest.fixture
def local(app):
    """A test client that connects from 127.0.0.1, inside strict-bank's allowlist."""
    with app.test_client(client=("127.0.0.1", 50123)) as c:
        yield c


def post(c, headers, raw: bytes, **extra):
    return c.post("/api/v1/payments", content=raw,
                  headers={**headers, "Idempotency-Key": new_key(), "Content-Type": "application/json", **extra})


def code(r) -> tuple[int, str]:
    return r.status_code, r.json().get("code")


def test_a_signed_request_from_an_allowed_address_is_accepted(local, strict):
    raw = json.dumps(payment_body()).encode()
    r = post(local, strict, raw, **signed_headers("POST", "/api/v1/payments", raw))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    path = f"/api/v1/payments/{pid}"
    assert local.get(path, headers={**strict, **signed_headers("GET", path)}).json()["status"] == "succeeded"
    listed = local.get("/api/v1/payments?limit=5", headers={**strict, **signed_headers("GET", "/api/v1/payments?limit=5")})
    assert listed.status_code == 200 and listed.json()["total"] == 1


def test_a_foreign_address_is_a_403_ip_not_allowed(app, strict):
    raw = json.dumps(payment_body()).encode()
    with app.test_client(client=("203.0.113.7", 40000)) as foreign:
        r = post(foreign, strict, raw, **signed_headers("POST", "/api/v1/payments", raw))
    assert code(r) == (403, "IP_NOT_ALLOWED")


def test_an_unsigned_request_is_a_401_signature_invalid(local, strict):
    r = post(local, strict, json.dumps(payment_body()).encode())
    assert code(r) == (401, "SIGNATURE_INVALID")
    assert "x-gosim-request-signature" in r.headers["www-authenticate"].lower()


def test_a_signature_over_another_body_is_a_401(local, strict):
    raw = json.dumps(payment_body()).encode()
    forged = signed_headers("POST", "/api/v1/payments", raw.replace(b"25000", b"25001"))
    assert code(post(local, strict, raw, **forged)) == (401, "SIGNATURE_INVALID")


def test_a_signature_with_the_wrong_secret_or_path_is_a_401(local, strict):
    raw = json.dumps(payment_body()).encode()
    assert code(post(local, strict, raw, **signed_headers("POST", "/api/v1/payments", raw, secret="nope"))) == (
        401, "SIGNATURE_INVALID")
    assert code(post(local, strict, raw, **signed_headers("POST", "/api/v1/other", raw))) == (401, "SIGNATURE_INVALID")


def test_a_stale_timestamp_is_a_401(local, strict):
    raw = json.dumps(payment_body()).encode()
    old = signed_headers("POST", "/api/v1/payments", raw, at=int(time.time()) - 301)
    assert code(post(local, strict, raw, **old)) == (401, "SIGNATURE_INVALID")


def test_clients_without_rules_need_neither_signature_nor_address(client, mint):
    r = client.post("/api/v1/payments", json=payment_body(),
                    headers={**bearer(mint(["payments"], oid=None)), "Idempotency-Key": new_key()})
    assert r.status_code == 201
