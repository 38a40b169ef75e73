"""CPU cost of one request through the whole app, in process (no sockets): µs of process time per call.

Run: `.venv/bin/python bench/inproc.py [N]`. It drives the ASGI app the way uvicorn would, with a 64-deep pipeline of
concurrent calls, and prints the CPU microseconds per authenticated GetFine (and a few other calls). The number is
process time, so other load on the machine barely moves it: the tool for A/B-ing a change to the request path.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
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
    app = create_app(settings)
    async with app.router.lifespan_context(app) if False else _noop():
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


class _noop:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
