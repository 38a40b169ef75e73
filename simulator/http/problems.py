"""Renders every failure, ours and the framework's, as problem+json with a stable code; nothing leaks as a bare 500."""

from __future__ import annotations

import json
import logging
import re
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
from ..errors_en import english
from .language import EN, RU, preferred

log = logging.getLogger("gosim.errors")


def respond(error: e.GosimError, lang: str = RU) -> ConnexionResponse:
    headers = error.response_headers()
    # A subclass may answer in another format (OAuthError: RFC 6749 JSON); the family's own is problem+json.
    content_type = headers.get("Content-Type", e.PROBLEM_JSON)
    body = error.render() if lang == RU else render_in(error, lang)
    if content_type == e.PROBLEM_JSON:
        headers["Content-Language"] = lang
    return ConnexionResponse(
        status_code=error.status,
        mimetype=content_type,
        content_type=content_type,
        body=body,
        headers=headers,
    )


def render_in(error: e.GosimError, lang: str) -> bytes:
    """The problem with English title and detail; codes, errors[] and extra members as they are.

    A raise site's own detail is Russian prose with no translation, so English gets the code's generic detail.
    RFC 6749 bodies (OAuthError) have no title/detail and are already ASCII English: left alone.
    """
    body = error.body()
    if lang == EN and "title" in body and "detail" in body:
        texts = english(error.code, error.status)
        body["title"], body["detail"] = texts.title, texts.detail
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


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
        if _detail(exc) == "RequestBody is required":
            return e.ValidationFailed("Тело запроса обязательно.", errors=[e.field_error("(body)", "is required")])
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


class AllowIndex:
    """Which methods each path of the specs supports, for the Allow header of a 405.

    The router only knows the methods of the first route that matched the path, so the answer comes from the specs.
    """

    def __init__(self, specs: list[tuple[str, dict]]) -> None:
        self._routes: list[tuple[re.Pattern[str], set[str], bool]] = []
        for mount, spec in specs:
            for path, item in spec.get("paths", {}).items():
                methods = {m.upper() for m in item if m in {"get", "put", "post", "delete", "patch"}}
                if "GET" in methods:
                    methods.add("HEAD")
                template = re.escape(mount.rstrip("/") + path)
                pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", template) + "/?$")
                self._routes.append((pattern, methods, "{" not in path))

    def allowed(self, path: str) -> str | None:
        matches = [(supported, literal) for pattern, supported, literal in self._routes if pattern.match(path)]
        # A literal path (/scenarios/presets) wins over a template that also matches it (/scenarios/{name}).
        chosen = [m for m, literal in matches if literal] or [m for m, _ in matches]
        return ", ".join(sorted(set().union(*chosen))) or None


def handler(index: AllowIndex | None = None):
    def handle(request: Any, exc: Exception) -> ConnexionResponse:
        error = translate(exc)
        path = str(getattr(getattr(request, "url", None), "path", ""))
        if isinstance(error, e.MethodNotAllowed) and index is not None:
            allow = index.allowed(path)
            if allow:
                error.headers["Allow"] = allow
        # Under /oauth2 every failure, the framework's too (415, 405, ...), speaks RFC 6749: a bank's OAuth library
        # parses nothing else there.
        if path.startswith("/oauth2/"):
            error = e.OAuthError.wrap(error)
        headers = getattr(request, "headers", None)
        return respond(error, preferred(headers.get("accept-language") if headers is not None else None))

    return handle


handle = handler()


def _method_not_allowed(exc: werkzeug.exceptions.MethodNotAllowed) -> None:
    # RFC 9110: a 405 lists what the resource does allow; connexion's re-raise would drop werkzeug's list.
    allowed = ", ".join(sorted(set(exc.valid_methods or []) - {"OPTIONS"}))
    raise e.MethodNotAllowed(headers={"Allow": allowed} if allowed else None)


def install(app: FlaskApp, specs: list[tuple[str, dict]] | None = None) -> None:
    handle_with_allow = handler(AllowIndex(specs or []))
    for kind in (e.GosimError, ProblemException, HTTPException, Exception):
        app.add_error_handler(kind, handle_with_allow)
    for status in (404, 405):
        app.add_error_handler(status, handle_with_allow)
    app.app.register_error_handler(werkzeug.exceptions.MethodNotAllowed, _method_not_allowed)
