"""Scenarios through /_sim/scenarios, in-process: faults, layers, sessions, presets, counters, seed and reset."""

from __future__ import annotations

import time

import pytest

from conftest import bearer
from simulator.app import create_app
from simulator.scenarios.transport import ConnectionBroken

FINE = "18810186987973091146"


def s(session: str) -> dict[str, str]:
    return {"X-Gosim-Session": session}


@pytest.fixture
def fines_token(mint, session_id):
    return mint(["fines", "debts"], session=session_id)


def put(client, session, name, *rules, layer=None, **extra):
    params = {"layer": layer} if layer else {}
    r = client.put(f"/_sim/scenarios/{name}", json={"rules": list(rules), **extra}, headers=s(session), params=params)
    assert r.status_code in (200, 201), r.text
    return r.json()


def fines(client, session, token, **headers):
    return client.get("/api/v1/fines", headers=bearer(token, **s(session), **headers))


def test_a_503_rule_answers_a_problem_with_retry_after_and_other_routes_are_untouched(client, session_id, fines_token):
    put(client, session_id, "fines-down", {"match": {"operation": "ListFines"}, "status": 503, "retry_after": 120})
    r = fines(client, session_id, fines_token)
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "120"
    assert r.headers["x-gosim-fault"] == "fines-down/rule-1"
    assert r.json()["code"] == "SERVICE_UNAVAILABLE" and r.json()["status"] == 503
    assert client.get(f"/api/v1/fines/{FINE}", headers=bearer(fines_token, **s(session_id))).status_code == 200
    assert client.get("/api/v1/debts", headers=bearer(fines_token, **s(session_id))).status_code == 200


def test_disabling_a_scenario_restores_the_route_and_enabling_brings_the_fault_back(client, session_id, fines_token):
    put(client, session_id, "fines-down", {"match": {"operation": "ListFines"}, "status": 503})
    r = client.post("/_sim/scenarios/fines-down/disable", headers=s(session_id))
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert fines(client, session_id, fines_token).status_code == 200
    client.post("/_sim/scenarios/fines-down/enable", headers=s(session_id))
    assert fines(client, session_id, fines_token).status_code == 503


def test_a_scenario_of_one_session_does_not_touch_another(client, mint, fines_token, session_id):
    other = session_id + "-b"
    other_token = mint(["fines"], session=other)
    put(client, session_id, "fines-down", {"match": {"operation": "ListFines"}, "status": 503})
    assert fines(client, session_id, fines_token).status_code == 503
    assert fines(client, other, other_token).status_code == 200
    assert client.get("/_sim/scenarios", headers=s(other)).json() == {"items": []}


def test_every_third_matching_call_fails_exactly(client, session_id, fines_token):
    put(client, session_id, "every-3", {"match": {"operation": "ListFines"}, "when": {"every": 3}, "status": 502})
    statuses = [fines(client, session_id, fines_token).status_code for _ in range(9)]
    assert statuses == [200, 200, 502] * 3


def test_first_n_calls_fail_then_the_route_recovers(client, session_id, fines_token):
    put(client, session_id, "first-2", {"match": {"operation": "ListFines"}, "when": {"first": 2}, "status": 504})
    assert [fines(client, session_id, fines_token).status_code for _ in range(4)] == [504, 504, 200, 200]


