"""Per-request context: the app's services and the caller's session, carried in the ASGI scope."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from connexion import context as cx

from ..errors import NotFound
from ..services.clock import REQUEST_CLOCKS
from ..services.sessions import HEADER, parse_session
from ..services.tokens import TokenInfo
from ..storage import READ_SNAPSHOT

if TYPE_CHECKING:
    from ..services.container import Services

SCOPE_KEY = "gosim"
CLOCK_MEMO_KEY = "gosim.clocks"  # the call's memo of session clocks; the journal dates its record from it afterwards
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RequestContextMiddleware:
    """Pure ASGI: puts the services and the validated session in the scope; keeps nothing on self per request."""

    def __init__(self, app: Any, services: "Services") -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if _CONTROL.search(scope.get("path", "")):
                # No route has control characters; the routers disagree on whether one matches (Flask's does,
                # connexion's does not), so answer before either of them is asked.
                raise NotFound()
            raw = None
            for name, value in scope.get("headers", []):
                if name == b"x-gosim-session":
                    raw = value.decode("latin-1")
                    break
            scope[SCOPE_KEY] = {"services": self.services, "session_raw": raw}
            if not scope.get("path", "").startswith("/_sim"):
                # Memoise the session clock for this call (the control API writes clocks, so it reads them fresh).
                memo = REQUEST_CLOCKS.set(scope.setdefault(CLOCK_MEMO_KEY, {}))
                snapshot = READ_SNAPSHOT.set(object())  # the store may serve this call's reads from its cache
                try:
                    await self.app(scope, receive, send)
                finally:
                    READ_SNAPSHOT.reset(snapshot)
                    REQUEST_CLOCKS.reset(memo)
                return
        await self.app(scope, receive, send)


def services_from_scope(scope: dict) -> "Services":
    return scope[SCOPE_KEY]["services"]


def session_from_scope(scope: dict) -> str:
    state = scope[SCOPE_KEY]
    if "session" not in state:
        state["session"] = parse_session(state["session_raw"])
    return state["session"]


def services() -> "Services":
    return services_from_scope(cx.scope)


def session() -> str:
    return session_from_scope(cx.scope)


def token() -> TokenInfo:
    """The verified token of the request; the security scheme in the spec guarantees there is one."""
    return cx.context["token_info"]["info"]


__all__ = ["HEADER", "RequestContextMiddleware", "services", "session", "token"]
