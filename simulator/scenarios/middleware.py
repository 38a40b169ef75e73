"""The scenario engine as one pure ASGI middleware, placed after routing so that it knows each call's operation."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..errors import GosimError
from ..http.callers import client_from_authorization
from ..http.context import session_from_scope
from .engine import FAULT_HEADER, Decision, Facts
from .model import Break
from .transport import ConnectionBroken, request_break

if TYPE_CHECKING:
    from ..services.container import Services

ADMIN_PREFIX = "/_sim"  # never faulted: QA must always be able to switch a scenario off again
# Also never faulted or journaled: the monitoring scrape is gosim's own, not the portal's.
OPS_PATHS = ("/metrics",)


def is_control(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX) or path in OPS_PATHS
TRACE_KEY = "gosim.trace"  # scope key: a dict the journal reads after the answer (operation, client, fault)
FORCE_HEADER = b"x-gosim-scenario"

log = logging.getLogger("gosim.scenarios")


def facts_from_scope(scope: dict) -> Facts:
    routing = (scope.get("extensions") or {}).get("connexion_routing") or {}
    operation = routing.get("operation_id")
    headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", []))
    auth = next((v for k, v in headers if k == "authorization"), None)
    peer = scope.get("client")
    return Facts(
        target="request",
        # connexion names operations after their controller (simulator.api.fines.ListFines); rules use the spec's.
        operation=operation.rpartition(".")[2] if operation else None,
        path=scope.get("path", "/"),
        method=scope.get("method", "GET").upper(),
        client=client_from_authorization(auth),
        headers=headers,
        remote=peer[0] if peer else None,
    )


def _forced(scope: dict) -> str | None:
    for name, value in scope.get("headers", []):
        if name == FORCE_HEADER:
            return value.decode("latin-1").strip() or None
    return None


def _with_headers(send: Any, headers: tuple[tuple[str, str], ...]) -> Any:
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


class ScenarioMiddleware:
    """Decides per call (through ScenarioService) and then waits, answers an error, breaks, or passes it on.

    Injected latency is `await asyncio.sleep`: thousands of delayed calls wait on one event loop, no thread held.
    """

    def __init__(self, app: Any, services: "Services") -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or is_control(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        facts = facts_from_scope(scope)
        trace = scope.get(TRACE_KEY)
        if trace is not None:
            trace.update(operation=facts.operation, client=facts.client)
        try:
            session = session_from_scope(scope)
        except GosimError:
            await self.app(scope, receive, send)  # a malformed session header is the app's to refuse, not ours
            return
        decision = self.services.scenarios.evaluate(session, facts, _forced(scope))
        if decision is None:
            await self.app(scope, receive, send)
            return
        if trace is not None and decision.fired:
            trace["fault"] = decision.label
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        if decision.error is not None:
            raise decision.error
        if decision.broken is not None:
            await self._break(scope, receive, send, decision)
            return
        extra = decision.headers + (((FAULT_HEADER, decision.label),) if decision.fired else ())
        await self.app(scope, receive, _with_headers(send, extra))

    async def _break(self, scope: dict, receive: Any, send: Any, decision: Decision) -> None:
        brk: Break = decision.broken  # type: ignore[assignment]
        trace = scope.get(TRACE_KEY)
        if trace is not None:
            trace["outcome"] = brk.mode
        if brk.after_handler:
            start, body = await _answer_of(self.app, scope, receive)
            if brk.mode == "truncate":
                declared = len(body) if len(body) >= 2 else len(body) + 1  # an empty body cannot be cut short
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(declared).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        if not request_break(scope, brk.mode):
            raise ConnectionBroken(brk.mode)


async def _answer_of(app: Any, scope: dict, receive: Any) -> tuple[dict, bytes]:
    """Run the handler and keep its whole answer instead of sending it (errors rendered as they would be)."""
    from ..http.problems import translate  # the one renderer of errors; imported late to keep import order simple

    start: dict = {"type": "http.response.start", "status": 500, "headers": []}
    chunks: list[bytes] = []

    async def keep(message: dict) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, keep)
    except Exception as exc:  # the answer is lost anyway; render it the way the exception layer would
        error = translate(exc)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.response_headers().items()]
        start = {"type": "http.response.start", "status": error.status, "headers": headers}
        chunks = [error.render()]
    return start, b"".join(chunks)
