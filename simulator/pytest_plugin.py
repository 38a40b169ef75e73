"""The pytest plugin (entry point `pytest11: gosim`): one real gosim per test session, one X-Gosim-Session per test."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from .testing import Gosim, GosimServer, new_session_id, start_server


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gosim", "gosim (Gosuslugi simulator)")
    group.addoption("--gosim-url", dest="gosim_url", default=None,
                    help="use the gosim already running at this URL instead of starting one (env GOSIM_URL)")
    group.addoption("--gosim-workers", dest="gosim_workers", type=int, default=None,
                    help="worker processes of the gosim the plugin starts (default 2)")
    group.addoption("--gosim-admin-token", dest="gosim_admin_token", default=None,
                    help="bearer token for /_sim when the server has GOSIM_ADMIN_TOKEN set (env GOSIM_ADMIN_TOKEN)")
    parser.addini("gosim_url", "URL of an already running gosim (instead of starting one)", default="")
    parser.addini("gosim_workers", "worker processes of the gosim the plugin starts", default="2")
    parser.addini("gosim_admin_token", "bearer token for /_sim on a server with GOSIM_ADMIN_TOKEN", default="")


def _option(config: pytest.Config, name: str, env: str | None = None) -> str:
    value = config.getoption(name)
    if value is None or value == "":
        value = (os.environ.get(env, "") if env else "") or config.getini(name)
    return str(value or "")


@pytest.fixture(scope="session")
def gosim_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GosimServer]:
    """The gosim of this test session: `gosim serve` on a free loopback port (SQLite in a tmp dir), or --gosim-url."""
    config = request.config
    admin_token = _option(config, "gosim_admin_token", "GOSIM_ADMIN_TOKEN")
    url = _option(config, "gosim_url", "GOSIM_URL")
    if url:
        server = GosimServer(url=url.rstrip("/"), admin_token=admin_token)
        server.wait_ready(timeout=30)
        yield server
        return
    workers = int(_option(config, "gosim_workers") or 2)
    env = {"GOSIM_ADMIN_TOKEN": admin_token} if admin_token else {}
    try:
        server = start_server(tmp_path_factory.mktemp("gosim"), workers=workers, env=env)
    except RuntimeError as exc:
        pytest.fail(f"gosim did not start: {exc}", pytrace=False)
    server.admin_token = admin_token
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gosim(gosim_server: GosimServer, request: pytest.FixtureRequest) -> Iterator[Gosim]:
    """This test's own X-Gosim-Session on the session's server, reset afterwards.

    `gosim.base_url`, `gosim.session`, `gosim.client` (httpx.Client sending the session header), `gosim.auth(token)`,
    `mint_token`, `login`, `sms`, `enable_scenario`, `disable_scenario`, `advance_clock`, `webhooks`, `journal`.
    """
    handle = Gosim(gosim_server.url, new_session_id(request.node.name), admin_token=gosim_server.admin_token)
    try:
        yield handle
    finally:
        try:
            handle.reset()
        except Exception:  # noqa: BLE001 - a server that went away must not turn a passed test into an error
            pass
        handle.close()
