"""Reading a request body ahead of the app, and handing it on as if it had not been read."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

Receive = Callable[[], Awaitable[dict]]


async def read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body, and whether it arrived whole (False: the client went away before its end)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes, *, whole: bool = True, then: Receive | None = None) -> Receive:
    """A receive() that hands the body already read to the next layer as it came (whole, or cut by a disconnect),
    then passes on to `then` (the server's own receive, to learn of a disconnect), or reports the client gone."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not whole}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
