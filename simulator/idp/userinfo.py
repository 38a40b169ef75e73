"""Handlers of the `userinfo` tag: the OpenID Connect claims of the person a token was issued for."""

from __future__ import annotations

from ..http.context import services
from .forms import header, session_header


def get_userinfo() -> tuple[dict, int, dict[str, str]]:
    claims = services().oauth.userinfo(header("authorization"), session_header())
    return claims, 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}
