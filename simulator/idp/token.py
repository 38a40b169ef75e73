"""Handlers of the `token` tag: the token endpoint, revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

from typing import Any

from ..http.context import services
from .forms import form_fields, header, session_header

# RFC 6749 §5.1: responses with tokens must not be cached.
NO_STORE = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


def issue_token(body: Any = None) -> tuple[dict, int, dict[str, str]]:
    response = services().oauth.token(form_fields(body), header("authorization"), session_header())
    return response, 200, NO_STORE


def revoke_token(body: Any = None) -> tuple[dict, int, dict[str, str]]:
    services().oauth.revoke(form_fields(body), header("authorization"), session_header())
    return {}, 200, NO_STORE


def introspect_token(body: Any = None) -> tuple[dict, int, dict[str, str]]:
    answer = services().oauth.introspect(form_fields(body), header("authorization"), session_header())
    return answer, 200, NO_STORE
