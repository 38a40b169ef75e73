"""POST /oauth2/token: the three grants, PKCE, client authentication, single-use codes and rotating refresh tokens."""

from __future__ import annotations

import base64

import jwt
import pytest

from simulator.app import create_app
from simulator.domain.oauth import at_hash
from support.oauth import (
    BANK,
    BANK_REDIRECT,
    MOBILE_REDIRECT,
    Login,
    advance,
    exchange,
    me,
    pkce_pair,
    refresh,
)


@pytest.fixture
def code(client, session_id) -> str:
    return Login(client, session_id).authorize(scope="openid fullname fines", nonce="nonce-9")["code"]


def oauth_error(r, status: int, error: str, esia: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) <= {"error", "error_description", "state"}
    assert body["error"] == error, body
    if esia:
        assert body["error_description"].startswith(esia + ": "), body
    assert body["error_description"].isascii()
    return body


# -- authorization_code --------------------------------------------------------------------------------------------
def test_a_code_buys_access_refresh_and_id_tokens(client, code, session_id, settings):
    r = exchange(client, code)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "fines fullname openid"
    assert me(client, body["access_token"], session_id).json()["last_name"] == "Иванов"

    jwks = client.get("/oauth2/jwks").json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    id_token = jwt.decode(body["id_token"], key, algorithms=["RS256"], audience="demo-bank", issuer=settings.issuer,
                          options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
    assert id_token["sub"] == "1000000001" and id_token["nonce"] == "nonce-9"
    assert id_token["amr"] == ["PWD", "SMS"]
    assert id_token["exp"] - id_token["iat"] == 10800
    assert id_token["iat"] - 5 <= id_token["auth_time"] <= id_token["iat"]
    assert id_token["at_hash"] == at_hash(body["access_token"])
    assert id_token["urn:esia:sbj"] == {"typ": "P", "oid": 1000000001, "is_tru": True}
    access = jwt.decode(body["access_token"], key, algorithms=["RS256"], audience="demo-bank",
                        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
    assert access["urn:esia:sbj_id"] == 1000000001 and access["urn:esia:sid"] == id_token["urn:esia:sid"]


def test_the_code_finds_its_session_without_the_header_and_the_state_is_echoed(client, code, session_id):
    r = exchange(client, code, state="echo-me")
    assert r.status_code == 200 and r.json()["state"] == "echo-me"


def test_a_code_presented_in_another_session_is_unknown(client, code):
    oauth_error(exchange(client, code, session="another-run"), 400, "invalid_grant", "ESIA-007011")


def test_client_secret_post_works_too(client, code):
    r = exchange(client, code, auth=None, client_id="demo-bank", client_secret="demo-bank-secret")
    assert r.status_code == 200


def test_basic_credentials_are_form_urlencoded_before_base64(client, code):
    raw = base64.b64encode(b"demo-bank:demo%2Dbank%2Dsecret").decode()
    r = client.post("/oauth2/token", headers={"Authorization": f"Basic {raw}"},
                    data={"grant_type": "authorization_code", "code": code, "redirect_uri": BANK_REDIRECT})
    assert r.status_code == 200


def test_a_replayed_code_is_invalid_grant_and_revokes_what_it_issued(client, code, session_id):
    first = exchange(client, code).json()
    body = oauth_error(exchange(client, code), 400, "invalid_grant", "ESIA-007011")
    assert "already used" in body["error_description"]
    r = me(client, first["access_token"], session_id)
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_REVOKED"
    oauth_error(refresh(client, first["refresh_token"]), 400, "invalid_grant")


def test_an_expired_code_is_invalid_grant(client, code, session_id):
    advance(client, session_id, "PT61S")
    body = oauth_error(exchange(client, code), 400, "invalid_grant", "ESIA-007011")
    assert "expired" in body["error_description"]


def test_a_code_lives_as_long_as_auth_code_ttl(settings, session_id):
    with create_app(settings.replace(auth_code_ttl=300)).test_client() as client:
        code = Login(client, session_id).authorize()["code"]
        advance(client, session_id, "PT200S")
        assert exchange(client, code).status_code == 200


def test_a_different_redirect_uri_is_invalid_grant(client, code):
    body = oauth_error(exchange(client, code, redirect_uri="http://localhost:8081/callback"), 400, "invalid_grant",
                       "ESIA-007023")
    assert "redirect_uri" in body["error_description"]


def test_a_missing_redirect_uri_is_invalid_request(client, code):
    r = client.post("/oauth2/token", data={"grant_type": "authorization_code", "code": code}, auth=BANK)
    oauth_error(r, 400, "invalid_request", "ESIA-007014")


def test_a_code_of_another_client_is_invalid_grant(client, code):
    oauth_error(exchange(client, code, auth=("strict-bank", "strict-bank-secret")), 400, "invalid_grant")


@pytest.mark.parametrize("garbage", ["nope", "x." * 500, ".default", "ok.bad session", "é" * 100])
def test_an_unknown_code_is_invalid_grant(client, garbage):
    oauth_error(exchange(client, garbage), 400, "invalid_grant", "ESIA-007011")


# -- PKCE ----------------------------------------------------------------------------------------------------------
def pkce_code(client, session_id, challenge):
    return Login(client, session_id).authorize(client_id="demo-mobile", redirect_uri=MOBILE_REDIRECT,
                                               challenge=challenge)["code"]


def test_a_public_client_exchanges_with_its_verifier_and_no_secret(client, session_id):
    verifier, challenge = pkce_pair()
    code = pkce_code(client, session_id, challenge)
    r = exchange(client, code, verifier=verifier, redirect_uri=MOBILE_REDIRECT, auth=None, client_id="demo-mobile")
    assert r.status_code == 200, r.text
    assert "refresh_token" in r.json()


def test_a_missing_pkce_verifier_is_invalid_grant(client, session_id):
    verifier, challenge = pkce_pair()
    code = pkce_code(client, session_id, challenge)
    body = oauth_error(exchange(client, code, redirect_uri=MOBILE_REDIRECT, auth=None, client_id="demo-mobile"),
                       400, "invalid_grant", "ESIA-007011")
    assert "code_verifier is required" in body["error_description"]
    # the code is not spent by a failed attempt: the right verifier still works
    assert exchange(client, code, verifier=verifier, redirect_uri=MOBILE_REDIRECT, auth=None,
                    client_id="demo-mobile").status_code == 200


@pytest.mark.parametrize("verifier", ["short", "a" * 43, "é" * 50])
def test_a_wrong_pkce_verifier_is_invalid_grant(client, session_id, verifier):
    _, challenge = pkce_pair()
    code = pkce_code(client, session_id, challenge)
    body = oauth_error(exchange(client, code, verifier=verifier, redirect_uri=MOBILE_REDIRECT, auth=None,
                                client_id="demo-mobile"), 400, "invalid_grant")
    assert "does not match" in body["error_description"]


def test_a_confidential_client_may_use_pkce_too(client, session_id):
    verifier, challenge = pkce_pair()
    code = Login(client, session_id).authorize(challenge=challenge)["code"]
    oauth_error(exchange(client, code), 400, "invalid_grant")
    assert exchange(client, code, verifier=verifier).status_code == 200


def test_a_verifier_for_a_code_without_challenge_is_refused(client, code):
    verifier, _ = pkce_pair()
    oauth_error(exchange(client, code, verifier=verifier), 400, "invalid_grant")


# -- client authentication -----------------------------------------------------------------------------------------
def test_a_wrong_client_secret_is_401_invalid_client_with_a_basic_challenge(client, code):
    r = exchange(client, code, auth=("demo-bank", "wrong"))
    body = oauth_error(r, 401, "invalid_client", "ESIA-007053")
    assert r.headers["www-authenticate"] == 'Basic realm="gosim"'
    assert "client_secret" in body["error_description"]


@pytest.mark.parametrize("auth, form", [
    (None, {}),
    (None, {"client_id": "demo-bank"}),
    (None, {"client_id": "demo-bank", "client_secret": "wrong"}),
    (None, {"client_id": "no-such-bank", "client_secret": "x"}),
    (("no-such-bank", "x"), {}),
    (None, {"client_id": "demo-mobile", "client_secret": "anything"}),
])
def test_every_failed_client_authentication_is_invalid_client(client, code, auth, form):
    oauth_error(exchange(client, code, auth=auth, **form), 401, "invalid_client")


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode()])
def test_a_malformed_authorization_header_is_invalid_client(client, code, header):
    r = client.post("/oauth2/token", headers={"Authorization": header},
                    data={"grant_type": "authorization_code", "code": code, "redirect_uri": BANK_REDIRECT})
    oauth_error(r, 401, "invalid_client")


