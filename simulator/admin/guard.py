"""Access to /_sim: open on loopback; otherwise every call needs `Authorization: Bearer $GOSIM_ADMIN_TOKEN` (pure ASGI)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from ..errors import AdminTokenRequired
from ..settings import Settings

ADMIN_PREFIX = "/_sim"
# Liveness and readiness stay open: orchestrators and container HEALTHCHECKs probe them without credentials,
# and they reveal nothing but "up".
PROBES = frozenset({"/_sim/health", "/_sim/ready"})
# The console (simulator/admin/console.py) is for browsers, which send no Authorization header: its pages also
# accept the `gosim_admin` cookie set by its sign-in form, and without either they redirect there instead of a 401.
CONSOLE_PREFIX = "/_sim/console"
CONSOLE_OPEN = frozenset({"/_sim/console/login", "/_sim/console/console.css"})
CONSOLE_COOKIE = "gosim_admin"


def console_cookie_value(token: str) -> str:
    """What the console cookie holds: derived from the token, so a leaked cookie does not open the JSON API."""
    return hmac.new(token.encode(), b"gosim-console", hashlib.sha256).hexdigest()


def _cookie(scope: dict, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v.strip()
    return None


async def _to_console_login(scope: dict, send: Any) -> None:
    target = scope.get("path", "") + (("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else "")
    location = f"{CONSOLE_PREFIX}/login?next={quote(target, safe='')}"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0"),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": b""})


def _bearer(scope: dict) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class AdminGuardMiddleware:
    """Refuses /_sim calls without the admin token when the settings say the control API is not open."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.token = settings.admin_token
        self.open = settings.admin_open

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self.open:
            path = scope.get("path", "")
            if (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")) and path not in PROBES | CONSOLE_OPEN:
                given = _bearer(scope)
                # compare_digest: the time taken must not tell how much of a guessed token was right.
                if not self.token or given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                    console = path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")
                    cookie = _cookie(scope, CONSOLE_COOKIE) if console and self.token else None
                    if cookie is None or not hmac.compare_digest(
                            cookie.encode("latin-1"), console_cookie_value(self.token).encode()):
                        if console and scope.get("method") == "GET":
                            await _to_console_login(scope, send)
                            return
                        raise AdminTokenRequired()
        await self.app(scope, receive, send)
