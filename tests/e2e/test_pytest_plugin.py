"""The `gosim` pytest fixture: helpers against the real server, a session per test, reset afterwards, --gosim-url."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from simulator.testing import LoginFailed

pytestmark = pytest.mark.e2e


def test_each_test_gets_its_own_session_on_the_shared_server(gosim, gosim_server):
    assert gosim.base_url == gosim_server.url
    assert gosim.client.headers["X-Gosim-Session"] == gosim.session
    assert gosim.session.startswith("test_each_test_gets_its_own_session")


def test_login_goes_through_the_pages_and_the_tokens_work(gosim):
    tokens = gosim.login("+79160000003", scopes=["openid", "fullname", "debts"])
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
    me = gosim.client.get("/api/v1/persons/me", headers=gosim.auth(tokens["access_token"])).json()
    assert me["oid"] == 1000000003
    assert gosim.sms("+79160000003")[0]["client_id"] == "demo-bank"
    logins = [e["operation"] for e in gosim.journal(operation="GetMyProfile")]
    assert logins == ["GetMyProfile"]


def test_login_of_a_public_client_uses_pkce_without_a_secret(gosim):
    tokens = gosim.login(client_id="demo-mobile", scopes="openid fines")
    assert sorted(tokens["scope"].split()) == ["fines", "openid"]
    assert gosim.refresh(tokens["refresh_token"], client_id="demo-mobile")["access_token"]


def test_a_refused_login_says_why(gosim):
    with pytest.raises(LoginFailed) as refused:
        gosim.login("+79160000001", password="wrong")
    assert refused.value.code  # the page's data-error code


def test_scenarios_clock_and_minted_tokens(gosim):
    token = gosim.mint_token(oid=1000000001, scopes=["fines"], ttl=60)
    gosim.enable_scenario("portal-outage")
    assert gosim.client.get("/api/v1/fines", headers=gosim.auth(token)).status_code == 503
    gosim.disable_scenario("portal-outage")
    assert gosim.client.get("/api/v1/fines", headers=gosim.auth(token)).status_code == 200
    gosim.advance_clock(120)
    expired = gosim.client.get("/api/v1/fines", headers=gosim.auth(token))
    assert (expired.status_code, expired.json()["code"]) == (401, "TOKEN_EXPIRED")
    assert gosim.webhooks() == []


def test_an_outside_run_uses_gosim_url_and_resets_its_sessions(gosim_server, tmp_path):
    (tmp_path / "test_outside.py").write_text(textwrap.dedent(f'''
        def test_uses_the_given_server(gosim):
            assert gosim.base_url == "{gosim_server.url}"
            gosim.enable_scenario("portal-outage")
            open("session.txt", "w").write(gosim.session)

        def test_that_fails(gosim):
            assert gosim.mint_token() == "nope"
    '''))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOSIM_", "PYTEST"))}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--gosim-url",
                             gosim_server.url, "test_outside.py"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed" in result.stdout
    session = (tmp_path / "session.txt").read_text()
    with gosim_server.client(headers={"X-Gosim-Session": session}) as c:
        left = [s["name"] for s in c.get("/_sim/scenarios").json()["items"] if s.get("layer") == "session"]
    assert left == []  # the fixture reset the session after the test
