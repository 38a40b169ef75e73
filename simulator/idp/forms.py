"""Reading the idp's requests: form fields and query parameters as single strings, headers, the raw session header."""

from __future__ import annotations

from typing import Any

from connexion import request

from ..http.context import SCOPE_KEY


def one(value: Any) -> str | None:
    """A form or query value as one string: the first of a repeated field, None for anything else."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def form_fields(body: Any) -> dict[str, str]:
    """connexion's parsed form (a dict of strings or lists) as plain strings; a file upload or junk is dropped."""
    if not isinstance(body, dict):
        return {}
    out: dict[str, str] = {}
    for key, value in body.items():
        text = one(value)
        if isinstance(key, str) and text is not None:
            out[key] = text
    return out


def form_list(body: Any, name: str) -> list[str]:
    value = body.get(name) if isinstance(body, dict) else None
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def query(names: tuple[str, ...]) -> tuple[dict[str, str | None], list[str]]:
    """The named query parameters, and which of them were repeated (RFC 6749 §3.1 forbids that)."""
    params = request.query_params
    values = {name: params.get(name) for name in names}
    repeated = [name for name in names if len(params.getlist(name)) > 1]
    return values, repeated


def header(name: str) -> str | None:
    return request.headers.get(name)


def cookie(name: str) -> str | None:
    return request.cookies.get(name)


def session_header() -> str | None:
    """The X-Gosim-Session header as sent (validated by the service, which answers in its own error vocabulary)."""
    return request.scope.get(SCOPE_KEY, {}).get("session_raw")
