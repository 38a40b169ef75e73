"""CreatePayment: every refusal with its status and code, and idempotent replays byte for byte."""

from __future__ import annotations

import json

import pytest
from conftest import bearer
from support.payments import (
    CAMERA_FINE,
    PAID_FINE,
    PLAIN_FINE,
    UNKNOWN_UIN,
    new_key,
    payment_body,
    signed_headers,
)


@pytest.fixture
def bank(mint) -> dict[str, str]:
    # A year-long token, so that tests may move the simulated clock by days.
    return bearer(mint(["payments"], oid=None, ttl=31536000))


def create(client, headers, body, key=None, **extra_headers):
    h = {**headers, **extra_headers}
    if key is not False:
        h["Idempotency-Key"] = key or new_key()
    return client.post("/api/v1/payments", json=body, headers=h)


def problem(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["title"] and body["detail"]
    return body


def test_a_payment_of_the_amount_due_is_created(client, bank):
    body = payment_body()
    r = create(client, bank, body)
    assert r.status_code == 201, r.text
    payment = r.json()
    assert payment["status"] == "created"
    assert (payment["uin"], payment["amount"], payment["currency"]) == (CAMERA_FINE, 25000, "RUB")
    assert payment["bank_payment_id"] == body["bank_payment_id"]
    assert payment["requisites"]["payee_inn"] == "7706012716"
    assert payment["history"] == [{"status": "created", "at": payment["created_at"]}]
    assert r.headers["location"] == f"/api/v1/payments/{payment['id']}"
    assert "idempotent-replayed" not in r.headers


def test_a_missing_idempotency_key_is_a_422_idempotency_key_required(client, bank):
    body = problem(create(client, bank, payment_body(), key=False), 422, "IDEMPOTENCY_KEY_REQUIRED")
    assert body["errors"][0]["field"] == "Idempotency-Key"


def test_a_malformed_idempotency_key_is_a_400(client, bank):
    problem(create(client, bank, payment_body(), key="has space"), 400, "INVALID_PARAMETER")
    problem(create(client, bank, payment_body(), key="x" * 256), 400, "INVALID_PARAMETER")


def test_the_full_amount_inside_the_discount_window_is_a_422_naming_amount_and_the_expected_value(client, bank):
    body = problem(create(client, bank, payment_body(amount=50000)), 422, "AMOUNT_MISMATCH")
    assert body["errors"] == [{"field": "amount", "message": "должно быть равно 25000"}]
    assert body["expected_amount"] == 25000


def test_once_the_discount_window_closes_the_full_amount_is_due(client, bank):
    assert client.post("/_sim/clock/advance", json={"duration": "P16D"}).status_code == 200
    body = problem(create(client, bank, payment_body(amount=25000)), 422, "AMOUNT_MISMATCH")
    assert body["expected_amount"] == 50000
    assert create(client, bank, payment_body(amount=50000)).status_code == 201


def test_an_unknown_uin_is_a_404_charge_not_found(client, bank):
    problem(create(client, bank, payment_body(uin=UNKNOWN_UIN, amount=100)), 404, "CHARGE_NOT_FOUND")


def test_a_uin_with_a_wrong_check_digit_is_a_422_naming_uin(client, bank):
    body = problem(create(client, bank, payment_body(uin=CAMERA_FINE[:-1] + "0", amount=25000)), 422, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "uin"


def test_a_paid_charge_is_a_409_charge_already_paid(client, bank):
    problem(create(client, bank, payment_body(uin=PAID_FINE, amount=25000)), 409, "CHARGE_ALREADY_PAID")


def test_a_charge_with_a_payment_in_flight_is_a_409_payment_in_progress(client, bank):
    first = create(client, bank, payment_body())
    assert first.status_code == 201
    body = problem(create(client, bank, payment_body()), 409, "PAYMENT_IN_PROGRESS")
    assert body["payment_id"] == first.json()["id"]


def test_another_bank_is_not_told_which_payment_holds_the_charge(app, client, bank, mint):
    assert create(client, bank, payment_body()).status_code == 201
    other = bearer(mint(["payments"], oid=None, client_id="strict-bank"))
    with app.test_client(client=("127.0.0.1", 50000)) as local:  # strict-bank only talks from loopback
        raw = json.dumps(payment_body()).encode()
        r = local.post("/api/v1/payments", content=raw, headers={
            **other, "Idempotency-Key": new_key(), "Content-Type": "application/json",
            **signed_headers("POST", "/api/v1/payments", raw)})
    body = problem(r, 409, "PAYMENT_IN_PROGRESS")
    assert "payment_id" not in body


def test_a_paid_charge_refuses_a_second_payment_after_success(client, bank):
    first = create(client, bank, payment_body()).json()
    assert client.get(f"/api/v1/payments/{first['id']}", headers=bank).json()["status"] == "succeeded"
    problem(create(client, bank, payment_body()), 409, "CHARGE_ALREADY_PAID")


def test_the_same_key_and_body_replays_the_first_answer_byte_for_byte(client, bank):
    body, key = payment_body(), new_key()
    first = create(client, bank, body, key=key)
    again = create(client, bank, dict(reversed(list(body.items()))), key=key)  # key order does not matter
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert client.get("/api/v1/payments", headers=bank).json()["total"] == 1


def test_a_replay_answers_the_first_answer_even_after_the_payment_moved_on(client, bank):
    body, key = payment_body(), new_key()
    first = create(client, bank, body, key=key)
    assert client.get(f"/api/v1/payments/{first.json()['id']}", headers=bank).json()["status"] == "succeeded"
    again = create(client, bank, body, key=key)
    assert (again.status_code, again.content) == (201, first.content)


def test_the_same_key_with_another_body_is_a_422_idempotency_key_reused(client, bank):
    key = new_key()
    assert create(client, bank, payment_body(), key=key).status_code == 201
    problem(create(client, bank, payment_body(uin=PLAIN_FINE), key=key), 422, "IDEMPOTENCY_KEY_REUSED")


def test_a_failed_request_leaves_no_trace_so_its_key_can_be_retried(client, bank):
    key = new_key()
    problem(create(client, bank, payment_body(amount=1), key=key), 422, "AMOUNT_MISMATCH")
    assert create(client, bank, payment_body(), key=key).status_code == 201


def test_keys_are_forgotten_after_24_hours_of_simulated_time(client, bank):
    body, key = payment_body(uin=PLAIN_FINE), new_key()
    assert create(client, bank, body, key=key).status_code == 201
    assert client.post("/_sim/clock/advance", json={"duration": "PT23H59M"}).status_code == 200
    assert create(client, bank, body, key=key).headers.get("idempotent-replayed") == "true"
    assert client.post("/_sim/clock/advance", json={"duration": "PT2M"}).status_code == 200
    # Not a replay any more: the request is judged afresh, and the charge is still held by the first payment.
    problem(create(client, bank, body, key=key), 409, "PAYMENT_IN_PROGRESS")


def test_keys_belong_to_one_client(client, bank, mint):
    key = new_key()
    assert create(client, bank, payment_body(), key=key).status_code == 201
    assert create(client, bank, payment_body(uin=PLAIN_FINE), key=key).status_code == 422
    # demo-bank again but another session: a fresh namespace, so the key is new there.
    other = bearer(mint(["payments"], oid=None, session="other-run"), **{"X-Gosim-Session": "other-run"})
    assert create(client, other, payment_body(uin=PLAIN_FINE), key=key).status_code == 201


def test_a_token_without_the_payments_scope_is_a_403_insufficient_scope(client, mint):
    body = problem(create(client, bearer(mint(["fines"], oid=None)), payment_body()), 403, "INSUFFICIENT_SCOPE")
    assert body["required_scopes"] == ["payments"]


def test_no_token_is_a_401(client):
    r = create(client, {}, payment_body())
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("payer"), "payer"),
        (lambda b: b.update(amount=0), "amount"),
        (lambda b: b.update(amount="25000"), "amount"),
        (lambda b: b.update(extra=1), "extra"),
        (lambda b: b["payer"].update(account="123"), "payer.account"),
        (lambda b: b.update(bank_payment_id=""), "bank_payment_id"),
        (lambda b: b.update(callback_url="ftp://127.0.0.1/x"), "callback_url"),
        (lambda b: b.update(callback_url="http://user:pw@127.0.0.1/x"), "callback_url"),
        (lambda b: b.update(callback_url="not a url"), "callback_url"),
        (lambda b: b.update(callback_url="http://[::1/x"), "callback_url"),
        (lambda b: b.update(callback_url="http://127.0.0.1:99999/x"), "callback_url"),
    ],
)
def test_an_invalid_body_is_a_422_naming_the_field(client, bank, mutate, field):
    body = payment_body()
    mutate(body)
    problem_body = problem(create(client, bank, body), 422, "VALIDATION_FAILED")
    assert field in [e["field"] for e in problem_body["errors"]]


