"""Discovery, revocation (RFC 7009), introspection (RFC 7662) and userinfo (OIDC) of the identity provider."""

from __future__ import annotations

import pytest

from support.oauth import BANK, Login, advance, exchange, me, refresh

STRICT = ("strict-bank", "strict-bank-secret")


@pytest.fixture
def tokens(client, session_id) -> dict:
    code = Login(client, session_id).authorize(scope="openid fullname birthdate gender contacts snils inn fines")["code"]
    return exchange(client, code).json()


def test_discovery_names_every_endpoint(client, settings):
    doc = client.get("/.well-known/openid-configuration").json()
    iss = settings.issuer
    assert doc["issuer"] == iss
    for key, path in [("authorization_endpoint", "/oauth2/authorize"), ("token_endpoint", "/oauth2/token"),
                      ("revocation_endpoint", "/oauth2/revoke"), ("introspection_endpoint", "/oauth2/introspect"),
                      ("userinfo_endpoint", "/oauth2/userinfo"), ("jwks_uri", "/oauth2/jwks")]:
        assert doc[key] == iss + path
    assert doc["code_challenge_methods_supported"] == ["S256"]


# -- revoke --------------------------------------------------------------------------------------------------------
def test_revoking_an_access_token_stops_it(client, tokens, session_id):
    r = client.post("/oauth2/revoke", data={"token": tokens["access_token"]}, auth=BANK)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert me(client, tokens["access_token"], session_id).json()["code"] == "TOKEN_REVOKED"
    assert refresh(client, tokens["refresh_token"]).status_code == 200  # the refresh token lives on


def test_revoking_a_refresh_token_stops_its_whole_family(client, tokens, session_id):
    r = client.post("/oauth2/revoke", data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
                    auth=BANK)
    assert r.status_code == 200
    assert refresh(client, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert me(client, tokens["access_token"], session_id).json()["code"] == "TOKEN_REVOKED"


@pytest.mark.parametrize("token", ["unknown", "a.b.c", "x" * 4000])
def test_revoking_an_unknown_token_is_still_200(client, token):
    assert client.post("/oauth2/revoke", data={"token": token}, auth=BANK).status_code == 200


def test_another_clients_token_is_left_alone(client, tokens, session_id):
    assert client.post("/oauth2/revoke", data={"token": tokens["access_token"]}, auth=STRICT).status_code == 200
    assert me(client, tokens["access_token"], session_id).status_code == 200


def test_revoke_needs_client_authentication_and_a_token(client, tokens):
    r = client.post("/oauth2/revoke", data={"token": tokens["access_token"]}, auth=("demo-bank", "wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = client.post("/oauth2/revoke", data={}, auth=BANK)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


# -- introspect ----------------------------------------------------------------------------------------------------
def test_a_live_access_token_is_active_with_its_claims(client, tokens):
    r = client.post("/oauth2/introspect", data={"token": tokens["access_token"]}, auth=BANK)
    body = r.json()
    assert body["active"] is True and body["token_type"] == "Bearer"
    assert body["client_id"] == "demo-bank" and body["sub"] == "1000000001"
    assert set(body["scope"].split()) >= {"openid", "fines"}
    assert body["exp"] - body["iat"] == 3600


def test_a_live_refresh_token_is_active(client, tokens):
    body = client.post("/oauth2/introspect", data={"token": tokens["refresh_token"]}, auth=BANK).json()
    assert body["active"] is True and body["token_type"] == "refresh_token" and body["sub"] == "1000000001"


def test_spent_expired_revoked_or_foreign_tokens_are_inactive(client, tokens, session_id):
    def active(token, auth=BANK):
        return client.post("/oauth2/introspect", data={"token": token}, auth=auth).json()["active"]

    assert active(tokens["access_token"], STRICT) is False
    assert active("garbage") is False
    refreshed = refresh(client, tokens["refresh_token"]).json()
    assert active(tokens["refresh_token"]) is False  # spent by the rotation
    assert active(refreshed["refresh_token"]) is True
    advance(client, session_id, "PT1H1S")
    assert active(refreshed["access_token"]) is False


# -- userinfo ------------------------------------------------------------------------------------------------------
def test_userinfo_gives_the_claims_of_the_granted_scopes(client, tokens):
    r = client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 200
    claims = r.json()
    assert claims["sub"] == "1000000001" and claims["trusted"] is True
    assert claims["family_name"] == "Иванов" and claims["given_name"] == "Иван" and claims["middle_name"] == "Петрович"
    assert claims["birthdate"] == "1985-03-14" and claims["gender"] == "male"
    assert claims["phone_number"] == "+79160000001" and claims["email"] == "ivanov@example.ru"
    assert claims["snils"] == "668-315-472 27" and claims["inn"] == "770858813912"
    assert "passport" not in claims  # id_doc was not asked


def test_userinfo_without_openid_is_403_insufficient_scope(client, mint, session_id):
    token = mint(["fullname"], session=session_id)
    r = client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}", "X-Gosim-Session": session_id})
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    assert r.headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-jwt", "Bearer a.b.c"])
def test_userinfo_without_a_valid_token_is_401_with_a_bearer_challenge(client, header):
    r = client.get("/oauth2/userinfo", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_userinfo_with_an_expired_token_says_so(client, tokens, session_id):
    advance(client, session_id, "PT2H")
    r = client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 401 and "expired" in r.json()["error_description"]
