"""Refuses request paths with empty segments ("//api/v1/payments") as 404 before any router sees them."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound


class EmptySegmentMiddleware:
    """A 404 for any path containing "//".

    connexion's router does not match such a path, but Flask (werkzeug) then resolves it to a rule of its own and
    runs the operation's handler outside connexion's operation context: a 500. No gosim id contains a slash, so
    refusing them all loses nothing.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "//" in scope.get("path", ""):
            raise NotFound()
        await self.app(scope, receive, send)
