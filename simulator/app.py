"""create_app(settings): builds the services and the connexion FlaskApp from the specs; the one place that wires things."""

from __future__ import annotations

from pathlib import Path

import json

from connexion import FlaskApp
from connexion.jsonifier import Jsonifier
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.validators import VALIDATOR_MAP

from .http import problems
from .http.context import RequestContextMiddleware
from .http.limits import BodyLimitMiddleware
from .http.resolver import SnakeCaseResolver
from .http.validation import StrictJSONBodyValidator
from .services.citizens import CitizenService
from .services.clients import ClientRegistry
from .services.clock import ClockService
from .services.container import Services
from .services.directory import Directory
from .services.tokens import SigningKey, TokenService
from .settings import Settings
from .spec import SPECS, load_spec, spec_dir
from .storage import open_store

# Where each spec is mounted, and under which name Swagger UI lists it.
_MOUNTS = {"idp": "/", "citizen": "/api/v1", "payments": "/api/v1", "admin": "/_sim"}


class ConfigurationError(SystemExit):
    """A setting that makes serving unsafe or impossible; stops start-up with a message, not a traceback."""


def check_settings(settings: Settings) -> None:
    if not settings.admin_open and not settings.admin_token:
        raise ConfigurationError(
            f"gosim: refusing to serve on {settings.host}: the /_sim control API would be open to the network. "
            "Set GOSIM_ADMIN_TOKEN (or bind to 127.0.0.1)."
        )


def build_services(settings: Settings) -> Services:
    store = open_store(settings.storage)
    clock = ClockService(store, start=settings.clock_start)
    directory = Directory.load(Path(settings.fixtures), clock.anchor, settings.data)
    clients = ClientRegistry.load(Path(settings.fixtures) / "clients.yaml")
    key = SigningKey.load(Path(settings.fixtures) / "keys" / "signing.pem")
    tokens = TokenService(key, settings.issuer, clients, clock, store)
    citizens = CitizenService(directory, store, clock)
    return Services(
        settings=settings, store=store, clock=clock, directory=directory, clients=clients, tokens=tokens,
        citizens=citizens,
    )


def create_app(settings: Settings | None = None, services: Services | None = None) -> FlaskApp:
    settings = settings or Settings.from_env()
    check_settings(settings)
    services = services or build_services(settings)
    # MediaTypeDict, not dict: connexion matches "application/json" against the "*/*json" pattern through it.
    validators = {**VALIDATOR_MAP, "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": StrictJSONBodyValidator})}
    app = FlaskApp(
        __name__,
        jsonifier=Jsonifier(json, ensure_ascii=False, separators=(",", ":")),
        specification_dir=str(spec_dir()),
        resolver=SnakeCaseResolver(),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=validators,
    )
    present = [name for name in SPECS if (spec_dir() / f"{name}.yaml").exists()]
    urls = [{"url": f"{_MOUNTS[n].rstrip('/')}/openapi/{n}.json", "name": n} for n in present]
    for name in present:
        ui = SwaggerUIOptions(
            swagger_ui=name == "idp", swagger_ui_path="/docs", spec_path=f"/openapi/{name}.json",
            swagger_ui_config={"urls": urls, "urls.primaryName": "citizen"},
        )
        app.add_api(load_spec(name), base_path=_MOUNTS[name].rstrip("/") or None, swagger_ui_options=ui, name=name)
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, MiddlewarePosition.BEFORE_ROUTING, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, MiddlewarePosition.BEFORE_ROUTING, services=services)
    app.app.extensions["gosim"] = services
    app.app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.app.json.sort_keys = False  # type: ignore[attr-defined]
    return app
