"""The spec's security functions (x-tokenInfoFunc): verify the bearer token and hand connexion its scopes."""

from __future__ import annotations

from typing import Any

from .context import services_from_scope, session_from_scope


def token_info(token: str, request: Any = None) -> dict[str, Any]:
    """Called by connexion for every secured operation; raises the error family on any failure."""
    scope = request.scope
    info = services_from_scope(scope).tokens.verify(token, session_from_scope(scope))
    # connexion checks the operation's required scopes against "scope" and answers 403 itself.
    return {"scope": sorted(info.scopes), "sub": info.sub, "info": info}


def admin_bearer(token: str, request: Any = None) -> dict[str, Any]:
    """The admin scheme is documented in the spec; whether a token is needed, and which, is the admin guard's call."""
    return {"sub": "admin"}