def test_malformed_json_a_wrong_content_type_and_a_huge_body_are_refused_not_crashed(client, bank):
    h = {**bank, "Idempotency-Key": new_key()}
    problem(client.post("/api/v1/payments", content=b'{"uin": ', headers={**h, "Content-Type": "application/json"}),
            400, "MALFORMED_JSON")
    problem(client.post("/api/v1/payments", content=b"uin=1", headers={**h, "Content-Type": "text/plain"}),
            415, "UNSUPPORTED_MEDIA_TYPE")
    huge = json.dumps(payment_body(payer={"name": "x" * 70000})).encode()
    problem(client.post("/api/v1/payments", content=huge, headers={**h, "Content-Type": "application/json"}),
            413, "PAYLOAD_TOO_LARGE")


def test_a_bad_settlement_override_is_refused(client, bank):
    problem(create(client, bank, payment_body(), **{"X-Gosim-Settlement": "tomorrow"}), 400, "INVALID_PARAMETER")
    # Well-formed but meaningless (a month has no fixed length): a 422 naming the header.
    body = problem(create(client, bank, payment_body(), **{"X-Gosim-Settlement": "after:P1M"}), 422, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "X-Gosim-Settlement"


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"1", b'{"uin": {"$ne": 1}}', b'{"payer": []}',
                                 b'{"uin": "18810186987973091146", "amount": 1e400}', "{\"uin\": \"\u0661\"}".encode()])
def test_garbage_bodies_are_4xx_never_500(client, bank, raw):
    r = client.post("/api/v1/payments", content=raw,
                    headers={**bank, "Idempotency-Key": new_key(), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text


def test_the_settlement_override_is_part_of_the_request_and_is_normalised(client, bank):
    body, key = payment_body(), new_key()
    first = create(client, bank, body, key=key, **{"X-Gosim-Settlement": "after_checks:2"})
    same = create(client, bank, body, key=key, **{"X-Gosim-Settlement": "after_checks: 2"})
    assert same.content == first.content
    problem(create(client, bank, body, key=key), 422, "IDEMPOTENCY_KEY_REUSED")
