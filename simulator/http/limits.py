"""Body size limit (64 KB by default) and body time limit, enforced while the body streams in, before parsing."""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import MalformedRequest, PayloadTooLarge, RequestTimeout
from .bodies import replay


class BodyLimitMiddleware:
    """Refuses bodies over the limit, and turns a chunked body into one with a Content-Length.

    connexion decides whether a request has a body from Content-Length alone, so a chunked body would skip
    validation entirely; reading it here (it is at most 64 KB) and declaring its length closes that hole.
    """

    def __init__(self, app: Any, max_bytes: int, timeout: float = 10) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    def _deadline(self) -> Any:
        """receive() with one deadline for the whole body (from the first read), else 408 and the connection closed.

        A client that declares more than it sends, or trickles its body in a byte at a time, would otherwise hold a
        worker's connection and task for as long as it likes; a per-read timeout would not stop the trickle.
        """
        loop = asyncio.get_running_loop()
        ends: list[float] = []
        complete = False

        async def next_message(receive: Any) -> dict:
            nonlocal complete
            if complete:  # after the body, receive() waits for a disconnect: no deadline on that
                return await receive()
            if not ends:
                ends.append(loop.time() + self.timeout)
            try:
                message = await asyncio.wait_for(receive(), max(ends[0] - loop.time(), 0.001))
            except asyncio.TimeoutError:
                raise RequestTimeout(headers={"Connection": "close"}) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return next_message

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"Тело запроса больше {self.max_bytes // 1024} КБ.")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        chunked = False
        next_message = self._deadline()
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise MalformedRequest("Заголовок Content-Length некорректен.") from None
                if declared < 0:
                    raise MalformedRequest("Заголовок Content-Length некорректен.")
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if declared is not None and declared > self.max_bytes:
            raise self._too_large()
        if declared is None and chunked:
            body = bytearray()
            while True:
                message = await next_message(receive)
                if message["type"] != "http.request":
                    return  # the client went away before finishing its body
                body += message.get("body", b"")
                if len(body) > self.max_bytes:
                    raise self._too_large()
                if not message.get("more_body", False):
                    break
            headers = [(n, v) for n, v in scope["headers"] if n != b"transfer-encoding"]
            headers.append((b"content-length", str(len(body)).encode()))
            scope = {**scope, "headers": headers}
            await self.app(scope, replay(bytes(body), then=receive), send)
            return
        seen = 0
        limit = self.max_bytes

        async def counted_receive() -> dict:
            nonlocal seen
            message = await next_message(receive)
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise self._too_large()
            return message

        await self.app(scope, counted_receive, send)
