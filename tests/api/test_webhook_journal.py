"""The webhook outbox in-process: one event per state change, written with the change, journaled and replayable."""

from __future__ import annotations

import pytest
from conftest import bearer
from support.payments import HOLD_ACCOUNT, new_key, payment_body


@pytest.fixture
def bank(mint) -> dict[str, str]:
    return bearer(mint(["payments"], oid=None))


def test_every_state_change_is_one_event_in_the_journal(client, bank):
    body = payment_body(callback_url="http://127.0.0.1:9/hooks")  # nothing listens there: attempts fail and retry
    pid = client.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
    client.get(f"/api/v1/payments/{pid}", headers=bank)
    journal = client.get("/_sim/webhooks", params={"payment_id": pid}).json()["items"]
    assert [e["event_type"] for e in journal] == ["payment.created", "payment.processing", "payment.succeeded"]
    assert {e["url"] for e in journal} == {"http://127.0.0.1:9/hooks"}
    assert [e["payload"]["data"]["payment"]["status"] for e in journal] == ["created", "processing", "succeeded"]
    assert [e["payload"]["data"]["sequence"] for e in journal] == [1, 2, 3]
    assert journal[2]["payload"]["data"]["previous_status"] == "processing"
    assert all(e["id"] == e["payload"]["id"] and e["id"].startswith("evt_") for e in journal)


def test_without_a_callback_url_events_go_to_the_clients_registered_url(client, bank):
    pid = client.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
    journal = client.get("/_sim/webhooks", params={"payment_id": pid, "event_type": "payment.created"}).json()["items"]
    assert len(journal) == 1 and journal[0]["url"] == "http://127.0.0.1:8082/gosim/webhooks"


def test_a_replay_of_an_unknown_event_is_a_404_and_a_malformed_id_a_400(client):
    r = client.post("/_sim/webhooks/evt_" + "0" * 32 + "/replay")
    assert (r.status_code, r.json()["code"]) == (404, "WEBHOOK_DELIVERY_NOT_FOUND")
    assert client.post("/_sim/webhooks/nope/replay").status_code == 400


def test_a_replay_queues_the_same_event_again(client, bank):
    pid = client.post("/api/v1/payments", json=payment_body(payer={"name": "И", "account": HOLD_ACCOUNT},
                                                            callback_url="http://127.0.0.1:9/x"),
                      headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
    event = client.get("/_sim/webhooks", params={"payment_id": pid}).json()["items"][0]
    r = client.post(f"/_sim/webhooks/{event['id']}/replay")
    assert r.status_code == 202
    assert (r.json()["id"], r.json()["replays"], r.json()["status"]) == (event["id"], 1, "pending")


def test_the_journal_is_per_session_and_reset_clears_it(client, bank):
    client.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()})
    assert client.get("/_sim/webhooks").json()["items"]
    assert client.get("/_sim/webhooks", headers={"X-Gosim-Session": "elsewhere"}).json()["items"] == []
    client.post("/_sim/reset")
    assert client.get("/_sim/webhooks").json()["items"] == []


def test_the_journal_pages_with_a_cursor(client, bank):
    pid = client.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
    client.get(f"/api/v1/payments/{pid}", headers=bank)
    page1 = client.get("/_sim/webhooks", params={"limit": 2}).json()
    page2 = client.get("/_sim/webhooks", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    assert len(page1["items"]) == 2 and len(page2["items"]) == 1 and page2["next_cursor"] is None
    assert client.get("/_sim/webhooks", params={"cursor": "Zm9v"}).status_code == 400
