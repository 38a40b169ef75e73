"""Tokens signed with gosim's own key but lying about something are refused with the right code."""

from __future__ import annotations

import time

import jwt
import pytest
from conftest import bearer


@pytest.fixture
def forge(app):
    """forge(**claims) -> a token with a VALID signature and the given claims over sensible defaults."""
    svc = app.app.extensions["gosim"]
    now = int(svc.clock.for_session("default").now().timestamp())

    def _forge(drop: tuple[str, ...] = (), **over) -> str:
        claims = {"iss": svc.settings.issuer, "sub": "1000000001", "aud": "demo-bank", "client_id": "demo-bank",
                  "scope": "openid fines", "iat": now, "nbf": now, "exp": now + 600, "jti": f"j{time.time_ns()}",
                  "gosim_session": "default", "urn:esia:sbj_id": 1000000001}
        claims.update(over)
        for name in drop:
            claims.pop(name, None)
        return jwt.encode(claims, svc.tokens.key.private, algorithm="RS256", headers={"kid": svc.tokens.key.kid})

    return _forge


def _code(client, token: str) -> tuple[int, str]:
    r = client.get("/api/v1/fines", headers=bearer(token))
    return r.status_code, r.json().get("code", "") if r.status_code != 200 else ""


def test_a_well_formed_forged_token_is_accepted_so_the_refusals_below_mean_something(client, forge):
    assert _code(client, forge()) == (200, "")


@pytest.mark.parametrize("claims, expected", [
    ({"iss": "http://esia.gosuslugi.ru/"}, "TOKEN_INVALID"),
    ({"aud": "strict-bank"}, "TOKEN_INVALID"),
    ({"aud": "nobody", "client_id": "nobody"}, "TOKEN_INVALID"),
    ({"gosim_session": "someone-else"}, "TOKEN_INVALID"),
])
def test_a_token_for_another_issuer_audience_or_session_is_invalid(client, forge, claims, expected):
    assert _code(client, forge(**claims)) == (401, expected)


def test_a_token_not_yet_valid_is_refused(client, forge):
    future = int(time.time()) + 3600 * 24 * 365 * 5
    assert _code(client, forge(nbf=future, iat=future, exp=future + 600)) == (401, "TOKEN_INVALID")


def test_a_token_past_its_expiry_is_expired(client, forge):
    assert _code(client, forge(exp=1)) == (401, "TOKEN_EXPIRED")


@pytest.mark.parametrize("missing", ["exp", "iss", "sub", "jti", "aud"])
def test_a_token_missing_a_required_claim_is_invalid(client, forge, missing):
    assert _code(client, forge(drop=(missing,))) == (401, "TOKEN_INVALID")


def test_a_token_without_a_scope_claim_is_forbidden_not_accepted(client, forge):
    assert _code(client, forge(drop=("scope",))) == (403, "INSUFFICIENT_SCOPE")


def test_a_token_with_non_numeric_times_is_invalid_not_a_crash(client, forge):
    assert _code(client, forge(exp="tomorrow"))[0] == 401


def test_a_revoked_token_is_refused_at_once(client, app, forge):
    token = forge(jti="revoke-me")
    assert _code(client, token)[0] == 200
    app.app.extensions["gosim"].tokens.revoke("default", "revoke-me", 0)
    assert _code(client, token) == (401, "TOKEN_REVOKED")


def test_withdrawn_consent_revokes_earlier_tokens_of_that_client_only(client, app, forge):
    token = forge()
    svc = app.app.extensions["gosim"]
    svc.store.put("default/consent_revocations", "1000000001:demo-bank", {"at": time.time() + 5})
    assert _code(client, token) == (401, "TOKEN_REVOKED")
