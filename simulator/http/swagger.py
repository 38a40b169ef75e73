"""Swagger UI and spec serving for several specs on one base path (citizen and payments both live at /api/v1)."""

from __future__ import annotations

import functools
import typing as t

from connexion import FlaskApp
from connexion.middleware.swagger_ui import SwaggerUIAPI, SwaggerUIMiddleware
from starlette.routing import Mount, Router


class ChainedSwaggerUIMiddleware(SwaggerUIMiddleware):
    """connexion chains APIs that share a base path for routing, but not for Swagger UI: there the first API's mount
    would swallow `/api/v1/openapi/payments.json`. Chain them the same way: a miss in one goes on to the next."""

    def add_api(self, specification: t.Any, base_path: str | None = None, arguments: dict | None = None,
                **kwargs: t.Any) -> None:
        api = SwaggerUIAPI(specification, base_path=base_path, arguments=arguments, default=self.default_fn, **kwargs)
        for route in self.router.routes:
            if isinstance(route, Mount) and route.path == api.base_path:
                last = route.app
                while isinstance(last.default, Router):
                    last = last.default
                last.default = api.router
                return
        self.router.mount(api.base_path, app=api.router)


class _StandIn(functools.partial):
    """Stands where connexion's SwaggerUIMiddleware stood, so MiddlewarePosition.BEFORE_SWAGGER still finds its place."""

    def __new__(cls) -> "_StandIn":
        return super().__new__(cls, SwaggerUIMiddleware)

    def __call__(self, app: t.Any) -> ChainedSwaggerUIMiddleware:  # type: ignore[override]
        return ChainedSwaggerUIMiddleware(app)


def install(app: FlaskApp) -> None:
    stack = app.middleware.middlewares
    stack[stack.index(SwaggerUIMiddleware)] = _StandIn()
