"""A payment's life in-process: settle, fine shows paid, receipt; cancel; forced outcomes; list; settlement modes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import CLOCK_START, bearer
from support.payments import (
    ANNULLED_ACCOUNT,
    CAMERA_FINE,
    DECLINE_ACCOUNT,
    HOLD_ACCOUNT,
    PLAIN_FINE,
    TAX_DEBT,
    new_key,
    payment_body,
)

from simulator.app import create_app
from simulator.settings import Settings

UUID_ZERO = "00000000-0000-7000-8000-000000000000"


@pytest.fixture
def bank(mint) -> dict[str, str]:
    return bearer(mint(["payments"], oid=None, ttl=31536000))


def create(client, headers, body, **extra):
    r = client.post("/api/v1/payments", json=body, headers={**headers, "Idempotency-Key": new_key(), **extra})
    assert r.status_code == 201, r.text
    return r.json()


def check(client, headers, pid):
    r = client.get(f"/api/v1/payments/{pid}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def statuses(payment):
    return [h["status"] for h in payment["history"]]


def test_a_payment_settles_on_the_first_check_and_the_fine_shows_it_paid(client, bank, mint):
    payment = create(client, bank, payment_body())
    settled = check(client, bank, payment["id"])
    assert settled["status"] == "succeeded"
    assert statuses(settled) == ["created", "processing", "succeeded"]
    assert settled["quittance"] == {"status": "matched", "payment_id": payment["id"], "amount": 25000,
                                    "date": settled["updated_at"]}
    citizen = bearer(mint(["fines"], oid=1000000001, ttl=31536000))
    fine = client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=citizen).json()
    assert (fine["status"], fine["amount_due"], fine["paid_amount"]) == ("paid", 0, 25000)
    assert fine["quittance"]["payment_id"] == payment["id"]
    # The discount holds: paid inside the window, the fine stays paid after the window closes.
    client.post("/_sim/clock/advance", json={"duration": "P30D"})
    assert client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=citizen).json()["status"] == "paid"


def test_a_debt_can_be_paid_too(client, bank, mint):
    payment = create(client, bank, payment_body(uin=TAX_DEBT))
    assert check(client, bank, payment["id"])["status"] == "succeeded"
    debt = client.get(f"/api/v1/debts/{TAX_DEBT}", headers=bearer(mint(["debts"], oid=1000000003))).json()
    assert (debt["status"], debt["amount_due"]) == ("paid", 0)


def test_the_receipt_of_a_succeeded_payment_as_json_and_printable_html(client, bank):
    payment = create(client, bank, payment_body())
    check(client, bank, payment["id"])
    r = client.get(f"/api/v1/payments/{payment['id']}/receipt", headers=bank)
    assert r.status_code == 200
    receipt = r.json()
    assert (receipt["payment_id"], receipt["amount"], receipt["uin"]) == (payment["id"], 25000, CAMERA_FINE)
    assert receipt["payee"]["inn"] == "7706012716" and receipt["payee"]["kbk"] == "18811601123010001140"
    assert receipt["date"] == "2026-03-02"
    for how in ({"params": {"format": "html"}}, {"headers": {"Accept": "text/html,application/xhtml+xml"}}):
        headers = {**bank, **how.get("headers", {})}
        html = client.get(f"/api/v1/payments/{payment['id']}/receipt", params=how.get("params"), headers=headers)
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        assert "250,00" in html.text and receipt["receipt_number"] in html.text and "7706012716" in html.text


def test_a_receipt_before_success_is_a_409_naming_the_state(client, bank):
    payment = create(client, bank, payment_body())
    r = client.get(f"/api/v1/payments/{payment['id']}/receipt", headers=bank)
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["current_status"]) == ("PAYMENT_STATE_CONFLICT", "created")


def test_create_then_cancel_frees_the_charge(client, bank):
    payment = create(client, bank, payment_body())
    r = client.post(f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "клиент передумал"}, headers=bank)
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"]["reason"] == "клиент передумал"
    assert statuses(cancelled) == ["created", "cancelled"]
    assert check(client, bank, payment["id"])["status"] == "cancelled"  # checks no longer move it
    assert create(client, bank, payment_body())["status"] == "created"  # the charge is free again


def test_cancel_without_a_body_works(client, bank):
    payment = create(client, bank, payment_body())
    assert client.post(f"/api/v1/payments/{payment['id']}/cancel", headers=bank).json()["status"] == "cancelled"


def test_cancel_after_success_is_a_409_payment_state_conflict_naming_the_state(client, bank):
    payment = create(client, bank, payment_body())
    check(client, bank, payment["id"])
    r = client.post(f"/api/v1/payments/{payment['id']}/cancel", headers=bank)
    assert r.status_code == 409
    body = r.json()
    assert (body["code"], body["current_status"], body["action"]) == ("PAYMENT_STATE_CONFLICT", "succeeded", "cancel")


def test_cancelling_twice_is_a_409(client, bank):
    payment = create(client, bank, payment_body())
    client.post(f"/api/v1/payments/{payment['id']}/cancel", headers=bank)
    r = client.post(f"/api/v1/payments/{payment['id']}/cancel", headers=bank)
    assert (r.status_code, r.json()["current_status"]) == (409, "cancelled")


def test_a_magic_account_forces_a_rejection_with_its_reason_and_the_fine_stays_unpaid(client, bank, mint):
    payment = create(client, bank, payment_body(payer={"name": "Иванов", "account": DECLINE_ACCOUNT}))
    rejected = check(client, bank, payment["id"])
    assert rejected["status"] == "rejected"
    assert rejected["rejection"]["code"] == "INSUFFICIENT_FUNDS" and rejected["rejection"]["message"]
    assert rejected["history"][-1] == {"status": "rejected", "at": rejected["updated_at"], "reason": "INSUFFICIENT_FUNDS"}
    assert rejected["quittance"] is None
    fine = client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=bearer(mint(["fines"], oid=1000000001))).json()
    assert fine["status"] == "unpaid" and fine["amount_due"] == 25000
    assert create(client, bank, payment_body())["status"] == "created"  # a rejection frees the charge


def test_an_annulled_charge_is_rejected_without_processing(client, bank):
    payment = create(client, bank, payment_body(payer={"name": "Иванов", "account": ANNULLED_ACCOUNT}))
    rejected = check(client, bank, payment["id"])
    assert statuses(rejected) == ["created", "rejected"]
    assert rejected["rejection"]["code"] == "CHARGE_ANNULLED"


def test_a_held_payment_stays_processing_until_cancelled(client, bank):
    payment = create(client, bank, payment_body(payer={"name": "Иванов", "account": HOLD_ACCOUNT}))
    for _ in range(5):
        assert check(client, bank, payment["id"])["status"] == "processing"
    client.post("/_sim/clock/advance", json={"duration": "P1D"})
    assert check(client, bank, payment["id"])["status"] == "processing"
    cancelled = client.post(f"/api/v1/payments/{payment['id']}/cancel", headers=bank).json()
    assert statuses(cancelled) == ["created", "processing", "cancelled"]


def test_after_checks_n_settles_on_the_nth_check(client, bank):
    payment = create(client, bank, payment_body(), **{"X-Gosim-Settlement": "after_checks:3"})
    assert payment["settlement"] == "after_checks:3"
    assert [check(client, bank, payment["id"])["status"] for _ in range(4)] == [
        "processing", "processing", "succeeded", "succeeded"]


def test_immediate_settlement_answers_the_settled_payment_at_once(client, bank):
    payment = create(client, bank, payment_body(), **{"X-Gosim-Settlement": "immediate"})
    assert payment["status"] == "succeeded"
    assert statuses(payment) == ["created", "processing", "succeeded"]


def test_settlement_after_simulated_time(client, bank):
    payment = create(client, bank, payment_body(), **{"X-Gosim-Settlement": "after:PT10M"})
    assert payment["status"] == "created"
    assert check(client, bank, payment["id"])["status"] == "processing"
    client.post("/_sim/clock/advance", json={"duration": "PT10M"})
    settled = check(client, bank, payment["id"])
    assert settled["status"] == "succeeded"
    # It settled when its time ran out, whenever somebody looked; processing began when it was created.
    created = datetime.fromisoformat(payment["created_at"].replace("Z", "+00:00"))
    assert settled["history"][1] == {"status": "processing", "at": payment["created_at"]}
    assert datetime.fromisoformat(settled["history"][2]["at"].replace("Z", "+00:00")) == created + timedelta(minutes=10)


def test_a_time_settled_payment_cannot_be_cancelled_once_its_time_passed(client, bank):
    payment = create(client, bank, payment_body(), **{"X-Gosim-Settlement": "after:PT1H"})
    client.post("/_sim/clock/advance", json={"duration": "PT2H"})
    r = client.post(f"/api/v1/payments/{payment['id']}/cancel", headers=bank)
    assert (r.status_code, r.json()["current_status"]) == (409, "succeeded")
    assert check(client, bank, payment["id"])["status"] == "succeeded"


def test_the_server_setting_chooses_the_default_settlement():
    settings = Settings.from_env({}, storage="memory://", validate_responses=True, clock_start=CLOCK_START,
                                 payment_settlement="immediate")
    with create_app(settings).test_client() as c:
        token = c.post("/_sim/tokens", json={"client_id": "demo-bank", "scopes": ["payments"]}).json()["access_token"]
        payment = create(c, bearer(token), payment_body())
    assert (payment["status"], payment["settlement"]) == ("succeeded", "immediate")


def test_an_unknown_payment_is_a_404_payment_not_found(client, bank):
    for r in (client.get(f"/api/v1/payments/{UUID_ZERO}", headers=bank),
              client.post(f"/api/v1/payments/{UUID_ZERO}/cancel", headers=bank),
              client.get(f"/api/v1/payments/{UUID_ZERO}/receipt", headers=bank)):
        assert (r.status_code, r.json()["code"]) == (404, "PAYMENT_NOT_FOUND")


def test_a_malformed_payment_id_is_a_400_not_a_500(client, bank):
    r = client.get("/api/v1/payments/not-an-id", headers=bank)
    assert r.status_code == 400


def test_another_clients_payment_is_not_found(client, bank, mint):
    payment = create(client, bank, payment_body())
    other = bearer(mint(["payments"], oid=None, client_id="strict-bank"))
    r = client.get(f"/api/v1/payments/{payment['id']}", headers=other)
    # strict-bank is also IP-restricted; from the test client's address that comes first, and nothing leaks either way.
    assert r.status_code in (403, 404)


def test_list_filters_by_uin_and_status_newest_first_and_pages(client, bank):
    first = create(client, bank, payment_body())
    client.post(f"/api/v1/payments/{first['id']}/cancel", headers=bank)
    second = create(client, bank, payment_body())
    third = create(client, bank, payment_body(uin=PLAIN_FINE))
    everything = client.get("/api/v1/payments", headers=bank).json()
    assert [p["id"] for p in everything["items"]] == [third["id"], second["id"], first["id"]]
    assert everything["total"] == 3 and everything["next_cursor"] is None
    by_uin = client.get("/api/v1/payments", params={"uin": CAMERA_FINE}, headers=bank).json()
    assert [p["id"] for p in by_uin["items"]] == [second["id"], first["id"]]
    cancelled = client.get("/api/v1/payments", params={"status": "cancelled"}, headers=bank).json()
    assert [p["id"] for p in cancelled["items"]] == [first["id"]]
    page1 = client.get("/api/v1/payments", params={"limit": 2}, headers=bank).json()
    page2 = client.get("/api/v1/payments", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=bank).json()
    assert [p["id"] for p in page1["items"] + page2["items"]] == [p["id"] for p in everything["items"]]
    assert client.get("/api/v1/payments", params={"cursor": "garbage"}, headers=bank).status_code == 400


def test_list_settles_time_based_payments_before_filtering(client, bank):
    create(client, bank, payment_body(), **{"X-Gosim-Settlement": "after:PT1M"})
    client.post("/_sim/clock/advance", json={"duration": "PT1M"})
    listed = client.get("/api/v1/payments", params={"status": "succeeded"}, headers=bank).json()
    assert listed["total"] == 1
