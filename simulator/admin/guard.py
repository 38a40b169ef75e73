"""Access to /_sim: open on loopback; otherwise every call needs `Authorization: Bearer $GOSIM_ADMIN_TOKEN` (pure ASGI)."""

from __future__ import annotations

import hmac
from typing import Any

from ..errors import AdminTokenRequired
from ..settings import Settings

ADMIN_PREFIX = "/_sim"
# Liveness and readiness stay open: orchestrators and container HEALTHCHECKs probe them without credentials,
# and they reveal nothing but "up".
PROBES = frozenset({"/_sim/health", "/_sim/ready"})


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
            if (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")) and path not in PROBES:
                given = _bearer(scope)
                # compare_digest: the time taken must not tell how much of a guessed token was right.
                if not self.token or given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                    raise AdminTokenRequired()
        await self.app(scope, receive, send)
