"""The fast path: well-formed calls of read-only operations go straight to their handlers, past connexion and Flask.

connexion's FlaskApp spends about a millisecond of CPU per call on its own path (routing, per-call validators, the
WSGI bridge and its thread hand-off, Flask's dispatch). For the read-only operations in FAST_OPERATIONS this
middleware does the same work from the same spec, compiled once: it matches the route, checks every parameter against
its schema, verifies the bearer token and its scopes, and then calls the very handler connexion would call (found by
the same resolver from the same operationId) through the same scenario and client-guard layers. Whenever anything
about a call is not plainly in order (an unknown or repeated query parameter, a value its schema refuses, a missing or
failing token, too few scopes, a HEAD, a trailing slash) the call goes on to connexion untouched, so every error a
client sees is still connexion's own answer; the fast path only ever serves the calls connexion would have served.
Its checks are at least as strict as connexion's (stricter is safe: the call just takes the longer way).
tests/api/test_fast_path.py holds it to that, byte for byte, against the connexion path.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote_plus

from connexion.context import _context, _receive, _scope
from connexion.json_schema import Draft4RequestValidator, resolve_refs
from jsonschema import Draft4Validator

from ..errors import GosimError
from ..scenarios.middleware import ScenarioMiddleware
from .bodies import read_body, replay
from .client_guard import ClientGuardMiddleware
from .context import session_from_scope
from .resolver import SnakeCaseResolver
from .validation import parse_json

if TYPE_CHECKING:
    from ..services.container import Services

# Read-only operations whose handlers need nothing of Flask's or connexion's request objects: the hot reads of a bank.
FAST_OPERATIONS = frozenset({
    "GetMyProfile", "ListFines", "GetFine", "ListDebts", "GetDebt", "ListMyConsents", "CheckStatus", "ListPayments",
    "CreatePayment",
})
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8", b"application/json;charset=utf-8")
log = logging.getLogger("gosim.fastpath")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_NUMBER = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?")
_TEMPLATE = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class _Param:
    name: str  # as the client spells it
    arg: str  # as the handler takes it (connexion's sanitising), or "" when the handler does not take it
    location: str  # "path" | "query" | "header"
    kind: str  # the schema's type
    required: bool
    default: Any
    has_default: bool
    check: Callable[[Any], bool]


@dataclass(frozen=True)
class _Route:
    operation_id: str  # as connexion names it: "<controller>.<operationId>"
    base_path: str
    path: str  # the full template, e.g. "/api/v1/fines/{uin}"
    pattern: re.Pattern[str]
    method: str
    fast: bool
    params: tuple[_Param, ...] = ()
    scopes: frozenset[str] = frozenset()
    handler: Callable[..., Any] | None = None
    body: Any = None  # the compiled validator of a required JSON body (POST), None for operations without one


def _sanitized(name: str) -> str:
    """connexion's own rule for turning a parameter name into an argument name (pythonic_params off)."""
    return re.sub(r"^[^a-zA-Z_]+", "", re.sub(r"[^0-9a-zA-Z_]", "", name))


def _param(raw: dict[str, Any], accepts: set[str] | None) -> _Param | None:
    schema = raw.get("schema") or {}
    kind = schema.get("type", "string")
    if raw.get("in") not in ("path", "query", "header") or kind not in ("string", "integer", "number", "boolean"):
        return None  # arrays, objects and cookies: connexion's business
    if schema.get("nullable") or raw.get("style") not in (None, "form", "simple") or raw.get("content"):
        return None
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    arg = _sanitized(raw["name"]) if raw["in"] != "header" else ""
    if accepts is not None and arg not in accepts:
        arg = ""
    return _Param(
        name=raw["name"], arg=arg, location=raw["in"], kind=kind, required=bool(raw.get("required")),
        default=schema.get("default"), has_default="default" in schema, check=validator.is_valid,
    )


def _security(op: dict[str, Any], spec: dict[str, Any]) -> frozenset[str] | None:
    """The scopes of the operation's single oauth2 requirement; None when its security is anything else."""
    requirements = op.get("security", spec.get("security"))
    if not requirements or len(requirements) != 1 or len(requirements[0]) != 1:
        return None
    (scheme_name, scopes), = requirements[0].items()
    scheme = ((spec.get("components") or {}).get("securitySchemes") or {}).get(scheme_name) or {}
    if scheme.get("type") != "oauth2" or "x-tokenInfoFunc" not in scheme:
        return None
    return frozenset(scopes)


