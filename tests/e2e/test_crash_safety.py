"""CreatePayment / CancelPayment under load while a worker, then the whole server, is SIGKILLed: nothing acknowledged is lost.

One real server (gunicorn, 2 workers, SQLite) with a small generated dataset (`--data`), so that there are ~100
charges of generated citizens besides the story ones. Eight client threads cycle over the charges (create -> cancel ->
create again ... -> check, which settles the payment) and all of them also fight over four "hot" charges with fresh keys.
About a second in, one worker is SIGKILLed (gunicorn starts a new one); a second later the whole process group is.
After a restart on the same SQLite file:

* every payment the client saw acknowledged (201, 200) is there, its history a walk of the transition table, and
  in the state the client last saw acknowledged (cancelled stays cancelled; succeeded stays succeeded);
* no charge has two succeeded payments or two in flight, and each charge's own state matches its payments
  (paid amount, status, quittance);
* retrying every interrupted call with the same Idempotency-Key converges: the same payment (a replay) or a clean
  4xx with a code; replaying an acknowledged create gives the same bytes; a charge with nothing in flight can be paid.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.datagen import write_dataset
from simulator.domain.payments import STATES, TRANSITIONS
from support.payments import live_headers
from support.server import LiveServer, child_pids, start_server

pytestmark = pytest.mark.e2e

SESSION = "crash"
THREADS = 8
PERSONS = 120
HOT = 4
CLEAN_CODES = {"CHARGE_ALREADY_PAID", "PAYMENT_IN_PROGRESS", "PAYMENT_STATE_CONFLICT", "IDEMPOTENCY_KEY_REUSED",
               "AMOUNT_MISMATCH", "SERVICE_UNAVAILABLE"}
MOVES = {(a, b) for (a, _), b in TRANSITIONS.items()}


@dataclass
class Charge:
    uin: str
    oid: int
    kind: str  # "fines" | "debts"
    due: int
    paid_before: int


@dataclass
class Call:
    op: str  # create | cancel | check
    uin: str
    key: str | None = None
    body: dict | None = None
    payment_id: str | None = None
    status: int | None = None  # None: no answer (connection refused, reset, timed out)
    answer: dict = field(default_factory=dict)
    raw: bytes = b""


def _charges(server: LiveServer, data: Path) -> list[Charge]:
    people = [json.loads(line) for line in (data / "persons.jsonl").read_text(encoding="utf-8").splitlines()]
    found = []
    with server.client() as c:
        for person in people:
            if person.get("locked") or not (person.get("fines") or person.get("debts")):
                continue
            h = live_headers(c, SESSION, scopes=["fines", "debts"], oid=person["oid"])
            for kind in ("fines", "debts"):
                page = c.get(f"/api/v1/{kind}?limit=100", headers=h)
                assert page.status_code == 200, page.text
                found += [Charge(i["uin"], person["oid"], kind, i["amount_due"], i["paid_amount"])
                          for i in page.json()["items"] if i["amount_due"] > 0]
    return found


class Load:
    """The client side: every call and what (if anything) came back, for the checks after the restart."""

    def __init__(self, url: str, bank: dict[str, str], charges: list[Charge]) -> None:
        self.url, self.bank = url, bank
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.hot = charges[:HOT]
        self.cold = charges[HOT:]

    def _send(self, c: httpx.Client, call: Call, method: str, path: str, **kw: Any) -> Call:
        with self.lock:
            self.calls.append(call)  # recorded before it is sent: an interrupted call is a call too
        try:
            r = c.request(method, path, **kw)
        except httpx.HTTPError:
            return call
        call.status, call.raw = r.status_code, r.content
        try:
            call.answer = r.json()
        except ValueError:
            call.answer = {}
        return call

    def create(self, c: httpx.Client, charge: Charge) -> Call:
        body = {"uin": charge.uin, "amount": charge.due, "payer": {"name": "Нагрузка Тест"},
                "bank_payment_id": f"crash-{uuid.uuid4().hex[:12]}"}
        call = Call("create", charge.uin, key=str(uuid.uuid4()), body=body)
        return self._send(c, call, "POST", "/api/v1/payments", json=body,
                          headers={**self.bank, "Idempotency-Key": call.key})

    def cancel(self, c: httpx.Client, uin: str, pid: str) -> Call:
        return self._send(c, Call("cancel", uin, payment_id=pid), "POST", f"/api/v1/payments/{pid}/cancel",
                          json={"reason": "crash test"}, headers=self.bank)

    def check(self, c: httpx.Client, uin: str, pid: str) -> Call:
        return self._send(c, Call("check", uin, payment_id=pid), "GET", f"/api/v1/payments/{pid}", headers=self.bank)

    def run(self, seed: int) -> None:
        rnd = random.Random(seed)
        mine = [ch for i, ch in enumerate(self.cold) if i % THREADS == seed]
        with httpx.Client(base_url=self.url, timeout=5) as c:
            while not self.stop.is_set():
                for charge in [rnd.choice(self.hot), *rnd.sample(mine, min(3, len(mine)))]:
                    if self.stop.is_set():
                        return
                    made = self.create(c, charge)
                    if made.status is None:
                        time.sleep(0.05)  # the server is down or restarting a worker
                        continue
                    if made.status != 201:
                        continue
                    pid = made.answer["id"]
                    if rnd.random() < 0.75:
                        self.cancel(c, charge.uin, pid)
                    else:
                        self.check(c, charge.uin, pid)  # after_checks:1 -> succeeded, the charge is paid


def _valid_history(payment: dict) -> bool:
    states = [h["status"] for h in payment["history"]]
    return (states[0] == "created" and states[-1] == payment["status"] and set(states) <= set(STATES)
            and all((a, b) in MOVES for a, b in zip(states, states[1:])))


@pytest.fixture
def crash_dir(tmp_path) -> Path:
    write_dataset(20260302, PERSONS, tmp_path / "data")
    return tmp_path


def test_acknowledged_payments_survive_sigkill_of_a_worker_and_then_of_the_server(crash_dir):
    args = ["--data", str(crash_dir / "data")]
    server = start_server(crash_dir, workers=2, args=args)
    try:
        charges = _charges(server, crash_dir / "data")
        assert len(charges) >= 40, f"the generated dataset has only {len(charges)} payable charges"
        with server.client() as c:
            load = Load(server.url, live_headers(c, SESSION), charges)
        threads = [threading.Thread(target=load.run, args=(i,), daemon=True) for i in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        workers = child_pids(server.process.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)  # one worker dies mid-request; gunicorn starts another
        time.sleep(1.5)
        answered_before_kill = sum(1 for call in load.calls if call.status is not None)
        server.kill()  # SIGKILL to the whole process group: master and workers
        time.sleep(0.3)
        load.stop.set()
        for t in threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in threads)
    finally:
        server.stop()

    calls = load.calls
    assert answered_before_kill >= 100, f"too little load to mean anything: {answered_before_kill} answers"
    assert not [c for c in calls if c.status is not None and c.status >= 500 and c.answer.get("code") not in CLEAN_CODES], \
        "a 5xx under load"
    acked_creates = [c for c in calls if c.op == "create" and c.status == 201]
    assert len({c.answer["id"] for c in acked_creates}) >= 30
    assert any(c.status is None for c in calls), "no call was interrupted: the kills came too late to test anything"

    restarted = start_server(crash_dir, workers=2, args=args)  # same directory, same state.db
    try:
        with restarted.client() as c:
            bank = live_headers(c, SESSION)  # a new token: the issuer names the new port

            # 1. Everything acknowledged is there, with a valid history, in the state last acknowledged.
            last_seen: dict[str, str] = {}
            for call in calls:
                if call.status in (200, 201) and "id" in call.answer:
                    last_seen[call.answer["id"]] = call.answer["status"]
            payments: dict[str, dict] = {}
            for pid, seen in last_seen.items():
                r = c.get(f"/api/v1/payments/{pid}", headers=bank)
                assert r.status_code == 200, (pid, r.text)
                payment = r.json()
                payments[pid] = payment
                assert _valid_history(payment), payment["history"]
                if seen in ("cancelled", "succeeded"):
                    assert payment["status"] == seen, (pid, seen, payment["status"])

            # 2. Interrupted calls, retried with the same key, converge.
            for call in [c_ for c_ in calls if c_.status is None]:
                if call.op == "create":
                    r = c.post("/api/v1/payments", json=call.body, headers={**bank, "Idempotency-Key": call.key})
                    assert r.status_code == 201 or (r.status_code in (409, 422) and r.json()["code"] in CLEAN_CODES), \
                        r.text
                    if r.status_code == 201:
                        payments.setdefault(r.json()["id"], r.json())
                elif call.op == "cancel":
                    r = c.post(f"/api/v1/payments/{call.payment_id}/cancel", json={"reason": "retry"}, headers=bank)
                    assert r.status_code == 200 and r.json()["status"] == "cancelled" or (
                        r.status_code == 409 and r.json()["code"] == "PAYMENT_STATE_CONFLICT"), r.text
                else:
                    assert c.get(f"/api/v1/payments/{call.payment_id}", headers=bank).status_code == 200

            # 3. An acknowledged create replays byte for byte under its key.
            for call in acked_creates[:150]:
                r = c.post("/api/v1/payments", json=call.body, headers={**bank, "Idempotency-Key": call.key})
                assert (r.status_code, r.content) == (201, call.raw), (call.key, r.text)
                assert r.headers.get("idempotent-replayed") == "true"

            # 4. Per charge: paid at most once, at most one in flight, and the charge's own state agrees.
            by_uin: dict[str, list[dict]] = defaultdict(list)
            for charge in {ch.uin: ch for ch in charges}.values():
                page = c.get("/api/v1/payments", params={"uin": charge.uin, "limit": 100}, headers=bank)
                assert page.status_code == 200, page.text
                by_uin[charge.uin] = page.json()["items"]
            tokens: dict[int, dict] = {}
            paid_charges = 0
            for charge in {ch.uin: ch for ch in charges}.values():
                items = by_uin[charge.uin]
                assert all(_valid_history(p) for p in items)
                succeeded = [p for p in items if p["status"] == "succeeded"]
                active = [p for p in items if p["status"] in ("created", "processing")]
                assert len(succeeded) <= 1, f"{charge.uin} paid {len(succeeded)} times"
                assert len(active) <= 1 and not (succeeded and active), (charge.uin, [p["status"] for p in items])
                if charge.oid not in tokens:
                    tokens[charge.oid] = live_headers(c, SESSION, scopes=["fines", "debts"], oid=charge.oid)
                view = c.get(f"/api/v1/{charge.kind}/{charge.uin}", headers=tokens[charge.oid]).json()
                paid_now = view["paid_amount"] - charge.paid_before
                assert paid_now == sum(p["amount"] for p in succeeded), (charge.uin, view["paid_amount"], succeeded)
                if succeeded:
                    paid_charges += 1
                    assert view["status"] == "paid" and view["quittance"]["payment_id"] == succeeded[0]["id"]
                    again = c.post("/api/v1/payments", json={"uin": charge.uin, "amount": charge.due,
                                                            "payer": {"name": "Повтор"}, "bank_payment_id": "after-crash"},
                                   headers={**bank, "Idempotency-Key": str(uuid.uuid4())})
                    assert (again.status_code, again.json()["code"]) == (409, "CHARGE_ALREADY_PAID")
                elif active:
                    again = c.post("/api/v1/payments", json={"uin": charge.uin, "amount": charge.due,
                                                            "payer": {"name": "Повтор"}, "bank_payment_id": "after-crash"},
                                   headers={**bank, "Idempotency-Key": str(uuid.uuid4())})
                    assert (again.status_code, again.json()["code"]) == (409, "PAYMENT_IN_PROGRESS")
                else:
                    # nothing in flight and nothing paid: no stale lock may keep the charge from being paid
                    fresh = c.post("/api/v1/payments", json={"uin": charge.uin, "amount": view["amount_due"],
                                                            "payer": {"name": "После сбоя"}, "bank_payment_id": "after-crash"},
                                   headers={**bank, "Idempotency-Key": str(uuid.uuid4())})
                    assert fresh.status_code == 201, (charge.uin, fresh.text)
            assert paid_charges >= 1
    finally:
        restarted.stop()
    _report({"calls": len(calls), "answered_before_kill": answered_before_kill,
             "interrupted": sum(1 for c_ in calls if c_.status is None),
             "acknowledged_creates": len(acked_creates), "payments_checked": len(payments),
             "charges": len({ch.uin for ch in charges}), "charges_paid": paid_charges,
             "by_status": {s: sum(1 for p in payments.values() if p["status"] == s) for s in STATES}})


def _report(numbers: dict) -> None:
    """The run's numbers, for docs/reliability.md (test-artifacts/ is not checked in)."""
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "crash-safety.json").write_text(json.dumps(numbers, indent=1), encoding="utf-8")
