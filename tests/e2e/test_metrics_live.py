"""/metrics on a real two-worker server counts exactly what the test did, and each request leaves one masked JSON line."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.payments import CAMERA_FINE, UNKNOWN_UIN, live_headers, new_key, payment_body
from support.server import start_server

pytestmark = pytest.mark.e2e
SNILS = "112-233-445 95"


def scrape(url: str) -> dict:
    r = httpx.get(f"{url}/metrics", timeout=10)
    assert r.status_code == 200, r.text
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def requests_total(metrics: dict, operation: str, status: str, method: str = "GET") -> float:
    return metrics.get(("gosim_http_requests_total", (("method", method), ("operation", operation),
                                                       ("status", status))), 0.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("metrics"), workers=2, extra_env={"GOSIM_LOG_FORMAT": "json"})
    yield srv
    srv.stop()


def test_metrics_of_two_workers_add_up_to_what_the_test_did(server):
    session = "metrics-live"
    with server.client() as admin:
        headers = live_headers(admin, session, scopes=["fines", "payments"], oid=1000000001)
        scenario = {"name": "fines-down", "enabled": True,
                    "rules": [{"name": "always-503", "match": {"operation": "ListDebts"}, "status": 503}]}
        assert admin.post("/_sim/scenarios", json=scenario, headers={"X-Gosim-Session": session}).status_code == 201
    workers = set()
    # A fresh connection per call: gunicorn hands connections to whichever worker accepts first, so both answer.
    for _ in range(12):
        assert httpx.get(f"{server.url}/api/v1/fines/{CAMERA_FINE}", headers=headers).status_code == 200
        workers.add(httpx.get(f"{server.url}/_sim/health").json()["worker"])
    for _ in range(3):
        assert httpx.get(f"{server.url}/api/v1/fines/{UNKNOWN_UIN}", headers=headers).status_code == 404
    for _ in range(2):
        r = httpx.get(f"{server.url}/api/v1/debts", headers=headers)
        assert r.status_code == 503 and r.headers["x-gosim-fault"] == "fines-down/always-503"
    r = httpx.post(f"{server.url}/api/v1/payments", json=payment_body(),
                   headers={**headers, "Idempotency-Key": new_key()})
    assert r.status_code == 201, r.text

    expected = {  # every call's worker must have flushed, the payment's included: wait for all of them
        ("GetFine", "200", "GET"): 12, ("GetFine", "404", "GET"): 3, ("ListDebts", "503", "GET"): 2,
        ("CreatePayment", "201", "POST"): 1,
    }
    deadline = time.monotonic() + 10  # other workers flush every ~0.5 s from their dispatcher thread
    while True:
        metrics = scrape(server.url)
        got = {key: requests_total(metrics, *key) for key in expected}
        if got == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got == expected
    assert metrics[("gosim_faults_injected_total", (("rule", "always-503"), ("scenario", "fines-down")))] == 2
    assert metrics[("gosim_payments", (("state", "created"),))] == 1
    assert metrics[("gosim_http_request_duration_seconds_count", (("operation", "GetFine"),))] == 15
    assert metrics[("gosim_metrics_workers", ())] >= len(workers) >= 1


def test_each_request_leaves_one_json_line_with_its_id_and_no_personal_data(server):
    with server.client() as c:
        headers = live_headers(c, "log-live", scopes=["fines"], oid=1000000001)
        token = headers["Authorization"].split()[1]
        r = c.get("/api/v1/fines", params={"snils": SNILS, "token": token},
                  headers={**headers, "X-Request-Id": "live-rid-1"})
        assert r.headers["x-request-id"] == "live-rid-1"
        generated = c.get("/_sim/health").headers["x-request-id"]
    deadline = time.monotonic() + 5
    lines: list[dict] = []
    while time.monotonic() < deadline:
        text = server.log.read_text(encoding="utf-8")
        lines = [json.loads(x) for x in text.splitlines() if x.startswith("{") and '"gosim.access"' in x]
        if {"live-rid-1", generated} <= {line["request_id"] for line in lines}:
            break
        time.sleep(0.1)
    mine = [line for line in lines if line["request_id"] == "live-rid-1"]
    assert len(mine) == 1
    assert mine[0]["session"] == "log-live" and mine[0]["client"] == "demo-bank" and mine[0]["method"] == "GET"
    assert mine[0]["operation"] == "ListFines" and mine[0]["path"] == "/api/v1/fines"
    text = server.log.read_text(encoding="utf-8")
    assert SNILS not in text and "112-233-445" not in text and token not in text
    assert any(line["request_id"] == generated for line in lines)