def build_routes(mounted: list[tuple[str, dict[str, Any]]]) -> list[_Route]:
    """Every route of the mounted specs (fast or not: a path matching two routes is left to connexion)."""
    resolver = SnakeCaseResolver()
    routes: list[_Route] = []
    for base, raw_spec in mounted:
        spec = resolve_refs(raw_spec)
        base_path = base.rstrip("/")
        for template, item in (spec.get("paths") or {}).items():
            regex = "".join(
                "(?P<%s>[^/]+)" % _sanitized(part) if i % 2 else re.escape(part)
                for i, part in enumerate(_TEMPLATE.split(template))
            )
            pattern = re.compile(f"{re.escape(base_path)}{regex}")
            for method, op in item.items():
                if method in ("parameters", "summary", "description", "servers") or not isinstance(op, dict):
                    continue
                controller = op.get("x-openapi-router-controller") or item.get("x-openapi-router-controller") or ""
                operation_id = f"{controller}.{op.get('operationId')}" if controller else str(op.get("operationId"))
                route = _Route(operation_id=operation_id, base_path=base_path or "/", path=base_path + template,
                               pattern=pattern, method=method.upper(), fast=False)
                if op.get("operationId") in FAST_OPERATIONS and method in ("get", "post"):
                    route = _fast_route(route, op, item, spec, resolver) or route
                routes.append(route)
    return routes