def test_a_probability_rule_repeats_its_sequence_after_the_same_seed(client, session_id, fines_token):
    put(client, session_id, "flaky", {"match": {"operation": "ListFines"}, "when": {"probability": 0.3}, "status": 503})

    def run() -> list[int]:
        client.post("/_sim/seed", json={"seed": 7}, headers=s(session_id))
        return [fines(client, session_id, fines_token).status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(503) < 30
    client.post("/_sim/seed", json={"seed": 8}, headers=s(session_id))
    assert [fines(client, session_id, fines_token).status_code for _ in range(30)] != first


def test_reset_of_a_session_forgets_its_scenarios_and_counters(client, session_id, mint):
    put(client, session_id, "every-2", {"match": {"operation": "ListFines"}, "when": {"every": 2}, "status": 502})
    token = mint(["fines"], session=session_id)
    assert fines(client, session_id, token).status_code == 200
    client.post("/_sim/reset", headers=s(session_id))
    assert client.get("/_sim/scenarios", headers=s(session_id)).json() == {"items": []}
    put(client, session_id, "every-2", {"match": {"operation": "ListFines"}, "when": {"every": 2}, "status": 502})
    token = mint(["fines"], session=session_id)
    assert fines(client, session_id, token).status_code == 200  # the count started again from one


def test_x_gosim_scenario_forces_a_preset_for_one_call_only(client, session_id, fines_token):
    r = fines(client, session_id, fines_token, **{"X-Gosim-Scenario": "portal-outage"})
    assert r.status_code == 503 and r.headers["retry-after"] == "60"
    assert fines(client, session_id, fines_token).status_code == 200


def test_x_gosim_scenario_forces_a_disabled_stored_scenario(client, session_id, fines_token):
    put(client, session_id, "teapot", {"status": 418}, enabled=False)
    assert fines(client, session_id, fines_token).status_code == 200
    assert fines(client, session_id, fines_token, **{"X-Gosim-Scenario": "teapot"}).status_code == 418


def test_an_unknown_forced_scenario_is_a_400_naming_the_header(client, session_id, fines_token):
    r = fines(client, session_id, fines_token, **{"X-Gosim-Scenario": "no-such"})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "X-Gosim-Scenario", "message": "no scenario or preset named 'no-such'"}]


def test_enabling_a_preset_copies_it_into_the_session(client, session_id, fines_token):
    r = client.post("/_sim/scenarios/portal-outage/enable", headers=s(session_id))
    assert r.status_code == 200
    assert r.json()["source"] == "preset" and r.json()["layer"] == "session" and r.json()["enabled"]
    assert fines(client, session_id, fines_token).status_code == 503
    assert client.get("/.well-known/openid-configuration", headers=s(session_id)).status_code == 503


def test_the_control_api_is_never_faulted(client, session_id):
    client.post("/_sim/scenarios/portal-outage/enable", headers=s(session_id))
    assert client.get("/_sim/scenarios", headers=s(session_id)).status_code == 200
    assert client.post("/_sim/scenarios/portal-outage/disable", headers=s(session_id)).status_code == 200


def test_presets_are_listed_and_readable_by_name(client):
    names = [p["name"] for p in client.get("/_sim/scenarios/presets").json()["items"]]
    assert "flaky-payments" in names and "maintenance-window" in names
    r = client.get("/_sim/scenarios/slow-fines")
    assert r.status_code == 200 and r.json()["layer"] == "preset" and r.json()["enabled"] is False


def test_create_replace_and_delete_answer_the_usual_codes(client, session_id):
    body = {"name": "x", "rules": [{"status": 500}]}
    assert client.post("/_sim/scenarios", json=body, headers=s(session_id)).status_code == 201
    r = client.post("/_sim/scenarios", json=body, headers=s(session_id))
    assert r.status_code == 409 and r.json()["code"] == "SCENARIO_EXISTS"
    assert client.put("/_sim/scenarios/x", json={"rules": [{"status": 502}]}, headers=s(session_id)).status_code == 200
    assert client.get("/_sim/scenarios/x", headers=s(session_id)).json()["rules"] == [{"status": 502}]
    assert client.delete("/_sim/scenarios/x", headers=s(session_id)).status_code == 204
    r = client.delete("/_sim/scenarios/x", headers=s(session_id))
    assert r.status_code == 404 and r.json()["code"] == "SCENARIO_NOT_FOUND"
    assert client.get("/_sim/scenarios/x", headers=s(session_id)).status_code == 404


