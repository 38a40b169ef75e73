"""Shared fixtures: an in-process app per test, real servers on free loopback ports, and token minting."""

from __future__ import annotations

import uuid
from importlib.metadata import entry_points
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import pytest

from simulator.app import create_app
from simulator.settings import Settings

from support.redis_server import RedisServer
from support.server import LiveServer, start_server

# The plugin is registered by the package's pytest11 entry point; a checkout whose install predates it loads it here.
if not any(ep.name == "gosim" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["simulator.pytest_plugin"]

# One fixed start for in-process apps, so tests that reason about dates see the same anchor every run.
CLOCK_START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env({}, storage="memory://", validate_responses=True, clock_start=CLOCK_START)


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    with app.test_client() as c:
        yield c


@pytest.fixture
def mint(client) -> Callable[..., str]:
    """mint(scopes, oid=..., client_id=..., ttl=..., session=...) -> an access token from /_sim/tokens."""

    def _mint(scopes: list[str] | str, oid: int | None = 1000000001, client_id: str = "demo-bank",
              ttl: int | None = None, session: str | None = None) -> str:
        body: dict[str, Any] = {"client_id": client_id, "scopes": scopes.split() if isinstance(scopes, str) else scopes}
        if oid is not None:
            body["oid"] = oid
        if ttl is not None:
            body["ttl"] = ttl
        headers = {"X-Gosim-Session": session} if session else {}
        r = client.post("/_sim/tokens", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()["access_token"]

    return _mint


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def session_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def live_server(gosim_server):
    """The real server: gunicorn, 2 uvicorn workers, SQLite store; shared by the session, isolated per test by X-Gosim-Session.

    It is the pytest plugin's server (simulator/pytest_plugin.py), so the suite and the `gosim` fixture share one.
    """
    return gosim_server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port for the whole test session; tests flush what they need."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
