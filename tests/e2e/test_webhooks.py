"""Signed webhooks from the real server to a receiver on 127.0.0.1: each transition once, retries, replays, timing."""

from __future__ import annotations

import time

import pytest
from support.payments import DEMO_WEBHOOK_SECRET, WebhookReceiver, live_headers, new_key, payment_body

from simulator.domain.signing import verify_webhook_signature

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    # The first delivery of the `processing` event is answered 500: gosim must retry it.
    r = WebhookReceiver(respond=lambda event, seen: 500 if event.get("type") == "payment.processing" and seen == 0 else 200)
    yield r
    r.close()


def _types(received):
    return sorted(r.headers["X-Gosim-Event-Type"] for r in received)


def test_each_transition_arrives_once_signed_and_a_500_is_retried(live_server, session_id, receiver):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
        body = payment_body(callback_url=receiver.url)
        pid = c.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
        assert c.get(f"/api/v1/payments/{pid}", headers=bank).json()["status"] == "succeeded"

    got = receiver.wait_for(lambda rs: sum(r.status == 200 for r in rs) == 3)
    assert _types(got) == ["payment.created", "payment.processing", "payment.processing", "payment.succeeded"]
    for r in got:
        assert verify_webhook_signature(DEMO_WEBHOOK_SECRET, r.headers["X-Gosim-Signature"], r.body, now=time.time())
        assert r.headers["X-Gosim-Event-Id"] == r.json["id"]
        assert r.json["type"] == r.headers["X-Gosim-Event-Type"]
        assert r.json["data"]["payment"]["id"] == pid
        assert r.json["data"]["payment"]["status"] == r.json["type"].removeprefix("payment.")
    delivered = [r for r in got if r.status == 200]
    assert len({r.headers["X-Gosim-Event-Id"] for r in delivered}) == 3  # each event delivered once
    retried = [r for r in got if r.headers["X-Gosim-Event-Type"] == "payment.processing"]
    assert [r.status for r in retried] == [500, 200]
    assert retried[0].headers["X-Gosim-Event-Id"] == retried[1].headers["X-Gosim-Event-Id"]
    assert [r.headers["X-Gosim-Delivery-Attempt"] for r in retried] == ["1", "2"]
    assert retried[0].body == retried[1].body  # same event, same bytes; only the signature's time is new

    time.sleep(1.5)  # nothing more arrives: no duplicates
    assert len(receiver.received) == 4

    with live_server.client() as c:
        journal = c.get("/_sim/webhooks", params={"payment_id": pid}, headers={"X-Gosim-Session": session_id}).json()
    by_type = {e["event_type"]: e for e in journal["items"]}
    assert {e["status"] for e in journal["items"]} == {"delivered"}
    assert [a["status_code"] for a in by_type["payment.processing"]["attempts"]] == [500, 200]
    assert by_type["payment.processing"]["attempts"][0]["next_retry_in"] == 1.0


def test_a_replay_sends_the_same_event_again(live_server, session_id, receiver):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
        body = payment_body(callback_url=receiver.url)
        pid = c.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
        receiver.wait_for(lambda rs: len(rs) == 1)
        event_id = receiver.received[0].headers["X-Gosim-Event-Id"]
        r = c.post(f"/_sim/webhooks/{event_id}/replay", headers={"X-Gosim-Session": session_id})
        assert r.status_code == 202
    got = receiver.wait_for(lambda rs: len(rs) == 2)
    assert [g.headers["X-Gosim-Event-Id"] for g in got] == [event_id, event_id]
    assert got[0].body == got[1].body
    assert got[1].json["data"]["payment"]["id"] == pid


def test_time_settled_payments_settle_and_notify_without_anyone_polling(live_server, session_id, receiver):
    with live_server.client() as c:
        bank = live_headers(c, session_id)
        body = payment_body(callback_url=receiver.url)
        r = c.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key(),
                                                             "X-Gosim-Settlement": "after:PT1H"})
        assert r.json()["status"] == "created"
        receiver.wait_for(lambda rs: {"payment.created", "payment.processing"} <= set(_types(rs)))
        assert "payment.succeeded" not in _types(receiver.received)
        c.post("/_sim/clock/advance", json={"duration": "PT1H"}, headers={"X-Gosim-Session": session_id})
    got = receiver.wait_for(lambda rs: "payment.succeeded" in _types(rs))
    assert _types(got) == ["payment.created", "payment.processing", "payment.succeeded"]


def test_a_flapping_receiver_scenario_fails_attempts_that_are_retried_until_delivered(live_server):
    session = "webhook-flapping-preset"  # fixed: the preset's seeded draws are then the same on every run
    r = WebhookReceiver()
    try:
        with live_server.client() as c:
            c.post("/_sim/reset", headers={"X-Gosim-Session": session})
            enabled = c.post("/_sim/scenarios/webhook-receiver-flapping/enable", headers={"X-Gosim-Session": session})
            assert enabled.status_code == 200, enabled.text
            bank = live_headers(c, session)
            body = payment_body(callback_url=r.url)
            pid = c.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key()}).json()["id"]
            assert c.get(f"/api/v1/payments/{pid}", headers=bank).json()["status"] == "succeeded"
        got = r.wait_for(lambda rs: len(rs) == 3, timeout=30)
        # Simulated failures never reach the receiver: it sees each event once, and every one answered 200.
        assert sorted(x.headers["X-Gosim-Event-Type"] for x in got) == [
            "payment.created", "payment.processing", "payment.succeeded"]
        with live_server.client() as c:
            journal = c.get("/_sim/webhooks", params={"payment_id": pid}, headers={"X-Gosim-Session": session}).json()
        attempts = [a for e in journal["items"] for a in e["attempts"]]
        failed = [a for a in attempts if a["error"]]
        assert failed, "the preset must have failed at least one attempt"
        assert all("scenario webhook-receiver-flapping" in a["error"] for a in failed)
        assert {e["status"] for e in journal["items"]} == {"delivered"}
    finally:
        r.close()