def _fast_route(route: _Route, op: dict, item: dict, spec: dict, resolver: SnakeCaseResolver) -> _Route | None:
    scopes = _security(op, spec)
    if scopes is None:
        return None
    handler = resolver.resolve_function_from_operation_id(route.operation_id)
    signature = inspect.signature(handler)  # follows functools.wraps to the handler itself
    takes_all = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    accepts = None if takes_all else set(signature.parameters)
    merged = {(p["name"], p["in"]): p for p in item.get("parameters", [])}
    merged.update({(p["name"], p["in"]): p for p in op.get("parameters", [])})
    params = []
    for raw in merged.values():
        param = _param(raw, accepts)
        if param is None:
            return None
        params.append(param)
    body = None
    if route.method == "POST":
        content = ((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
        schema = content.get("schema")
        if not (op.get("requestBody") or {}).get("required") or not schema or schema.get("nullable"):
            return None  # an optional body has rules of its own: connexion's
        if accepts is not None and "body" not in accepts:
            return None
        body = Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    elif "requestBody" in op:
        return None
    return dataclasses.replace(route, fast=True, params=tuple(params), scopes=scopes, handler=handler, body=body)


def _query(raw: bytes) -> dict[str, str] | None:
    """The query as name -> value; None when a name repeats or has no value (connexion has rules for those)."""
    query: dict[str, str] = {}
    if not raw:
        return query
    for pair in raw.decode("ascii").split("&"):
        key, sep, value = pair.partition("=")
        key, value = unquote_plus(key, errors="strict"), unquote_plus(value, errors="strict")
        if not sep or not value or key in query:
            return None
        query[key] = value
    return query


def _coerce(kind: str, text: str) -> Any:
    """A query or path value as connexion would hand it to the schema; _MISSING when we would not risk a guess."""
    if kind == "string":
        return text
    if kind == "integer":
        return int(text) if _INTEGER.fullmatch(text) else _MISSING
    if kind == "number":
        return float(text) if _NUMBER.fullmatch(text) else _MISSING
    return {"true": True, "false": False}.get(text, _MISSING)


_MISSING = object()


class FastPathMiddleware:
    """Pure ASGI, after the request context and before connexion's routing: serves what it can, passes on the rest."""

    def __init__(self, app: Any, services: "Services", mounted: list[tuple[str, dict[str, Any]]],
                 dumps: Callable[[Any], str]) -> None:
        self.app = app
        self.services = services
        self.routes = build_routes(mounted)
        self.static: dict[str, list[_Route]] = {}  # literal paths, by the path itself
        for route in self.routes:
            if not route.pattern.groups:
                self.static.setdefault(route.path, []).append(route)
        self.templated = [route for route in self.routes if route.pattern.groups]
        self._posts = any(route.fast and route.method == "POST" for route in self.routes)
        self.dumps = dumps
        # The layers connexion would run between routing and the handler, in the same order of effect.
        self.inner = ScenarioMiddleware(ClientGuardMiddleware(self._dispatch, services), services)

    def _route(self, path: str, method: str) -> tuple[_Route, dict[str, str]] | None:
        """The one route of this method the path can mean, with its path values; None when zero or several match."""
        found: list[tuple[_Route, dict[str, str]]] = [(route, {}) for route in self.static.get(path, ())]
        for route in self.templated:
            match = route.pattern.fullmatch(path)
            if match:
                found.append((route, match.groupdict()))
        methods = {route.method for route, _ in found}
        mine = [(route, values) for route, values in found if route.method == method]
        if len(mine) != 1 or len(methods) != len(found):
            return None
        return mine[0]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        matched = self._route(scope["path"], method) if method == "GET" or (method == "POST" and self._posts) else None
        if matched is not None and matched[0].fast:
            raw, whole = None, True
            if method == "POST":
                raw, whole = await read_body(receive)  # the body limit above us applies here as to connexion's
                receive = replay(raw, whole=whole)
            if whole and self._taken(scope, matched, raw):
                await self.inner(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _taken(self, scope: dict, matched: tuple[_Route, dict[str, str]], raw: bytes | None) -> bool:
        try:
            return self._prepare(scope, matched, raw)
        except Exception:  # a call this code did not foresee: connexion's to answer, whatever it is
            log.exception("fast path: passing %s %s on to connexion", scope["method"], scope["path"][:200])
            for key in ("gosim.fast", "path_params"):
                scope.pop(key, None)
            return False

    def _prepare(self, scope: dict, matched: tuple[_Route, dict[str, str]], raw: bytes | None) -> bool:
        """Checks the call the way connexion would; on success puts what connexion would in the scope."""
        route, path_values = matched
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in headers and name in (b"authorization", b"x-gosim-session", b"content-type"):
                return False
            headers[name] = value
        try:
            query = _query(scope.get("query_string") or b"")
            kwargs = self._arguments(route, path_values, query, headers) if query is not None else None
        except (ValueError, UnicodeDecodeError):  # bytes that are no UTF-8 text: connexion's to refuse
            return False
        if kwargs is None:
            return False
        if route.body is not None:
            body = self._body(route, raw, headers)
            if body is None:
                return False
            kwargs["body"] = body
        token = self._token(route, scope, headers)
        if token is None:
            return False
        extensions = scope.setdefault("extensions", {})
        extensions["connexion_routing"] = {"api_base_path": route.base_path, "operation_id": route.operation_id}
        extensions["connexion_context"] = {"token_info": token, "user": token.get("sub")}
        scope["path_params"] = path_values
        scope["gosim.fast"] = (route, kwargs)
        return True

    @staticmethod
    def _arguments(route: _Route, path_values: dict[str, str], query: dict[str, str],
                   headers: dict[bytes, bytes]) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {}
        known = 0
        for param in route.params:
            if param.location == "path":
                text: str | None = path_values.get(_sanitized(param.name))
            elif param.location == "query":
                text = query.get(param.name)
                known += text is not None
            else:
                raw = headers.get(param.name.lower().encode("latin-1"))
                text = raw.decode("latin-1") if raw is not None else None
            if text is None:
                if param.required:
                    return None
                if param.has_default and param.location == "query" and param.arg:
                    kwargs[param.arg] = param.default
                continue
            value = _coerce(param.kind, text)
            if value is _MISSING or not param.check(value):
                return None
            if param.arg:
                kwargs[param.arg] = value
        if known != len(query):
            return None  # a parameter the spec does not name: strict validation answers that, not us
        return kwargs

    @staticmethod
    def _body(route: _Route, raw: bytes | None, headers: dict[bytes, bytes]) -> Any:
        """The parsed body when it is JSON that connexion would accept as it is; None leaves the call to connexion."""
        if not raw or headers.get(b"content-type", b"").lower() not in _JSON_TYPES:
            return None
        if headers.get(b"content-length") != str(len(raw)).encode():
            return None  # chunked or mis-declared: connexion's own reading rules apply
        try:
            body = parse_json(raw)
        except GosimError:
            return None
        return body if route.body.is_valid(body) else None

    def _token(self, route: _Route, scope: dict, headers: dict[bytes, bytes]) -> dict[str, Any] | None:
        raw = headers.get(b"authorization")
        if raw is None or not raw.startswith(b"Bearer ") or b" " in raw[7:] or len(raw) <= 7:
            return None
        try:
            info = self.services.tokens.verify(raw[7:].decode("ascii"), session_from_scope(scope))
        except (GosimError, UnicodeDecodeError):
            return None
        if not route.scopes <= set(info.scopes):
            return None
        return {"scope": sorted(info.scopes), "sub": info.sub, "info": info}

    async def _dispatch(self, scope: dict, receive: Any, send: Any) -> None:
        route, kwargs = scope["gosim.fast"]
        # The handlers read the request context the way they do under connexion.
        _context.set(scope["extensions"]["connexion_context"])
        _scope.set(scope)
        _receive.set(receive)
        result = route.handler(**kwargs)  # type: ignore[misc]
        if hasattr(result, "get_data") and hasattr(result, "status_code"):  # a ready (werkzeug) response
            payload = result.get_data()
            status = result.status_code
            header_list = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in result.headers.items()]
        else:
            body, status, headers = result if isinstance(result, tuple) and len(result) == 3 else (result, 200, {})
            payload = (self.dumps(body) if isinstance(body, (dict, list)) else str(body)).encode("utf-8")
            header_list = [(b"content-type", headers.get("Content-Type", "application/json").encode("latin-1")),
                           (b"content-length", str(len(payload)).encode("latin-1"))]
            header_list += [(k.lower().encode("latin-1"), str(v).encode("latin-1"))
                            for k, v in headers.items() if k.lower() not in ("content-type", "content-length")]
        await send({"type": "http.response.start", "status": status, "headers": header_list})
        await send({"type": "http.response.body", "body": payload})

