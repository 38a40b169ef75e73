"""Admin access: with GOSIM_ADMIN_TOKEN set, every /_sim call needs it as a bearer token; other routes do not."""

from __future__ import annotations

import pytest

from simulator.app import ConfigurationError, create_app

TOKEN = "s3cret-admin-token"


@pytest.fixture
def guarded(settings):
    app = create_app(settings.replace(admin_token=TOKEN))
    with app.test_client() as c:
        yield c


@pytest.mark.parametrize("path", ["/_sim/scenarios", "/_sim/requests", "/_sim/clock", "/_sim/citizens",
                                  "/_sim/openapi/admin.json", "/_sim/no-such-thing"])
def test_an_admin_call_without_the_token_is_refused_with_401(guarded, path):
    r = guarded.get(path)
    assert r.status_code == 401
    assert r.json()["code"] == "ADMIN_TOKEN_REQUIRED"
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("auth", ["Bearer wrong", "Basic czNjcmV0LWFkbWluLXRva2Vu", f"Bearer {TOKEN}x", "Bearer"])
def test_a_wrong_token_is_refused_too(guarded, auth):
    assert guarded.get("/_sim/clock", headers={"Authorization": auth}).status_code == 401


def test_liveness_and_readiness_stay_open_for_probes_without_a_token(guarded):
    assert guarded.get("/_sim/health").status_code == 200
    assert guarded.get("/_sim/ready").status_code == 200


def test_the_right_token_opens_the_control_api(guarded):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/_sim/clock", headers=auth).status_code == 200
    r = guarded.post("/_sim/scenarios/portal-outage/enable", headers=auth)
    assert r.status_code == 200


def test_the_guard_leaves_the_portal_routes_alone(guarded):
    r = guarded.get("/.well-known/openid-configuration")
    assert r.status_code == 200
    assert guarded.get("/api/v1/fines").json()["code"] != "ADMIN_TOKEN_REQUIRED"


def test_the_control_api_is_open_on_loopback_without_a_token(client):
    assert client.get("/_sim/health").status_code == 200


def test_a_non_loopback_bind_without_a_token_refuses_to_build(settings):
    with pytest.raises(ConfigurationError, match="GOSIM_ADMIN_TOKEN"):
        create_app(settings.replace(host="0.0.0.0"))
