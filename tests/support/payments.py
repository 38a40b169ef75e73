"""Helpers for payment tests: story УИНs, request bodies, keys, request signing and a local webhook receiver."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from simulator.domain.signing import request_signature

CAMERA_FINE = "18810186987973091146"  # 1000000001: 500 ₽, inside the discount window -> 25000 due
PLAIN_FINE = "18810017075364556818"  # 1000000001: 500 ₽, window closed -> 50000 due
PAID_FINE = "18810064887663440028"  # 1000000002: already paid with the discount
TAX_DEBT = "18251884472940557619"  # 1000000003: transport tax, 1275000 due
UNKNOWN_UIN = "18810100000000000007"  # valid check digit, no such charge
DUE = {CAMERA_FINE: 25000, PLAIN_FINE: 50000, TAX_DEBT: 1275000}

DECLINE_ACCOUNT = "40817810000000000002"  # INSUFFICIENT_FUNDS
HOLD_ACCOUNT = "40817810000000000009"  # stays processing until cancelled
ANNULLED_ACCOUNT = "40817810000000000006"  # CHARGE_ANNULLED
DEMO_WEBHOOK_SECRET = "whsec_demo_bank"
STRICT_SIGNING_SECRET = "sign_strict_bank"


def payment_body(uin: str = CAMERA_FINE, amount: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uin": uin, "amount": DUE.get(uin, 0) if amount is None else amount,
        "payer": {"name": "Иванов Иван Петрович", "inn": "770858813912"},
        "bank_payment_id": f"bank-{uuid.uuid4().hex[:12]}",
    }
    body.update(extra)
    return body


def new_key() -> str:
    return str(uuid.uuid4())


def signed_headers(method: str, path: str, body: bytes = b"", secret: str = STRICT_SIGNING_SECRET,
                   at: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if at is None else at)
    return {"X-Gosim-Timestamp": timestamp,
            "X-Gosim-Request-Signature": "v1=" + request_signature(secret, method, path, timestamp, body)}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP server on 127.0.0.1 (a free port) that records every POST and answers what `respond` decides."""

    respond: Callable[[dict[str, Any], int], int] = lambda event, seen: 200
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    event = json.loads(body)
                except ValueError:
                    event = {}
                with receiver._lock:
                    seen = sum(1 for r in receiver.received if r.headers.get("X-Gosim-Event-Id") == event.get("id"))
                    status = receiver.respond(event, seen)
                    receiver.received.append(Received(dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.received)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.05)
        raise AssertionError(f"the receiver did not see what was expected in {timeout}s; got "
                             f"{[(r.headers.get('X-Gosim-Event-Type'), r.status) for r in snapshot]}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def live_headers(client: Any, session: str, scopes: list[str] | None = None, oid: int | None = None,
                 client_id: str = "demo-bank") -> dict[str, str]:
    """Session and bearer headers with a fresh token from the live server's /_sim/tokens."""
    body: dict[str, Any] = {"client_id": client_id, "scopes": scopes or ["payments"], "ttl": 86400}
    if oid is not None:
        body["oid"] = oid
    r = client.post("/_sim/tokens", json=body, headers={"X-Gosim-Session": session})
    assert r.status_code == 201, r.text
    return {"X-Gosim-Session": session, "Authorization": f"Bearer {r.json()['access_token']}"}
