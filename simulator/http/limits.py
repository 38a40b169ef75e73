"""Body size limit (64 KB by default) enforced while the body streams in, before anything parses it."""

from __future__ import annotations

from typing import Any

from ..errors import MalformedRequest, PayloadTooLarge


class BodyLimitMiddleware:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise MalformedRequest("Заголовок Content-Length некорректен.") from None
                if declared > self.max_bytes:
                    raise PayloadTooLarge(f"Тело запроса больше {self.max_bytes // 1024} КБ.")
        seen = 0
        limit = self.max_bytes

        async def counted_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"Тело запроса больше {limit // 1024} КБ.")
            return message

        await self.app(scope, counted_receive, send)
