"""Request body parsing and validation: strict UTF-8 JSON, no duplicate keys, every schema error named by field."""

from __future__ import annotations

import functools
import json
import typing as t

from connexion.validators import JSONRequestBodyValidator
from jsonschema import ValidationError

from ..errors import MalformedJson, ValidationFailed, field_error

MAX_DEPTH = 32


def _no_duplicates(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
    seen: dict[str, t.Any] = {}
    for key, value in pairs:
        if key in seen:
            # Two parsers may keep different copies of a repeated key; refuse rather than guess which one was meant.
            raise MalformedJson(f"Ключ {key!r} повторяется в объекте JSON.")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> t.NoReturn:
    raise MalformedJson(f"{name} не является значением JSON.")


def _depth(value: t.Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def _bad_text(value: t.Any) -> tuple[str, str] | None:
    """The first string (key or value) no store can keep as text: ("surrogate" | "nul", where it is).

    A lone UTF-16 surrogate (\\ud800) is legal JSON escaping but no Unicode text: it cannot be encoded as UTF-8, so
    hashing, storing or journaling it failed deep inside a handler with a 500. An escaped NUL (\\u0000) is text, but
    no name, id or reason has one; refusing it by field keeps it out of the store, the logs and the pages.
    """
    stack: list[tuple[t.Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                where = f"{path}.{key}" if path else str(key)
                stack.append((key, where))
                stack.append((item, where))
        elif isinstance(node, list):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node))
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return "surrogate", path or "(body)"
            if "\x00" in node:
                return "nul", path or "(body)"
    return None


def _printable(path: str) -> str:
    """A field path safe to echo: no surrogates (they would break the problem's own encoding), NUL shown as \\u0000."""
    return path.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\u0000")[:200]


def parse_json(raw: bytes) -> t.Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("Тело запроса не в кодировке UTF-8.") from None
    if "\x00" in text:
        raise MalformedJson("Тело запроса содержит нулевой байт.")
    try:
        body = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except MalformedJson:
        raise
    except RecursionError:
        raise MalformedJson(f"JSON вложен глубже {MAX_DEPTH} уровней.") from None
    except ValueError as exc:  # JSONDecodeError, and int() refusing a number of thousands of digits
        raise MalformedJson(f"Некорректный JSON: {exc}.") from None
    if _depth(body, MAX_DEPTH) > MAX_DEPTH:
        raise MalformedJson(f"JSON вложен глубже {MAX_DEPTH} уровней.")
    bad = _bad_text(body)
    if bad and bad[0] == "surrogate":
        raise MalformedJson("Строка в JSON содержит одиночный суррогат UTF-16 (например, \\ud800).")
    if bad:
        raise ValidationFailed("Строка содержит нулевой символ (\\u0000).",
                               errors=[field_error(_printable(bad[1]), "must not contain NUL (\\u0000)")])
    return body


def _field(error: ValidationError) -> list[str]:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    prefix = f"{path}." if path else ""
    if error.validator == "required" and isinstance(error.instance, dict):
        return [prefix + name for name in error.validator_value if name not in error.instance]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema or {}).get("properties", {}))
        extra = [prefix + name for name in error.instance if name not in allowed]
        return extra or [path or "(body)"]
    return [path or "(body)"]


def schema_errors(errors: t.Iterable[ValidationError]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for error in errors:
        for name in _field(error):
            message = "is not allowed" if error.validator == "additionalProperties" else (
                "is required" if error.validator == "required" else error.message
            )
            out.append(field_error(name, message[:300]))
    out.sort(key=lambda e: e["field"])
    return out


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    """connexion's JSON validator with a strict parser, a cached schema validator, and 422 with all field errors."""

    @functools.cached_property
    def _compiled(self) -> t.Any:
        return JSONRequestBodyValidator._validator.fget(self)  # type: ignore[attr-defined]

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: t.Any) -> t.Any:
        raw = b"".join([message async for message in stream])
        if not raw.strip():
            return None
        return parse_json(raw)

    def _validate(self, body: t.Any) -> t.Optional[dict]:
        if body is None:
            if self._required and not self._nullable:
                raise ValidationFailed("Тело запроса обязательно.", errors=[field_error("(body)", "is required")])
            return None  # an optional body that was not sent
        errors = schema_errors(self._compiled.iter_errors(body))
        if errors:
            raise ValidationFailed(errors=errors)
        return None
