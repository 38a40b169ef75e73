"""Renders every failure, ours and the framework's, as problem+json with a stable code; nothing leaks as a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from connexion import FlaskApp
from connexion.exceptions import (
    BadRequestProblem,
    OAuthProblem,
    OAuthScopeProblem,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionResponse
import werkzeug.exceptions
from starlette.exceptions import HTTPException

from .. import errors as e

log = logging.getLogger("gosim.errors")


def respond(error: e.GosimError) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=error.status,
        mimetype=e.PROBLEM_JSON,
        content_type=e.PROBLEM_JSON,
        body=error.render(),
        headers=error.response_headers(),
    )


def translate(exc: Exception) -> e.GosimError:
    """The framework's exceptions mapped onto our family, so clients see one vocabulary of codes."""
    if isinstance(exc, e.GosimError):
        return exc
    if isinstance(exc, OAuthScopeProblem):
        return e.InsufficientScope(required=getattr(exc, "required_scopes", ()) or ())
    if isinstance(exc, OAuthProblem):
        return e.Unauthorized()
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return e.UnsupportedMediaType()
    if isinstance(exc, BadRequestProblem):
        return e.InvalidParameter(_detail(exc))
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    if status == 404:
        return e.NotFound()
    if status == 405:
        allow = (getattr(exc, "headers", None) or {}).get("Allow")
        if allow:
            allow = ", ".join(sorted({m.strip() for m in allow.split(",")} - {"OPTIONS"}))
        return e.MethodNotAllowed(headers={"Allow": allow} if allow else None)
    if status == 401:
        return e.Unauthorized()
    if status == 403:
        return e.Forbidden()
    if status == 413:
        return e.PayloadTooLarge()
    if status == 415:
        return e.UnsupportedMediaType()
    if isinstance(status, int) and 400 <= status < 500:
        return e.MalformedRequest(_detail(exc))
    log.error("unhandled error: %r", exc, exc_info=exc)
    return e.InternalError()


def _detail(exc: Exception) -> str | None:
    detail = getattr(exc, "detail", None)
    # jsonschema appends the whole failing schema after a blank line; the first line is what a client needs.
    return str(detail).split("\n\n")[0][:500] if detail else None


def handle(_request: Any, exc: Exception) -> ConnexionResponse:
    return respond(translate(exc))


def _method_not_allowed(exc: werkzeug.exceptions.MethodNotAllowed) -> None:
    # RFC 9110: a 405 lists what the resource does allow; connexion's re-raise would drop werkzeug's list.
    allowed = ", ".join(sorted(set(exc.valid_methods or []) - {"OPTIONS"}))
    raise e.MethodNotAllowed(headers={"Allow": allowed} if allowed else None)


def install(app: FlaskApp) -> None:
    for kind in (e.GosimError, ProblemException, HTTPException, Exception):
        app.add_error_handler(kind, handle)
    for status in (404, 405):
        app.add_error_handler(status, handle)
    app.app.register_error_handler(werkzeug.exceptions.MethodNotAllowed, _method_not_allowed)
