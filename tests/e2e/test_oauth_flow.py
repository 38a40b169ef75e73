"""A bank's OAuth library (authlib) links a citizen through the real server: PKCE, SMS, consent, refresh, revoke."""

from __future__ import annotations

import uuid

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from simulator.testing import Gosim, walk_login
from support.oauth import BANK_REDIRECT, PASSWORD, Login, exchange, query_of
from support.server import start_server

pytestmark = pytest.mark.e2e


def bank_session(session: str) -> OAuth2Session:
    """demo-bank as its backend would configure authlib: confidential, Basic auth, PKCE S256 on top."""
    bank = OAuth2Session(
        client_id="demo-bank", client_secret="demo-bank-secret", scope="openid fullname fines",
        redirect_uri=BANK_REDIRECT, code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic",
    )
    bank.headers["X-Gosim-Session"] = session
    return bank


def citizen_logs_in(base_url: str, authorize_url: str, session: str, login: str = "+79160000001") -> str:
    """The citizen's browser (the pytest plugin's walk_login): real forms, the SMS outbox, consent; the callback URL.

    `Connection: close` makes every step a new connection, so the steps land on both workers.
    """
    with Gosim(base_url, session) as sim:
        return walk_login(base_url, authorize_url, login=login, password=PASSWORD, session=session,
                          sms_code=lambda: sim.sms_code(login), headers={"Connection": "close"})


def test_a_bank_links_a_citizen_with_authlib_and_pkce(live_server):
    session = f"e2e-{uuid.uuid4().hex[:10]}"
    url = live_server.url
    bank = bank_session(session)
    verifier = generate_token(48)
    authorize_url, state = bank.create_authorization_url(
        f"{url}/oauth2/authorize", code_verifier=verifier, nonce="n-e2e", gosim_session=session,
    )
    callback = citizen_logs_in(url, authorize_url, session)
    assert callback.startswith(BANK_REDIRECT + "?")
    assert query_of(callback)["state"] == state

    token = bank.fetch_token(f"{url}/oauth2/token", authorization_response=callback, code_verifier=verifier)
    assert token["token_type"].lower() == "bearer" and token["expires_in"] == 3600
    assert {"access_token", "refresh_token", "id_token"} <= set(token)

    profile = bank.get(f"{url}/api/v1/persons/me")
    assert profile.status_code == 200, profile.text
    assert profile.json()["last_name"] == "Иванов" and "inn" not in profile.json()
    fines = bank.get(f"{url}/api/v1/fines")
    assert fines.status_code == 200 and fines.json()["total"] >= 1

    old_refresh = token["refresh_token"]
    renewed = bank.refresh_token(f"{url}/oauth2/token")
    assert renewed["refresh_token"] != old_refresh and renewed["access_token"] != token["access_token"]
    assert bank.get(f"{url}/api/v1/persons/me").status_code == 200

    r = bank.revoke_token(f"{url}/oauth2/revoke", token=renewed["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200
    gone = bank.get(f"{url}/api/v1/persons/me")
    assert gone.status_code == 401 and gone.json()["code"] == "TOKEN_REVOKED"


def test_a_mobile_app_links_with_pkce_and_no_secret(live_server):
    session = f"e2e-{uuid.uuid4().hex[:10]}"
    app = OAuth2Session(client_id="demo-mobile", scope="openid fines", token_endpoint_auth_method="none",
                        redirect_uri="http://127.0.0.1:8081/mobile-callback", code_challenge_method="S256")
    verifier = generate_token(48)
    authorize_url, _ = app.create_authorization_url(f"{live_server.url}/oauth2/authorize", code_verifier=verifier,
                                                    gosim_session=session)
    callback = citizen_logs_in(live_server.url, authorize_url, session)
    token = app.fetch_token(f"{live_server.url}/oauth2/token", authorization_response=callback,
                            code_verifier=verifier)
    assert token["scope"] == "fines openid"


def _worker_and_status(url: str, token: str, session: str) -> tuple[int, int]:
    with httpx.Client(base_url=url, timeout=10) as c:  # one connection: both calls reach the same worker
        worker = c.get("/_sim/health").json()["worker"]
        status = c.get("/api/v1/persons/me", headers={"Authorization": f"Bearer {token}",
                                                     "X-Gosim-Session": session}).status_code
    return worker, status


def test_tokens_from_one_worker_verify_on_the_other(live_server):
    session = f"e2e-{uuid.uuid4().hex[:10]}"
    bank = bank_session(session)
    verifier = generate_token(48)
    authorize_url, _ = bank.create_authorization_url(f"{live_server.url}/oauth2/authorize", code_verifier=verifier,
                                                     gosim_session=session)
    callback = citizen_logs_in(live_server.url, authorize_url, session)
    token = bank.fetch_token(f"{live_server.url}/oauth2/token", authorization_response=callback,
                             code_verifier=verifier)
    seen: dict[int, list[int]] = {}
    for _ in range(60):
        worker, status = _worker_and_status(live_server.url, token["access_token"], session)
        seen.setdefault(worker, []).append(status)
        if len(seen) == 2 and sum(map(len, seen.values())) >= 8:
            break
    assert len(seen) == 2, f"expected both workers to answer, saw {list(seen)}"
    assert all(status == 200 for statuses in seen.values() for status in statuses), seen


def test_codes_and_tokens_survive_a_restart(tmp_path):
    """Keys from fixtures/keys and state in SQLite: a restarted server honours what the old one issued."""
    server = start_server(tmp_path, workers=2, storage=f"sqlite:///{tmp_path / 'state.db'}")
    port = server.port
    session = f"e2e-{uuid.uuid4().hex[:10]}"
    try:
        with server.client() as c:
            tokens = exchange(c, Login(c, session).authorize()["code"]).json()
            pending = Login(c, session).authorize()["code"]  # consent remembered: straight to the code
    finally:
        server.stop()
    server = start_server(tmp_path, workers=2, storage=f"sqlite:///{tmp_path / 'state.db'}", port=port)
    try:
        with server.client() as c:
            me = c.get("/api/v1/persons/me", headers={"Authorization": f"Bearer {tokens['access_token']}",
                                                      "X-Gosim-Session": session})
            assert me.status_code == 200, me.text
            renewed = c.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                    "refresh_token": tokens["refresh_token"]},
                             auth=("demo-bank", "demo-bank-secret"))
            assert renewed.status_code == 200, renewed.text
            assert exchange(c, pending).status_code == 200
            assert exchange(c, pending).json()["error"] == "invalid_grant"  # still single-use after the restart
    finally:
        server.stop()
