"""Swagger UI, the served specs, discovery and the health endpoints."""

from __future__ import annotations

import pytest

from simulator.spec import SPECS, spec_dir


def test_swagger_ui_is_served_at_docs_and_lists_every_spec(client):
    r = client.get("/docs/")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()


@pytest.mark.parametrize("name, mount", [("idp", ""), ("citizen", "/api/v1"), ("payments", "/api/v1"), ("admin", "/_sim")])
def test_each_spec_is_served_bundled_as_json(client, name, mount):
    if not (spec_dir() / f"{name}.yaml").exists():
        pytest.skip(f"{name}.yaml is not part of this build")
    spec = client.get(f"{mount}/openapi/{name}.json").json()
    assert spec["openapi"].startswith("3.")
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    assert all(ref.startswith("#/") for ref in refs), "a served spec must be self-contained"
    assert spec["paths"]
    assert name in SPECS


def test_health_and_readiness_answer_with_the_loaded_data(client):
    assert client.get("/_sim/health").json()["status"] == "ok"
    ready = client.get("/_sim/ready").json()
    assert ready["persons"] == 7 and ready["charges"] == 7


def test_discovery_names_the_issuer_and_the_jwks_holds_the_signing_key(client, app):
    conf = client.get("/.well-known/openid-configuration").json()
    assert conf["issuer"] == app.app.extensions["gosim"].settings.issuer
    assert conf["jwks_uri"].endswith("/oauth2/jwks")
    keys = client.get("/oauth2/jwks").json()["keys"]
    assert [k["kid"] for k in keys] == [app.app.extensions["gosim"].tokens.key.kid]


def test_the_signing_key_id_is_the_same_after_a_restart(settings):
    from simulator.app import create_app

    first = create_app(settings).app.extensions["gosim"].tokens.key.kid
    second = create_app(settings).app.extensions["gosim"].tokens.key.kid
    assert first == second
