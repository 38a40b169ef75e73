"""The outermost ASGI layer: carries out a connection break (reset, empty answer, truncated body) a rule asked for."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any

BREAK_KEY = "gosim.break"  # scope key: a dict the engine writes {"mode": ...} into; it lives as long as the request
MODES = ("reset", "empty", "truncate")

log = logging.getLogger("gosim.scenarios")


class ConnectionBroken(Exception):
    """Raised to the caller when the server gives no transport to break (in-process test clients)."""

    def __init__(self, mode: str) -> None:
        super().__init__(f"connection {mode} by a gosim scenario")
        self.mode = mode


def request_break(scope: dict, mode: str) -> bool:
    """Ask the outer layer to break this connection once the app returns; False when the layer is not installed."""
    control = scope.get(BREAK_KEY)
    if control is None:
        return False
    control["mode"] = mode
    return True


def _transport_of(send: Any) -> Any:
    # ASGI has no "abort" message. uvicorn's send is a bound method of the request cycle, which holds the
    # connection's asyncio transport: the only way to close a connection without answering or to reset it.
    cycle = getattr(send, "__self__", None)
    return getattr(cycle, "transport", None)


class ConnectionBreakMiddleware:
    """Outermost, so that it holds the server's own `send`; keeps nothing on self per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        control: dict[str, str] = {}
        scope[BREAK_KEY] = control
        await self.app(scope, receive, send)
        mode = control.get("mode")
        if mode:
            await _break(send, mode)


async def _break(send: Any, mode: str) -> None:
    transport = _transport_of(send)
    if transport is None:
        raise ConnectionBroken(mode)
    if mode == "reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN: "connection reset by peer".
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError as exc:
                log.debug("SO_LINGER refused: %r", exc)
        transport.abort()
    else:
        transport.close()  # flushes what was written (the truncated half), then FIN: no answer, or a short one
    # Let connection_lost run so that the server sees a disconnect and does not answer 500 on our behalf.
    for _ in range(3):
        await asyncio.sleep(0)