def test_a_broken_scenario_body_is_a_422_naming_each_field(client, session_id):
    r = client.put("/_sim/scenarios/bad", headers=s(session_id), json={
        "rules": [{"status": 299}, {"latency": "2 parsecs"}, {"match": {"operation": "ListFine"}, "status": 503}],
    })
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert fields["rules[0].status"].startswith("bad status 299")
    assert fields["rules[1].latency"].startswith("bad duration '2 parsecs'")
    assert "did you mean 'ListFines'" in fields["rules[2].match.operation"]
    r = client.put("/_sim/scenarios/bad", headers=s(session_id), json={"name": "other", "rules": [{"status": 500}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


def test_the_global_layer_applies_to_every_session_and_a_session_can_switch_it_off(client, mint, session_id):
    other = session_id + "-b"
    tokens = {sess: mint(["fines"], session=sess) for sess in (session_id, other)}
    put(client, session_id, "everyone", {"match": {"operation": "ListFines"}, "status": 503}, layer="global")
    try:
        assert all(fines(client, sess, tok).status_code == 503 for sess, tok in tokens.items())
        r = client.post("/_sim/scenarios/everyone/disable", headers=s(other))
        assert r.json()["layer"] == "global" and r.json()["enabled"] is False
        assert fines(client, other, tokens[other]).status_code == 200
        assert fines(client, session_id, tokens[session_id]).status_code == 503
        r = client.delete("/_sim/scenarios/everyone", headers=s(session_id))
        assert r.status_code == 404 and "layer=global" in r.json()["detail"]
    finally:
        assert client.delete("/_sim/scenarios/everyone", params={"layer": "global"}).status_code == 204
    assert fines(client, session_id, tokens[session_id]).status_code == 200


def test_a_throttle_answers_429_with_retry_after_and_rate_limit_headers(client, session_id, fines_token):
    client.post("/_sim/clock/freeze", headers=s(session_id))  # buckets refill on the session clock: hold it still
    put(client, session_id, "limit", {"match": {"path": "/api/*"}, "throttle": {"rate": 1, "per": "2s", "burst": 2}})
    first = fines(client, session_id, fines_token)
    assert first.status_code == 200 and first.headers["ratelimit-limit"] == "2"
    assert first.headers["ratelimit-remaining"] == "1"
    assert fines(client, session_id, fines_token).status_code == 200
    refused = fines(client, session_id, fines_token)
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
    assert refused.headers["retry-after"] == "2" and refused.headers["ratelimit-remaining"] == "0"
    client.post("/_sim/clock/advance", json={"duration": "PT2S"}, headers=s(session_id))
    assert fines(client, session_id, fines_token).status_code == 200


def test_throttle_buckets_are_per_client(client, mint, session_id):
    client.post("/_sim/clock/freeze", headers=s(session_id))
    put(client, session_id, "limit", {"match": {"path": "/api/*"}, "throttle": {"rate": 1, "per": "1m", "burst": 1}})
    bank = mint(["fines"], session=session_id)
    mobile = mint(["fines"], client_id="demo-mobile", session=session_id)
    assert fines(client, session_id, bank).status_code == 200
    assert fines(client, session_id, bank).status_code == 429
    assert fines(client, session_id, mobile).status_code == 200


def test_a_client_rule_matches_the_tokens_client_only(client, mint, session_id):
    put(client, session_id, "mobile-down", {"match": {"client": "demo-mobile"}, "status": 503})
    assert fines(client, session_id, mint(["fines"], session=session_id)).status_code == 200
    assert fines(client, session_id, mint(["fines"], client_id="demo-mobile", session=session_id)).status_code == 503


def test_latency_is_waited_before_the_answer(client, session_id, fines_token):
    put(client, session_id, "slow", {"match": {"operation": "ListFines"}, "latency": "300ms"})
    started = time.monotonic()
    r = fines(client, session_id, fines_token)
    assert r.status_code == 200 and r.headers["x-gosim-fault"] == "slow/rule-1"
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("mode", ["reset", "empty", "truncate"])
def test_a_break_rule_breaks_the_connection(client, session_id, fines_token, mode):
    put(client, session_id, "cut", {"match": {"operation": "ListFines"}, "break": mode})
    with pytest.raises(ConnectionBroken) as caught:  # the test client has no socket; a real server closes it
        fines(client, session_id, fines_token)
    assert caught.value.mode == mode


def test_the_maintenance_window_preset_follows_the_session_clock(client, session_id, fines_token, mint):
    client.post("/_sim/scenarios/maintenance-window/enable", headers=s(session_id))
    assert fines(client, session_id, fines_token).status_code == 200  # 12:00 MSK
    client.post("/_sim/clock/freeze", headers=s(session_id))
    client.post("/_sim/clock/advance", json={"duration": "PT13H30M"}, headers=s(session_id))  # 01:30 MSK
    token = mint(["fines"], session=session_id, ttl=86400)
    r = fines(client, session_id, token)
    assert r.status_code == 503 and r.json()["code"] == "MAINTENANCE"
    assert int(r.headers["retry-after"]) == pytest.approx(3.5 * 3600, abs=2)
    client.post("/_sim/clock/advance", json={"duration": "PT4H"}, headers=s(session_id))  # 05:30 MSK
    assert fines(client, session_id, token).status_code == 200


def test_the_expiring_tokens_storm_preset_answers_token_expired_with_the_bearer_challenge(client, session_id,
                                                                                           fines_token):
    client.post("/_sim/scenarios/expiring-tokens-storm/enable", headers=s(session_id))
    answers = [fines(client, session_id, fines_token) for _ in range(30)]
    expired = [r for r in answers if r.status_code == 401]
    assert 0 < len(expired) < 30 and all(r.status_code in (200, 401) for r in answers)
    assert expired[0].json()["code"] == "TOKEN_EXPIRED"
    assert expired[0].headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_the_flaky_payments_preset_fails_create_twice_then_lets_it_through(client, mint, session_id):
    from support.payments import new_key, payment_body

    client.post("/_sim/scenarios/flaky-payments/enable", headers=s(session_id))
    token = mint(["payments"], oid=None, session=session_id)
    body, key = payment_body(), new_key()
    codes = [client.post("/api/v1/payments", json=body, headers=bearer(token, **s(session_id), **{"Idempotency-Key": key}))
             .status_code for _ in range(3)]
    assert codes[:2] == [502, 504]
    assert codes[2] not in (502, 504)


def test_webhook_rules_answer_the_webhook_senders_question(app, session_id):
    scenarios = app.app.extensions["gosim"].scenarios
    assert scenarios.webhook_decision(session_id, "demo-bank", "payment.succeeded") is None
    scenarios.set_enabled(session_id, "webhook-receiver-flapping", True)
    decisions = [scenarios.webhook_decision(session_id, "demo-bank", "payment.succeeded") for _ in range(6)]
    statuses = [d.error.status if d and d.error else None for d in decisions]
    assert statuses[1::2] == [503, 503, 503]


def test_a_malformed_session_header_is_still_a_400_when_scenarios_are_active(client, session_id, fines_token):
    put(client, session_id, "x", {"status": 503}, layer="global")
    try:
        r = client.get("/api/v1/fines", headers=bearer(fines_token, **{"X-Gosim-Session": "bad session!"}))
        assert r.status_code == 400
    finally:
        client.delete("/_sim/scenarios/x", params={"layer": "global"})


def test_a_scenario_file_forms_the_global_layer_and_reset_all_brings_it_back(settings, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("scenarios:\n  - name: from-file\n    rules:\n      - {match: {operation: ListFines}, status: 503}\n")
    app = create_app(settings.replace(scenarios=path))
    with app.test_client() as c:
        token = c.post("/_sim/tokens", json={"client_id": "demo-bank", "oid": 1000000001, "scopes": ["fines"]})
        token = token.json()["access_token"]
        assert c.get("/api/v1/fines", headers=bearer(token)).status_code == 503
        item = c.get("/_sim/scenarios").json()["items"][0]
        assert (item["name"], item["layer"], item["source"]) == ("from-file", "global", "file")
        c.post("/_sim/scenarios/from-file/disable", params={"layer": "global"})
        assert c.get("/api/v1/fines", headers=bearer(token)).status_code == 200
        c.post("/_sim/reset", params={"all": "true"})
        assert c.get("/_sim/scenarios").json()["items"][0]["enabled"] is True


def test_seed_without_a_body_goes_back_to_the_configured_seed(client, session_id, settings):
    assert client.post("/_sim/seed", json={"seed": 9}, headers=s(session_id)).json() == {"session": session_id, "seed": 9}
    r = client.post("/_sim/seed", headers=s(session_id))
    assert r.status_code == 200 and r.json()["seed"] == settings.seed