def test_two_authentication_methods_at_once_are_invalid_request(client, code):
    oauth_error(exchange(client, code, client_secret="demo-bank-secret"), 400, "invalid_request")


# -- grant types ---------------------------------------------------------------------------------------------------
def test_an_unknown_grant_type_is_unsupported_grant_type(client):
    r = client.post("/oauth2/token", data={"grant_type": "password", "state": "s1"}, auth=BANK)
    assert oauth_error(r, 400, "unsupported_grant_type")["state"] == "s1"


def test_a_missing_grant_type_is_invalid_request(client):
    oauth_error(client.post("/oauth2/token", data={}, auth=BANK), 400, "invalid_request", "ESIA-007014")


def test_client_credentials_gives_a_bank_token_without_refresh(client, session_id):
    r = client.post("/oauth2/token", data={"grant_type": "client_credentials", "scope": "payments"}, auth=BANK,
                    headers={"X-Gosim-Session": session_id})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "payments" and "refresh_token" not in body and "id_token" not in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "demo-bank" and claims["gosim_session"] == session_id


def test_client_credentials_without_scope_gets_the_clients_own_scopes(client):
    r = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=BANK)
    assert r.json()["scope"] == "payments"


@pytest.mark.parametrize("scope", ["fines", "openid payments", "payments admin"])
def test_client_credentials_refuses_person_scopes_and_foreign_ones(client, scope):
    r = client.post("/oauth2/token", data={"grant_type": "client_credentials", "scope": scope}, auth=BANK)
    oauth_error(r, 400, "invalid_scope", "ESIA-007006")


