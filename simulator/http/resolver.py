"""Binds each spec operation to its handler: operationId CreatePayment in controller X -> X.create_payment."""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

from connexion.resolver import Resolver

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
JSON_HEADERS = {"Content-Type": "application/json"}


def snake(name: str) -> str:
    return _BOUNDARY.sub("_", name).lower()


def _json_by_default(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Operations also declare problem+json answers, so connexion cannot guess the success type: say it is JSON."""

    @functools.wraps(fn)
    def handler(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        if isinstance(result, (dict, list)):
            return result, 200, JSON_HEADERS
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], (dict, list)):
            return result[0], result[1], JSON_HEADERS
        return result

    return handler


class SnakeCaseResolver(Resolver):
    """The spec keeps the portal's operation names (CreatePayment, CheckStatus); Python keeps its own style."""

    def resolve_function_from_operation_id(self, operation_id: str):  # type: ignore[override]
        module, _, name = operation_id.rpartition(".")
        return _json_by_default(super().resolve_function_from_operation_id(f"{module}.{snake(name)}"))
