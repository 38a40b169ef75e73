"""Records every call outside /_sim in the journal, masked, after its answer; pure ASGI, never fails a request."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from ..domain.masking import mask_body, mask_headers, mask_path, mask_query
from ..errors import GosimError
from ..scenarios.middleware import TRACE_KEY, is_control
from ..services.sessions import parse_session
from ..services.clock import REQUEST_CLOCKS
from .callers import client_from_authorization
from .context import CLOCK_MEMO_KEY

if TYPE_CHECKING:
    from ..services.container import Services

CAPTURE_BYTES = 8192
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
log = logging.getLogger("gosim.journal")


def _problem_kept(masked: Any, raw: bytes, content_type: str) -> Any:
    """A problem's `code` is an error code, not an SMS or authorization code: put it back once the rest is masked."""
    if not isinstance(masked, dict) or "problem+json" not in content_type:
        return masked
    try:
        code = json.loads(raw).get("code")
    except (ValueError, AttributeError):
        return masked
    if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
        masked["code"] = code
    return masked


# A bank sends the same headers over and over, and the answers of one operation carry the same headers: the masked
# forms are pure functions of them, so they are computed once. The records share these dicts; nothing mutates a
# record once it is made, and every store serialises or copies what it keeps.


@functools.lru_cache(maxsize=512)
def _request_view(raw: tuple[tuple[bytes, bytes], ...]) -> tuple[dict[str, str], str, str, str | None]:
    """(masked headers, session or "(invalid)", content type, authorization) of a request's header list."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
    lower = {k.lower(): v for k, v in headers}
    try:
        session = parse_session(lower.get("x-gosim-session"))
    except GosimError:
        session = "(invalid)"
    return mask_headers(headers), session, lower.get("content-type", ""), lower.get("authorization")


@functools.lru_cache(maxsize=512)
def _response_view(raw: tuple[tuple[bytes, bytes], ...]) -> tuple[dict[str, str], str]:
    """(masked headers, content type) of an answer's header list."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
    return mask_headers(headers), next((v for k, v in headers if k.lower() == "content-type"), "")


class JournalMiddleware:
    """Sits outside the exception layer, so it sees the answer the client got, problem bodies included."""

    def __init__(self, app: Any, services: "Services") -> None:
        self.app = app
        self.services = services
        self.in_flight = 0  # calls of this worker between their start and their record (one event loop: no lock)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        journal = self.services.journal
        if scope["type"] != "http" or not journal.enabled or is_control(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        trace: dict[str, Any] = {}
        scope[TRACE_KEY] = trace
        started = time.perf_counter()
        request_body = bytearray()
        request_cut = False
        answer: dict[str, Any] = {"status": 0, "headers": [], "body": bytearray(), "cut": False}

        async def recording_receive() -> dict:
            nonlocal request_cut
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                room = CAPTURE_BYTES - len(request_body)
                request_body.extend(chunk[:max(room, 0)])
                request_cut = request_cut or len(chunk) > room
            return message

        async def recording_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body" and answer["status"] >= 400:
                chunk = message.get("body", b"")
                room = CAPTURE_BYTES - len(answer["body"])
                answer["body"].extend(chunk[:max(room, 0)])
                answer["cut"] = answer["cut"] or len(chunk) > room
            await send(message)

        self.in_flight += 1
        try:
            await self.app(scope, recording_receive, recording_send)
        except BaseException:
            answer["status"] = answer["status"] or 500
            raise
        finally:
            try:
                self._record(scope, trace, answer, bytes(request_body), request_cut, time.perf_counter() - started)
            except Exception as exc:  # the journal is a witness; losing one record must not fail the call
                log.warning("journal record failed: %r", exc)
            finally:
                self.in_flight -= 1

    def _record(self, scope: dict, trace: dict, answer: dict, body: bytes, cut: bool, elapsed: float) -> None:
        request_headers, session, content_type, authorization = _request_view(tuple(scope.get("headers", ())))
        clock_session = session if session != "(invalid)" else parse_session(None)
        memo = REQUEST_CLOCKS.set(scope.get(CLOCK_MEMO_KEY))  # the clock the call itself read: no second store read
        try:
            at = self.services.clock.for_session(clock_session).now()
        finally:
            REQUEST_CLOCKS.reset(memo)
        response_headers, response_type = _response_view(tuple(answer["headers"]))
        status = int(answer["status"])
        outcome = trace.get("outcome") or ("answered" if status else "no-answer")
        entry: dict[str, Any] = {
            "at": at.isoformat().replace("+00:00", "Z"),
            "session": session,
            "method": scope.get("method", ""),
            "path": mask_path(scope.get("path", "")),
            "query": mask_query(scope.get("query_string", b"").decode("latin-1")),
            "operation": trace.get("operation"),
            "client": trace.get("client") or client_from_authorization(authorization),
            "status": status,
            "outcome": outcome,
            "fault": trace.get("fault"),
            "duration_ms": round(elapsed * 1000, 1),
            "request": {
                "headers": request_headers,
                "body": mask_body(body, content_type, complete=not cut),
            },
            "response": {
                "headers": response_headers,
                "body": _problem_kept(mask_body(bytes(answer["body"]), response_type, complete=not answer["cut"]),
                                      bytes(answer["body"]), response_type),
            },
        }
        self.services.journal.append(entry, alone=self.in_flight <= 1)
