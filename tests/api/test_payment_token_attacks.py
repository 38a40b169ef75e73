"""Every payments operation refuses forged, stale, misdirected and revoked tokens with the right code, and moves no money."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
from typing import Callable

import jwt
import pytest
from conftest import bearer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support.payments import PLAIN_FINE, new_key, payment_body

@functools.lru_cache(maxsize=1)
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


OPERATIONS = ["CreatePayment", "ListPayments", "CheckStatus", "CancelPayment", "GetReceipt"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def svc(app):
    return app.app.extensions["gosim"]


@pytest.fixture
def claims(svc) -> Callable[..., dict]:
    """claims(**over) -> the claims of a good demo-bank `payments` token, with changes."""
    now = int(svc.clock.for_session("default").now().timestamp())

    def _claims(drop: tuple[str, ...] = (), **over) -> dict:
        c = {"iss": svc.settings.issuer, "sub": "demo-bank", "aud": "demo-bank", "client_id": "demo-bank",
             "scope": "payments", "iat": now, "nbf": now, "exp": now + 600, "jti": f"j{time.time_ns()}",
             "gosim_session": "default"}
        c.update(over)
        for name in drop:
            c.pop(name, None)
        return c

    return _claims


@pytest.fixture
def sign(svc) -> Callable[[dict], str]:
    return lambda c: jwt.encode(c, svc.tokens.key.private, algorithm="RS256", headers={"kid": svc.tokens.key.kid})


@pytest.fixture
def good(sign, claims) -> str:
    return sign(claims())


@pytest.fixture
def paid(client, good) -> str:
    """A succeeded payment of demo-bank (so that cancel and receipt have something real to aim at)."""
    r = client.post("/api/v1/payments", json=payment_body(), headers=bearer(good, **{"Idempotency-Key": new_key()}))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert client.get(f"/api/v1/payments/{pid}", headers=bearer(good)).json()["status"] == "succeeded"
    return pid


def call(client, operation: str, token: str, pid: str):
    headers = bearer(token)
    if operation == "CreatePayment":
        return client.post("/api/v1/payments", json=payment_body(uin=PLAIN_FINE),
                           headers={**headers, "Idempotency-Key": new_key()})
    if operation == "ListPayments":
        return client.get("/api/v1/payments", headers=headers)
    if operation == "CheckStatus":
        return client.get(f"/api/v1/payments/{pid}", headers=headers)
    if operation == "CancelPayment":
        return client.post(f"/api/v1/payments/{pid}/cancel", json={"reason": "attack"}, headers=headers)
    return client.get(f"/api/v1/payments/{pid}/receipt", headers=headers)


def attacks(svc, claims, sign) -> dict[str, tuple[str, tuple[int, str]]]:
    """name -> (token, (status, code)) for every attack of issue 8."""
    public_pem = svc.tokens.key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_head = _b64(b'{"alg":"HS256","typ":"JWT"}')
    hs_body = _b64(json.dumps(claims()).encode())
    hs_sig = _b64(hmac.new(public_pem, f"{hs_head}.{hs_body}".encode(), hashlib.sha256).digest())
    future = int(time.time()) + 5 * 365 * 86400
    revoked = claims(jti="revoked-jti")
    svc.tokens.revoke("default", "revoked-jti", revoked["exp"])
    invalid = (401, "TOKEN_INVALID")
    none_head = _b64(b'{"alg":"none","typ":"JWT"}')
    return {
        "alg none": (f"{none_head}.{_b64(json.dumps(claims()).encode())}.", invalid),
        "HS256 signed with the public key": (f"{hs_head}.{hs_body}.{hs_sig}", invalid),
        "another key with gosim's kid": (
            jwt.encode(claims(), other_key(), algorithm="RS256", headers={"kid": svc.tokens.key.kid}), invalid),
        "expired": (sign(claims(exp=1, iat=0, nbf=0)), (401, "TOKEN_EXPIRED")),
        "not yet valid": (sign(claims(nbf=future, iat=future, exp=future + 600)), invalid),
        "wrong aud": (sign(claims(aud="limited-bank")), invalid),
        "unknown aud": (sign(claims(aud="nobody", client_id="nobody")), invalid),
        "wrong iss": (sign(claims(iss="https://esia.gosuslugi.ru/")), invalid),
        "missing scope": (sign(claims(scope="openid fines")), (403, "INSUFFICIENT_SCOPE")),
        "no scope claim": (sign(claims(drop=("scope",))), (403, "INSUFFICIENT_SCOPE")),
        "revoked": (sign(revoked), (401, "TOKEN_REVOKED")),
        "another session": (sign(claims(gosim_session="someone-else")), invalid),
        "no exp": (sign(claims(drop=("exp",))), invalid),
        "truncated signature": (sign(claims())[:-8], invalid),
    }


ATTACKS = ["alg none", "HS256 signed with the public key", "another key with gosim's kid", "expired", "not yet valid",
           "wrong aud", "unknown aud", "wrong iss", "missing scope", "no scope claim", "revoked", "another session",
           "no exp", "truncated signature"]


def test_a_good_token_is_accepted_by_every_operation_so_the_refusals_below_mean_something(client, good, paid):
    for operation in OPERATIONS:
        assert call(client, operation, good, paid).status_code in (200, 201, 409), operation  # cancel of a succeeded: 409


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_payments_operation_refuses_the_attack_with_its_code(client, svc, claims, sign, good, paid, attack):
    token, (status, code) = attacks(svc, claims, sign)[attack]
    before = client.get("/api/v1/payments", headers=bearer(good)).json()
    for operation in OPERATIONS:
        r = call(client, operation, token, paid)
        assert (r.status_code, r.json().get("code")) == (status, code), (operation, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        if status == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")
    after = client.get("/api/v1/payments", headers=bearer(good)).json()
    assert after == before  # nothing was created, cancelled or settled


def test_another_clients_valid_token_cannot_see_or_cancel_a_payment(client, svc, claims, sign, paid):
    other = sign(claims(aud="limited-bank", client_id="limited-bank", sub="limited-bank"))
    for operation in ("CheckStatus", "CancelPayment", "GetReceipt"):
        r = call(client, operation, other, paid)
        assert (r.status_code, r.json()["code"]) == (404, "PAYMENT_NOT_FOUND"), (operation, r.text)
        time.sleep(0.5)  # limited-bank is rate limited (2/s); stay under it
    assert client.get("/api/v1/payments", headers=bearer(other)).json()["total"] == 0


def test_a_person_token_with_payments_scope_of_another_session_is_refused(client, mint, paid):
    token = mint(["payments"], oid=None, session="job-x")
    r = client.get(f"/api/v1/payments/{paid}", headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (401, "TOKEN_INVALID")
    r = client.get(f"/api/v1/payments/{paid}", headers=bearer(token, **{"X-Gosim-Session": "job-x"}))
    assert (r.status_code, r.json()["code"]) == (404, "PAYMENT_NOT_FOUND")  # valid there, but the payment is not
