"""CPU cost of one call through the whole app, in process (no sockets): µs of process time per call.

Run: `.venv/bin/python bench/inproc.py [N]`. It drives the ASGI app the way uvicorn would, with a 64-deep pipeline of
concurrent calls, and prints the CPU microseconds per authenticated GetFine, a few other reads, and CreatePayment (one
at a time, each for another charge of a generated dataset). The number is
process time, so other load on the machine barely moves it: the tool for A/B-ing a change to the request path.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.app import create_app  # noqa: E402
from simulator.settings import Settings  # noqa: E402

UIN = "18810186987973091146"
OVERRIDES: dict = {}


async def call(app, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> tuple[int, bytes]:
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), *headers] + ([(b"content-length", str(len(body)).encode())] if body else []), "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def run(app, n: int, method: str, path: str, headers, concurrency: int = 64) -> float:
    async def worker(count: int):
        for _ in range(count):
            status, body = await call(app, method, path, headers)
            if status != 200:
                raise SystemExit(f"{path}: {status} {body[:300]!r}")

    per = n // concurrency
    started = time.process_time()
    await asyncio.gather(*(worker(per) for _ in range(concurrency)))
    return (time.process_time() - started) / (per * concurrency) * 1e6


async def main(n: int) -> None:
    tmp = tempfile.mkdtemp()
    settings = Settings.from_env({}, storage=f"sqlite:///{tmp}/state.db", log_format="off", **OVERRIDES)
    app = create_app(settings)  # no lifespan: the webhook dispatcher starts on the first payment, as in a worker
    status, body = await call(app, "POST", "/_sim/tokens", [(b"content-type", b"application/json")],
                              b'{"client_id":"demo-bank","oid":1000000001,"scopes":["openid","fullname","fines","debts"]}')
    if status != 201:
        raise SystemExit(f"minting a token: {status} {body[:300]!r}")
    token = json.loads(body)["access_token"]
    auth = [(b"authorization", f"Bearer {token}".encode())]
    for label, path in (("GetFine", f"/api/v1/fines/{UIN}"), ("ListFines", "/api/v1/fines"),
                        ("GetMyProfile", "/api/v1/persons/me"), ("health", "/_sim/health")):
        await run(app, 256, "GET", path, auth)  # warm-up
        print(f"{label:14} {await run(app, n, 'GET', path, auth):8.0f} µs CPU per call")
    print(f"{'CreatePayment':14} {await payments(min(n, 1500)):8.0f} µs CPU per call (one at a time, 3 000 persons)")


async def payments(n: int) -> float:
    """CreatePayment, each for another charge of a generated dataset, with its exact amount due and a fresh key."""
    from simulator.datagen import write_dataset

    tmp = Path(tempfile.mkdtemp())
    write_dataset(42, 3000, tmp / "data")
    app = create_app(Settings.from_env({}, storage=f"sqlite:///{tmp}/state.db", log_format="off",
                                       data=str(tmp / "data"), **OVERRIDES))
    citizens = app.app.extensions["gosim"].citizens
    charges = []
    for line in (tmp / "data" / "persons.jsonl").open(encoding="utf-8"):
        person = json.loads(line)
        for charge in [*person.get("fines", []), *person.get("debts", [])]:
            try:
                _, due, _ = citizens.amount_due("default", charge["uin"])
            except Exception:  # noqa: BLE001 (annulled or otherwise unpayable)
                continue
            if due > 0:
                charges.append((charge["uin"], due))
    status, body = await call(app, "POST", "/_sim/tokens", [(b"content-type", b"application/json")],
                              b'{"client_id":"demo-bank","scopes":["payments"]}')
    auth = (b"authorization", f"Bearer {json.loads(body)['access_token']}".encode())
    pending = iter(charges)

    async def one() -> None:
        uin, due = next(pending)
        payload = json.dumps({"uin": uin, "amount": due, "payer": {"name": "Иванов Иван", "inn": "770858813912"},
                              "bank_payment_id": "b-" + uuid.uuid4().hex[:10]}).encode()
        status, out = await call(app, "POST", "/api/v1/payments", [
            auth, (b"content-type", b"application/json"), (b"idempotency-key", str(uuid.uuid4()).encode())], payload)
        if status != 201:
            raise SystemExit(f"CreatePayment: {status} {out[:300]!r}")

    n = min(n, len(charges) - 100)
    for _ in range(100):
        await one()
    started = time.process_time()
    for _ in range(n):
        await one()
    return (time.process_time() - started) / n * 1e6


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
