"""Request ids, the masked access log and /metrics, in process (the live, two-worker check is in tests/e2e)."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import bearer
from simulator.http.observe import request_id_of
from simulator.logs import ACCESS_LOGGER, JsonFormatter, TextFormatter

FINE = "18810186987973091146"
SNILS = "112-233-445 95"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def requests_of(metrics: dict, operation: str, status: str, method: str = "GET") -> float:
    key = ("gosim_http_requests_total", (("method", method), ("operation", operation), ("status", status)))
    return metrics.get(key, 0.0)


@pytest.fixture
def access_lines(caplog):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    def lines() -> list[dict]:
        return [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == ACCESS_LOGGER]

    return lines


def test_a_valid_request_id_is_echoed_on_success_and_on_errors(client, mint):
    token = mint(["fines"])
    ok = client.get(f"/api/v1/fines/{FINE}", headers={**bearer(token), "X-Request-Id": "bank-req:42/a=b"})
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "bank-req:42/a=b"
    for path in ("/api/v1/fines/123", "/no/such/path", "/api/v1/fines"):
        r = client.get(path, headers={"X-Request-Id": "abc-1"})
        assert r.status_code >= 400 and r.headers["x-request-id"] == "abc-1"


def test_a_missing_or_malformed_request_id_is_replaced_by_a_fresh_one(client):
    first = client.get("/_sim/health").headers["x-request-id"]
    second = client.get("/_sim/health").headers["x-request-id"]
    assert first != second and len(first) == 32
    for bad in ("has space", "x" * 129, "", "семь"):
        fresh = request_id_of(bad.encode())
        assert fresh != bad and len(fresh) == 32
    assert request_id_of(b"\xff\xfe") != "\xff\xfe"
    assert request_id_of(b"x" * 128) == "x" * 128


def test_every_request_writes_one_access_line_with_the_fields_people_search_by(client, mint, access_lines):
    token = mint(["fines"], session="log-1")
    r = client.get(f"/api/v1/fines/{FINE}", headers={**bearer(token), "X-Gosim-Session": "log-1",
                                                      "X-Request-Id": "rid-1"})
    assert r.status_code == 200
    line = next(line for line in access_lines() if line["request_id"] == "rid-1")
    assert line["level"] == "info" and line["message"] == "request" and line["time"].endswith("Z")
    assert {k: line[k] for k in ("session", "client", "operation", "method", "path", "status")} == {
        "session": "log-1", "client": "demo-bank", "operation": "GetFine", "method": "GET",
        "path": f"/api/v1/fines/{FINE}", "status": 200,
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_personal_data_and_tokens_in_a_query_never_reach_the_log(client, mint, access_lines, caplog):
    token = mint(["fines"])
    r = client.get(f"/api/v1/fines?snils={SNILS}&access_token={token}&phone=%2B79160000001&note={token}",
                   headers={**bearer(token), "X-Request-Id": "rid-mask"})
    assert r.status_code < 500
    text = "\n".join(JsonFormatter().format(x) + TextFormatter().format(x) for x in caplog.records)
    assert "rid-mask" in text
    for secret in (SNILS, "112-233-445", token, token.split(".")[1], "79160000001"):
        assert secret not in text


def test_metrics_count_requests_by_operation_and_status_and_time_them(client, mint):
    token = mint(["fines"])
    before = samples(client.get("/metrics").text)
    for _ in range(3):
        assert client.get(f"/api/v1/fines/{FINE}", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/fines/123", headers=bearer(token)).status_code == 400
    after = samples(client.get("/metrics").text)
    assert requests_of(after, "GetFine", "200") - requests_of(before, "GetFine", "200") == 3
    assert requests_of(after, "GetFine", "400") - requests_of(before, "GetFine", "400") == 1
    count = ("gosim_http_request_duration_seconds_count", (("operation", "GetFine"),))
    inf = ("gosim_http_request_duration_seconds_bucket", (("le", "+Inf"), ("operation", "GetFine")))
    assert after[count] - before.get(count, 0) == 4 and after[inf] == after[count]


def test_injected_faults_are_counted_by_scenario_and_rule(client, mint):
    token = mint(["fines"])
    scenario = {"name": "fines-down", "enabled": True,
                "rules": [{"name": "always-503", "match": {"operation": "GetFine"}, "status": 503}]}
    assert client.post("/_sim/scenarios", json=scenario).status_code == 201
    for _ in range(2):
        r = client.get(f"/api/v1/fines/{FINE}", headers={**bearer(token), "X-Request-Id": "rid-fault"})
        assert r.status_code == 503 and r.headers["x-gosim-fault"] == "fines-down/always-503"
        assert r.headers["x-request-id"] == "rid-fault"
    metrics = samples(client.get("/metrics").text)
    assert metrics[("gosim_faults_injected_total", (("rule", "always-503"), ("scenario", "fines-down")))] == 2
    assert requests_of(metrics, "GetFine", "503") == 2


def test_payments_are_counted_by_state_at_scrape_time(client, mint):
    from support.payments import payment_body, new_key

    token = mint(["payments"], session="metrics-pay")
    headers = {**bearer(token), "X-Gosim-Session": "metrics-pay", "Idempotency-Key": new_key()}
    assert client.post("/api/v1/payments", json=payment_body(), headers=headers).status_code == 201
    metrics = samples(client.get("/metrics").text)
    assert metrics[("gosim_payments", (("state", "created"),))] >= 1
    assert ("gosim_webhook_attempts_total", (("outcome", "delivered"),)) in metrics


def test_metrics_sit_at_the_root_beside_the_identity_provider(client):
    assert client.get("/.well-known/openid-configuration").status_code == 200
    assert client.get("/oauth2/jwks").status_code == 200
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert client.post("/metrics").status_code == 405


def test_metrics_are_neither_faulted_by_scenarios_nor_journaled(client):
    assert client.post("/_sim/scenarios/portal-outage/enable").status_code == 200
    assert client.get("/api/v1/fines").status_code == 503  # the outage is on for portal calls
    assert client.get("/metrics").status_code == 200
    journal = client.get("/_sim/requests", params={"limit": 100}).json()["items"]
    assert journal and all(entry.get("path") != "/metrics" for entry in journal)
