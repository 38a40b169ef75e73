"""An example bank backend on gosim: link a citizen, list fines, pay one exactly once, follow it, verify webhooks."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

RETRY_STATUSES = {429, 502, 503, 504}
FINAL_STATUSES = {"succeeded", "rejected", "cancelled"}


class BankError(Exception):
    """gosim said no (a problem+json answer the bank does not retry), or retries ran out."""

    def __init__(self, response: httpx.Response | None, message: str = "") -> None:
        self.response = response
        self.problem: dict[str, Any] = {}
        if response is not None and "json" in response.headers.get("content-type", ""):
            self.problem = response.json()
        code = self.problem.get("code", "")
        status = response.status_code if response is not None else "no answer"
        super().__init__(message or f"{status} {code}: {self.problem.get('detail', '')}".strip())


# -- webhooks --------------------------------------------------------------------------------------------------------
def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """X-Gosim-Signature `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>`, at most `tolerance` s old."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


@dataclass
class WebhookReceiver:
    """The bank's webhook endpoint on 127.0.0.1 (a free port): checks signatures, keeps each event id once."""

    secret: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> event, first delivery wins
    rejected: int = 0  # deliveries with a bad signature (answered 401)
    duplicates: int = 0  # deliveries of an event already seen (answered 200, ignored)

    def __post_init__(self) -> None:
        receiver = self
        self._changed = threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._receive(self.headers.get("X-Gosim-Signature", ""), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/gosim/webhooks"

    def _receive(self, signature: str, body: bytes) -> int:
        # Verify over the raw bytes before parsing: re-serialised JSON would not match the signature.
        if not verify_signature(self.secret, signature, body):
            with self._changed:
                self.rejected += 1
            return 401
        event = json.loads(body)
        with self._changed:
            if event["id"] in self.events:  # delivery is at least once
                self.duplicates += 1
            else:
                self.events[event["id"]] = event
            self._changed.notify_all()
        return 200

    def wait_for(self, payment_id: str, event_type: str, timeout: float = 30) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((e for e in self.events.values()
                         if e["type"] == event_type and e["data"]["payment"]["id"] == payment_id), None)

        with self._changed:
            if not self._changed.wait_for(found, timeout):
                raise TimeoutError(f"no {event_type} webhook for {payment_id} in {timeout}s")
            return found()  # type: ignore[return-value]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _token_expired(response: httpx.Response) -> bool:
    return (response.status_code == 401 and "json" in response.headers.get("content-type", "")
            and response.json().get("code") == "TOKEN_EXPIRED")


# -- the bank's API client -------------------------------------------------------------------------------------------
@dataclass
class Retry:
    """Retries on 429/502/503/504 and connection errors: Retry-After when given, else exponential backoff + jitter."""

    attempts: int = 8
    base: float = 0.2
    cap: float = 10.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        after = response.headers.get("Retry-After") if response is not None else None
        if after:
            try:
                seconds = float(after)
            except ValueError:  # an HTTP date
                seconds = parsedate_to_datetime(after).timestamp() - time.time()
            return min(max(seconds, 0.0), self.cap)
        return min(self.cap, self.base * 2 ** attempt) * random.uniform(0.5, 1.0)


class BankClient:
    """demo-bank's backend: a citizen's tokens (fines) and the bank's own token (payments), both renewed on 401."""

    def __init__(self, base_url: str, session: str, *, client_id: str = "demo-bank",
                 client_secret: str = "demo-bank-secret", redirect_uri: str = "http://127.0.0.1:8081/callback",
                 retry: Retry | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.retry = retry or Retry()
        # X-Gosim-Session isolates this run from every other test run on the same gosim.
        self.http = httpx.Client(base_url=self.base_url, headers={"X-Gosim-Session": session}, timeout=30)
        self.session = session
        self.user_tokens: dict[str, Any] = {}
        self.bank_token: str | None = None
        self.refreshes = 0  # how many times a token was renewed after 401 TOKEN_EXPIRED

    def close(self) -> None:
        self.http.close()

    # -- tokens --
    def link_account(self, browser: Callable[[str], str], scope: str = "openid fullname inn fines") -> dict[str, Any]:
        """Authorization code + PKCE: `browser(authorize_url)` is the citizen's part and returns the callback URL."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        query = urlencode({"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                           "scope": scope, "state": state, "nonce": secrets.token_urlsafe(8),
                           "code_challenge": challenge, "code_challenge_method": "S256",
                           "gosim_session": self.session})
        callback = {k: v[0] for k, v in parse_qs(urlsplit(browser(f"{self.base_url}/oauth2/authorize?{query}")).query).items()}
        if callback.get("state") != state:
            raise BankError(None, "state mismatch: not our login")
        if "error" in callback:
            raise BankError(None, f"the citizen did not link the account: {callback['error']}")
        self.user_tokens = self._token({"grant_type": "authorization_code", "code": callback["code"],
                                        "redirect_uri": self.redirect_uri, "code_verifier": verifier})
        return self.user_tokens

    def _token(self, data: dict[str, str]) -> dict[str, Any]:
        r = self._send("POST", "/oauth2/token", data=data, auth=(self.client_id, self.client_secret))
        if r.status_code != 200:
            raise BankError(r)
        return r.json()

    def _renew(self, who: str) -> None:
        self.refreshes += 1
        if who == "user":
            # Refresh tokens rotate: keep the new one, the old one is spent.
            self.user_tokens = self._token({"grant_type": "refresh_token",
                                            "refresh_token": self.user_tokens["refresh_token"]})
        else:
            self.bank_token = None

    def _bearer(self, who: str) -> str:
        if who == "user":
            return self.user_tokens["access_token"]
        if self.bank_token is None:
            self.bank_token = self._token({"grant_type": "client_credentials", "scope": "payments"})["access_token"]
        return self.bank_token

    # -- calls --
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with retries; the same request (and so the same Idempotency-Key) every time."""
        for attempt in range(self.retry.attempts):
            response = None
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError:  # reset, empty reply, timeout: the answer may be lost, the effect may not
                pass
            if response is not None and response.status_code not in RETRY_STATUSES:
                return response
            if attempt + 1 < self.retry.attempts:
                self.retry.sleep(self.retry.delay(attempt, response))
        if response is None:
            raise BankError(None, f"{method} {path}: no answer after {self.retry.attempts} attempts")
        return response

    def call(self, method: str, path: str, who: str = "user", **kwargs: Any) -> httpx.Response:
        """An API call as `who` ("user": the citizen's token, "bank": the bank's); renews the token on TOKEN_EXPIRED."""
        headers = kwargs.pop("headers", {})
        for _ in range(self.retry.attempts):
            response = self._send(method, path, headers={**headers, "Authorization": f"Bearer {self._bearer(who)}"},
                                  **kwargs)
            if not _token_expired(response):
                return response
            self._renew(who)
        return response

    def profile(self) -> dict[str, Any]:
        r = self.call("GET", "/api/v1/persons/me")
        if r.status_code != 200:
            raise BankError(r)
        return r.json()

    def fines(self) -> list[dict[str, Any]]:
        r = self.call("GET", "/api/v1/fines")
        if r.status_code != 200:
            raise BankError(r)
        return r.json()["items"]

    def pay(self, fine: dict[str, Any], payer: dict[str, str], callback_url: str | None = None) -> dict[str, Any]:
        """CreatePayment for what is due now; one Idempotency-Key for every retry, so the fine is paid once."""
        key = str(uuid.uuid4())  # a real bank stores it with its own payment before the first attempt
        body: dict[str, Any] = {"uin": fine["uin"], "amount": fine["amount_due"], "payer": payer,
                                "bank_payment_id": f"bank-{key[:8]}"}
        if callback_url:
            body["callback_url"] = callback_url
        r = self.call("POST", "/api/v1/payments", who="bank", json=body, headers={"Idempotency-Key": key})
        if r.status_code != 201:
            raise BankError(r)
        return r.json()

    def status(self, payment_id: str) -> dict[str, Any]:
        r = self.call("GET", f"/api/v1/payments/{payment_id}", who="bank")
        if r.status_code != 200:
            raise BankError(r)
        return r.json()

    def wait_settled(self, payment_id: str, timeout: float = 30, interval: float = 0.2) -> dict[str, Any]:
        """CheckStatus until succeeded, rejected or cancelled."""
        deadline = time.monotonic() + timeout
        while True:
            payment = self.status(payment_id)
            if payment["status"] in FINAL_STATUSES or time.monotonic() > deadline:
                return payment
            time.sleep(interval)


def pay_first_fine(bank: BankClient, receiver: WebhookReceiver) -> dict[str, Any]:
    """With the account linked: list fines, pay the first one due, follow it to the end, wait for its webhook."""
    me = bank.profile()
    due = [f for f in bank.fines() if f["amount_due"] > 0]
    if not due:
        raise BankError(None, "nothing to pay")
    payer = {"name": " ".join(filter(None, (me.get("last_name"), me.get("first_name"), me.get("middle_name"))))}
    if me.get("inn"):
        payer["inn"] = me["inn"]
    payment = bank.pay(due[0], payer, callback_url=receiver.url)
    payment = bank.wait_settled(payment["id"])
    receiver.wait_for(payment["id"], f"payment.{payment['status']}")
    return payment


def main(argv: list[str] | None = None) -> int:
    """Run the flow against a running gosim (`gosim serve`), logging in story citizen +79160000001."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8380")
    parser.add_argument("--session", default=f"example-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--scenario", action="append", default=[], help="enable a preset first, e.g. flaky-payments")
    args = parser.parse_args(argv)

    from simulator.testing import Gosim  # the citizen's browser, as the pytest plugin drives it

    with Gosim(args.url, args.session) as sim:
        for name in args.scenario:
            sim.enable_scenario(name)
        receiver = WebhookReceiver(secret="whsec_demo_bank")
        bank = BankClient(args.url, args.session)
        try:
            bank.link_account(sim.walk_login)  # the citizen's browser: login, SMS code, consent
            payment = pay_first_fine(bank, receiver)
        finally:
            bank.close()
            receiver.close()
    print(json.dumps({"session": args.session, "payment_id": payment["id"], "status": payment["status"],
                      "amount": payment["amount"], "token_refreshes": bank.refreshes,
                      "webhooks": sorted(e["type"] for e in receiver.events.values())}, ensure_ascii=False))
    return 0 if payment["status"] == "succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