def test_a_public_client_cannot_use_client_credentials(client):
    r = client.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": "demo-mobile"})
    oauth_error(r, 400, "unauthorized_client")


# -- refresh_token -------------------------------------------------------------------------------------------------
def test_a_refresh_rotates_the_refresh_token(client, code, session_id):
    first = exchange(client, code).json()
    advance(client, session_id, "PT10M")
    r = refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert "id_token" in second and second["scope"] == first["scope"]
    assert me(client, second["access_token"], session_id).status_code == 200
    assert me(client, first["access_token"], session_id).status_code == 200  # not revoked by a normal refresh


def test_a_reused_refresh_token_is_invalid_grant_and_revokes_the_whole_family(client, code, session_id):
    first = exchange(client, code).json()
    second = refresh(client, first["refresh_token"]).json()
    body = oauth_error(refresh(client, first["refresh_token"]), 400, "invalid_grant", "ESIA-007011")
    assert "already used" in body["error_description"]
    for token in (first["access_token"], second["access_token"]):
        r = me(client, token, session_id)
        assert r.status_code == 401 and r.json()["code"] == "TOKEN_REVOKED"
    oauth_error(refresh(client, second["refresh_token"]), 400, "invalid_grant")


def test_a_refresh_may_narrow_the_scope_but_never_widen_it(client, code):
    first = exchange(client, code).json()
    narrowed = refresh(client, first["refresh_token"], scope="openid fines").json()
    assert narrowed["scope"] == "fines openid"
    oauth_error(refresh(client, narrowed["refresh_token"], scope="openid fines debts"), 400, "invalid_scope")


def test_a_refresh_token_expires_after_refresh_token_ttl(client, code, session_id):
    first = exchange(client, code).json()
    advance(client, session_id, "PT24H1S")
    body = oauth_error(refresh(client, first["refresh_token"]), 400, "invalid_grant")
    assert "expired" in body["error_description"]


def test_a_refresh_token_of_another_client_is_invalid_grant(client, code):
    first = exchange(client, code).json()
    oauth_error(refresh(client, first["refresh_token"], auth=("strict-bank", "strict-bank-secret")), 400,
                "invalid_grant")


# -- lifetimes and the citizen API ---------------------------------------------------------------------------------
def test_an_access_token_past_its_lifetime_is_401_token_expired(client, code, session_id):
    token = exchange(client, code).json()["access_token"]
    advance(client, session_id, "PT1H1S")
    r = me(client, token, session_id)
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_EXPIRED"


def test_a_token_without_a_needed_scope_is_403_insufficient_scope(client, session_id):
    code = Login(client, session_id).authorize(scope="openid fullname")["code"]
    token = exchange(client, code).json()["access_token"]
    r = client.get("/api/v1/fines", headers={"Authorization": f"Bearer {token}", "X-Gosim-Session": session_id})
    assert r.status_code == 403 and r.json()["code"] == "INSUFFICIENT_SCOPE"


def test_short_lifetimes_from_settings(settings, session_id):
    with create_app(settings.replace(access_token_ttl=300, refresh_token_ttl=600)).test_client() as client:
        tokens = exchange(client, Login(client, session_id).authorize()["code"]).json()
        assert tokens["expires_in"] == 300
        advance(client, session_id, "PT301S")
        assert me(client, tokens["access_token"], session_id).json()["code"] == "TOKEN_EXPIRED"
        tokens = refresh(client, tokens["refresh_token"]).json()
        advance(client, session_id, "PT601S")
        oauth_error(refresh(client, tokens["refresh_token"]), 400, "invalid_grant")


# -- never a 500 ---------------------------------------------------------------------------------------------------
def test_a_json_body_is_an_rfc_6749_error_not_a_problem(client):
    r = client.post("/oauth2/token", json={"grant_type": "client_credentials"}, auth=BANK)
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == "invalid_request"


def test_a_bad_session_header_is_invalid_request(client):
    r = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=BANK,
                    headers={"X-Gosim-Session": "bad session"})
    oauth_error(r, 400, "invalid_request")


def test_a_huge_field_is_invalid_request(client):
    r = client.post("/oauth2/token", data={"grant_type": "authorization_code", "code": "c" * 5000,
                                           "redirect_uri": BANK_REDIRECT}, auth=BANK)
    oauth_error(r, 400, "invalid_request")


@pytest.mark.parametrize("body", [
    b"", b"grant_type", b"grant_type=%ff", b"\x00\xff", b"grant_type=refresh_token&refresh_token=%00",
    b"grant_type=authorization_code&grant_type=refresh_token", b"a=" + b"b" * 70000,
])
@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"])
def test_garbage_bodies_never_give_a_500(client, path, body):
    r = client.post(path, content=body, auth=BANK, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/json"


def test_a_get_on_the_token_endpoint_is_405_in_rfc_6749_form(client):
    r = client.get("/oauth2/token")
    assert r.status_code == 405 and r.json()["error"] == "invalid_request"
