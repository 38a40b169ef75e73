"""GET /oauth2/authorize: which requests open the login page, which get an error page, which are sent back with an error."""

from __future__ import annotations

import pytest

from support.oauth import BANK_REDIRECT, MOBILE_REDIRECT, alert, authorize_params, form, pkce_pair, query_of


def get(client, **params):
    return client.get("/oauth2/authorize", params=params, follow_redirects=False)


def test_a_valid_request_answers_the_login_page_with_a_csrf_cookie_and_no_caching(client, session_id):
    r = get(client, **authorize_params(session_id))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    login = form(r.text, "/oauth2/authorize/login")
    assert set(login.fields) >= {"tx", "csrf_token", "gosim_session", "login"}
    assert login.fields["gosim_session"] == session_id
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"gosim_csrf_{login.fields['tx']}={login.fields['csrf_token']};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert 'lang="ru"' in r.text and '<label for="login">' in r.text


@pytest.mark.parametrize("params, code", [
    ({"client_id": None}, "CLIENT_ID_MISSING"),
    ({"client_id": "no-such-bank"}, "UNKNOWN_CLIENT"),
    ({"redirect_uri": None}, "REDIRECT_URI_MISSING"),
    ({"redirect_uri": "http://evil.example/callback"}, "REDIRECT_URI_MISMATCH"),
    ({"redirect_uri": BANK_REDIRECT + "/"}, "REDIRECT_URI_MISMATCH"),  # exact match: a trailing slash is another URI
    ({"redirect_uri": BANK_REDIRECT + "?x=1"}, "REDIRECT_URI_MISMATCH"),
    ({"redirect_uri": MOBILE_REDIRECT}, "REDIRECT_URI_MISMATCH"),  # another client's URI
    ({"gosim_session": "bad session!"}, "BAD_SESSION"),
])
def test_a_bad_client_or_redirect_uri_is_an_error_page_never_a_redirect(client, session_id, params, code):
    query = {k: v for k, v in {**authorize_params(session_id), **params}.items() if v is not None}
    r = get(client, **query)
    assert r.status_code == 400
    assert "location" not in r.headers
    assert r.headers["content-type"].startswith("text/html")
    assert alert(r.text) == code


def test_the_mismatch_page_names_esia_007023(client, session_id):
    r = get(client, **authorize_params(session_id, redirect_uri="http://evil.example/cb"))
    assert "ESIA-007023" in r.text


@pytest.mark.parametrize("params, error, esia", [
    ({"response_type": "token"}, "unsupported_response_type", "ESIA-007014"),
    ({"response_type": None}, "invalid_request", "ESIA-007014"),
    ({"scope": None}, "invalid_scope", "ESIA-007006"),
    ({"scope": "openid payments_everything"}, "invalid_scope", "ESIA-007006"),
    ({"scope": "openid <script>"}, "invalid_scope", "ESIA-007006"),
    ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request", "ESIA-007014"),
    ({"code_challenge": "a" * 43}, "invalid_request", "ESIA-007014"),  # no method means plain (RFC 7636)
    ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request", "ESIA-007014"),
    ({"nonce": "n" * 513}, "invalid_request", "ESIA-007014"),
    ({"prompt": "none"}, "login_required", "ESIA-007014"),
])
def test_other_problems_go_back_to_the_bank_with_an_error_and_the_state(client, session_id, params, error, esia):
    query = {k: v for k, v in {**authorize_params(session_id, state="s-42"), **params}.items() if v is not None}
    r = get(client, **query)
    assert r.status_code == 302
    assert r.headers["location"].startswith(BANK_REDIRECT + "?")
    answer = query_of(r.headers["location"])
    assert answer["error"] == error
    assert answer["error_description"].startswith(esia + ": ")
    assert answer["state"] == "s-42"


def test_a_scope_the_client_may_not_ask_for_is_invalid_scope(client, session_id):
    # demo-mobile is not allowed `payments` or `vehicles`
    _, challenge = pkce_pair()
    r = get(client, **authorize_params(session_id, client_id="demo-mobile", redirect_uri=MOBILE_REDIRECT,
                                       scope="openid vehicles", challenge=challenge))
    assert query_of(r.headers["location"])["error"] == "invalid_scope"


def test_a_public_client_without_pkce_is_refused(client, session_id):
    r = get(client, **authorize_params(session_id, client_id="demo-mobile", redirect_uri=MOBILE_REDIRECT))
    answer = query_of(r.headers["location"])
    assert answer["error"] == "invalid_request"
    assert "PKCE" in answer["error_description"]


def test_a_public_client_with_s256_gets_the_login_page(client, session_id):
    _, challenge = pkce_pair()
    r = get(client, **authorize_params(session_id, client_id="demo-mobile", redirect_uri=MOBILE_REDIRECT,
                                       challenge=challenge))
    assert r.status_code == 200


def test_a_huge_state_is_refused_without_echoing_it(client, session_id):
    r = get(client, **authorize_params(session_id, state="s" * 5000))
    answer = query_of(r.headers["location"])
    assert answer["error"] == "invalid_request" and "state" not in answer


def test_unknown_parameters_are_ignored_as_rfc_6749_requires(client, session_id):
    r = get(client, **authorize_params(session_id), access_type="offline", display="page", ui_locales="ru")
    assert r.status_code == 200


def test_a_repeated_parameter_is_an_error_page(client, session_id):
    params = list(authorize_params(session_id).items()) + [("scope", "openid")]
    r = client.get("/oauth2/authorize", params=params, follow_redirects=False)
    assert r.status_code == 400 and alert(r.text) == "DUPLICATE_PARAMETER"


def test_gosim_session_and_a_different_header_are_refused(client, session_id):
    r = client.get("/oauth2/authorize", params=authorize_params(session_id), headers={"X-Gosim-Session": "other"},
                   follow_redirects=False)
    assert r.status_code == 400 and alert(r.text) == "SESSION_MISMATCH"


def test_the_header_alone_names_the_session_when_gosim_session_is_absent(client, session_id):
    params = {k: v for k, v in authorize_params(session_id).items() if k != "gosim_session"}
    r = client.get("/oauth2/authorize", params=params, headers={"X-Gosim-Session": session_id},
                   follow_redirects=False)
    assert form(r.text, "/login").fields["gosim_session"] == session_id


def test_the_login_hint_is_prefilled_and_html_escaped(client, session_id):
    r = get(client, **authorize_params(session_id), login_hint='"><script>alert(1)</script>')
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text
    assert "&#34;&gt;&lt;script&gt;" in r.text or "&quot;&gt;&lt;script&gt;" in r.text


def test_an_unknown_client_id_is_escaped_on_the_error_page(client, session_id):
    r = get(client, **authorize_params(session_id, client_id="<img src=x onerror=alert(1)>"))
    assert r.status_code == 400
    assert "<img src=x" not in r.text and "&lt;img src=x" in r.text


@pytest.mark.parametrize("garbage", ["", "\x00", "é" * 3000, "%00%ff", "a" * 20000, "{{7*7}}"])
def test_garbage_in_any_parameter_never_gives_a_500(client, session_id, garbage):
    for name in ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                 "code_challenge_method", "prompt", "login_hint", "gosim_session"):
        r = get(client, **{**authorize_params(session_id), name: garbage})
        assert r.status_code in (200, 302, 400), (name, r.status_code, r.text[:300])
