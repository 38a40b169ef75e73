"""A client's rate limit from clients.yaml: a token bucket shared by workers, 429 with Retry-After when spent."""

from __future__ import annotations

from conftest import bearer


def test_a_rate_limited_client_gets_429_with_retry_after_once_its_burst_is_spent(client, mint):
    token = mint("fines", oid=1000000001, client_id="limited-bank")
    statuses = [client.get("/api/v1/fines", headers=bearer(token)).status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]
    r = client.get("/api/v1/fines", headers=bearer(token))
    assert r.status_code == 429
    body = r.json()
    assert body["code"] == "RATE_LIMITED"
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["ratelimit-limit"] == "3"


def test_other_clients_and_other_sessions_have_their_own_buckets(client, mint):
    limited = mint("fines", client_id="limited-bank")
    for _ in range(5):
        client.get("/api/v1/fines", headers=bearer(limited))
    assert client.get("/api/v1/fines", headers=bearer(mint("fines"))).status_code == 200
    other = mint("fines", client_id="limited-bank", session="another-run")
    r = client.get("/api/v1/fines", headers=bearer(other, **{"X-Gosim-Session": "another-run"}))
    assert r.status_code == 200
