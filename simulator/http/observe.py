"""Per-request observability as one pure ASGI middleware: X-Request-Id, the metrics counters and the masked access log."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import TYPE_CHECKING, Any

from ..domain.masking import mask_path, mask_query
from ..errors import GosimError
from ..logs import ACCESS_LOGGER, FIELDS_ATTR
from ..services.sessions import parse_session
from .callers import client_from_authorization

if TYPE_CHECKING:
    from ..services.container import Services

REQUEST_ID_HEADER = b"x-request-id"
FAULT_HEADER = b"x-gosim-fault"
REQUEST_ID_KEY = "gosim.request_id"  # scope key, for anything inside that wants to mention the id
# An RFC 9110 token (plus ":/=@", common in ids), up to 128 characters; anything else is replaced, not echoed.
_REQUEST_ID = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~:/=@-]{1,128}")

access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_of(raw: bytes | None) -> str:
    """The caller's id when it is a valid token, else a fresh one (32 hex digits)."""
    if raw is not None:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if _REQUEST_ID.fullmatch(text):
            return text
    return os.urandom(16).hex()  # 128 random bits, like a UUID4, at a fifth of its cost


def operation_of(scope: dict) -> str | None:
    routing = (scope.get("extensions") or {}).get("connexion_routing") or {}
    operation = routing.get("operation_id")
    # connexion names operations after their controller (simulator.api.fines.GetFine); people know the spec's name.
    return operation.rpartition(".")[2] if operation else None


class ObservabilityMiddleware:
    """Outside the exception layer: it sees every answer the client gets, problem responses included.

    The request path costs a header scan, a dict increment under a lock and, when the access log is on, one
    formatted line; nothing here touches the store (MetricsService flushes from a background thread).
    """

    def __init__(self, app: Any, services: "Services") -> None:
        self.app = app
        self.metrics = services.metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_id = None
        for name, value in scope.get("headers", []):
            if name == REQUEST_ID_HEADER:
                raw_id = value
                break
        request_id = request_id_of(raw_id)
        scope[REQUEST_ID_KEY] = request_id
        # connexion's router records the operation in scope["extensions"] of a shallow copy of the scope; a dict put
        # here first is shared with that copy, so the operation is readable after the answer (uvicorn sends none).
        scope.setdefault("extensions", {})
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        answer: dict[str, Any] = {"status": 0, "fault": None}
        started = time.perf_counter()

        async def observed_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    lower = name.lower()
                    if lower == REQUEST_ID_HEADER:
                        continue  # ours is the one id of this exchange
                    if lower == FAULT_HEADER:
                        answer["fault"] = value.decode("latin-1")
                    headers.append((name, value))
                headers.append(id_header)
                answer["status"] = message["status"]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            try:
                self._after(scope, request_id, answer, elapsed)
            except Exception:  # a witness: losing a count or a line must never fail the call
                logging.getLogger("gosim.observe").exception("observing a request failed")

    def _after(self, scope: dict, request_id: str, answer: dict[str, Any], elapsed: float) -> None:
        operation = operation_of(scope)
        session = _session(scope)
        method = scope.get("method", "")
        status = int(answer["status"])
        fault = answer["fault"] or (scope.get("gosim.trace") or {}).get("fault")
        self.metrics.observe(operation, method, status, elapsed, fault, session if session != "(invalid)" else None)
        if not access_log.isEnabledFor(logging.INFO):
            return
        authorization = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        fields = {
            "request_id": request_id,
            "session": session,
            "client": client_from_authorization(authorization),
            "operation": operation,
            "method": method,
            "path": mask_path(scope.get("path", "")),
            "query": mask_query(scope.get("query_string", b"").decode("latin-1")),
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "fault": fault,
        }
        level = logging.ERROR if status >= 500 and not fault else logging.INFO  # an injected 503 is no error of ours
        access_log.log(level, "request", extra={FIELDS_ATTR: fields})


def _session(scope: dict) -> str:
    state = scope.get("gosim") or {}
    if "session" in state:
        return state["session"]
    raw = state.get("session_raw")
    if raw is None:
        for name, value in scope.get("headers", []):
            if name == b"x-gosim-session":
                raw = value.decode("latin-1")
                break
    try:
        return parse_session(raw)
    except GosimError:
        return "(invalid)"
