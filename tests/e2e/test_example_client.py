"""examples/bank_client.py against the real server: a fine is paid exactly once through faults, expiry and lost answers."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

_spec = importlib.util.spec_from_file_location("bank_client", Path(__file__).parents[2] / "examples" / "bank_client.py")
bank_client = importlib.util.module_from_spec(_spec)
sys.modules["bank_client"] = bank_client
_spec.loader.exec_module(bank_client)

CAMERA_FINE = "18810186987973091146"  # citizen 1000000001, inside its discount window: 25000 due
LOST_ANSWER = {  # the payment is created, then the connection is reset before the bank hears back
    "name": "lost-create-answer",
    "rules": [{"match": {"operation": "CreatePayment"}, "when": {"first": 1}, "break": {"mode": "reset", "after_handler": True}}],
}


@pytest.fixture
def receiver():
    r = bank_client.WebhookReceiver(secret="whsec_demo_bank")
    yield r
    r.close()


@pytest.fixture
def bank(gosim):
    b = bank_client.BankClient(gosim.base_url, gosim.session, retry=bank_client.Retry(base=0.05, cap=2))
    yield b
    b.close()


def creates(gosim) -> list[int]:
    return [e["status"] for e in reversed(gosim.journal(operation="CreatePayment"))]


@pytest.mark.parametrize("scenario", [None, "flaky-payments", "expiring-tokens-storm", LOST_ANSWER],
                         ids=["calm", "flaky-payments", "expiring-tokens-storm", "lost-answer"])
def test_the_example_bank_pays_a_fine_exactly_once(gosim, bank, receiver, scenario):
    if scenario:
        gosim.enable_scenario(scenario)
    bank.link_account(gosim.walk_login)
    gosim.advance_clock("PT2H")  # both access tokens (1 h) are now really expired: the bank must refresh

    payment = bank_client.pay_first_fine(bank, receiver)

    assert payment["status"] == "succeeded" and payment["uin"] == CAMERA_FINE and payment["amount"] == 25000
    assert bank.refreshes >= 1
    if scenario:  # the checks below must not be faulted themselves
        gosim.disable_scenario(scenario if isinstance(scenario, str) else scenario["name"])
    check = gosim.mint_token(oid=1000000001, scopes=["fines", "payments"])
    payments = gosim.client.get("/api/v1/payments", params={"uin": CAMERA_FINE}, headers=gosim.auth(check)).json()
    assert [p["id"] for p in payments["items"]] == [payment["id"]]
    fine = gosim.client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=gosim.auth(check)).json()
    assert fine["status"] == "paid" and fine["amount_due"] == 0
    succeeded = [e for e in receiver.events.values() if e["type"] == "payment.succeeded"]
    assert len(succeeded) == 1 and receiver.rejected == 0
    if scenario == "flaky-payments":
        assert creates(gosim) == [502, 504, 201]
    elif scenario is LOST_ANSWER:
        assert creates(gosim) == [0, 201]  # the second is the idempotent replay of the first
    elif scenario == "expiring-tokens-storm":
        # About 30 % of calls answer 401: the client refreshes and retries with the same key until the 201.
        statuses = creates(gosim)
        assert statuses[-1] == 201 and set(statuses[:-1]) <= {401}
    else:
        assert creates(gosim) == [201]


def test_the_example_waits_as_long_as_retry_after_says(gosim, receiver):
    waits: list[float] = []
    bank = bank_client.BankClient(gosim.base_url, gosim.session, retry=bank_client.Retry(sleep=waits.append))
    gosim.enable_scenario({"name": "fines-blip", "rules": [
        {"match": {"operation": "ListFines"}, "when": {"first": 2}, "status": 503, "retry_after": 7}]})
    bank.link_account(gosim.walk_login)
    assert len(bank.fines()) == 2
    assert waits == [7.0, 7.0]
    bank.close()


def test_backoff_doubles_without_retry_after_and_stays_under_the_cap():
    retry = bank_client.Retry(base=0.5, cap=3)
    assert [retry.delay(n, None) <= min(3, 0.5 * 2 ** n) for n in range(6)] == [True] * 6
    assert retry.delay(4, None) >= 1.5  # half of the cap at least, with jitter
    answer = httpx.Response(503, headers={"Retry-After": "120"})
    assert retry.delay(0, answer) == 3  # a long Retry-After is capped, not ignored


def test_the_receiver_refuses_a_forged_or_stale_signature(receiver):
    body = b'{"id":"evt_1","type":"payment.succeeded","data":{"payment":{"id":"p1"}}}'
    now = int(time.time())
    good = bank_client.hmac.new(b"whsec_demo_bank", f"{now}.".encode() + body, "sha256").hexdigest()
    assert bank_client.verify_signature("whsec_demo_bank", f"t={now},v1={good}", body)
    assert not bank_client.verify_signature("whsec_demo_bank", f"t={now},v1={good}", body + b" ")
    assert not bank_client.verify_signature("whsec_demo_bank", f"t={now - 301},v1={good}", body)
    forged = httpx.post(receiver.url, content=body, headers={"X-Gosim-Signature": f"t={now},v1={'0' * 64}"})
    sent = httpx.post(receiver.url, content=body, headers={"X-Gosim-Signature": f"t={now},v1={good}"})
    assert (forged.status_code, sent.status_code) == (401, 200)
    assert receiver.rejected == 1 and list(receiver.events) == ["evt_1"]
