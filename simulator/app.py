"""create_app(settings): builds the services and the connexion FlaskApp from the specs; the one place that wires things."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import json

from connexion import FlaskApp
from connexion.jsonifier import Jsonifier
from connexion.datastructures import MediaTypeDict
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.validators import VALIDATOR_MAP

from .http import problems, swagger
from .admin.guard import AdminGuardMiddleware
from .http.context import RequestContextMiddleware
from .http.journal import JournalMiddleware
from .http.observe import ObservabilityMiddleware
from .http.client_guard import ClientGuardMiddleware
from .http.fastpath import FastPathMiddleware
from .http.limits import BodyLimitMiddleware
from .http.paths import EmptySegmentMiddleware
from .http.resolver import SnakeCaseResolver
from .http.validation import StrictJSONBodyValidator
from .scenarios.loader import ScenarioFileError, load_file
from .scenarios.middleware import ScenarioMiddleware
from .scenarios.transport import ConnectionBreakMiddleware
from .services.citizens import CitizenService
from .services.consents import ConsentService
from .services.clients import ClientRegistry
from .services.clock import ClockService
from .services.container import Services
from .services.dataset import ensure_index
from .services.directory import Directory
from .services.identity import IdentityService
from .services.oauth import OAuthService
from .services.journal import Journal
from .services.metrics import MetricsService
from .services.payments import PaymentService, check_payment_settings
from .services.scenarios import ScenarioService
from .services.tokens import SigningKey, TokenService
from .services.webhooks import WebhookService
from .settings import Settings
from .spec import SPECS, load_bundle, spec_dir, validated_already
from .storage import Store, journal_url, open_store

# Where each spec is mounted, and under which name Swagger UI lists it.
_MOUNTS = {"idp": "/", "citizen": "/api/v1", "payments": "/api/v1", "admin": "/_sim", "ops": "/"}


class ConfigurationError(SystemExit):
    """A setting that makes serving unsafe or impossible; stops start-up with a message, not a traceback."""


def check_settings(settings: Settings) -> None:
    if not settings.admin_open and not settings.admin_token:
        raise ConfigurationError(
            f"gosim: refusing to serve on {settings.host}: the /_sim control API would be open to the network. "
            "Set GOSIM_ADMIN_TOKEN (or bind to 127.0.0.1)."
        )
    if settings.scenarios is not None:
        try:
            load_file(settings.scenarios, load_bundle(settings.cache_path).operations)
        except ScenarioFileError as exc:
            raise ConfigurationError(f"gosim: refusing to start: {exc}") from None
    try:
        check_payment_settings(settings)
    except ValueError as exc:
        raise ConfigurationError(f"gosim: refusing to start: {exc}") from None
    if settings.data is not None:
        try:  # indexed once here, in the master before the fork, instead of by every worker that finds none
            ensure_index(Path(settings.data))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"gosim: refusing to start: dataset {settings.data}: {exc}") from None


def _journal_store(settings: Settings, store: Store) -> Store:
    url = journal_url(settings.storage)
    return open_store(url) if url else store


def build_services(settings: Settings) -> Services:
    store = open_store(settings.storage)
    clock = ClockService(store, start=settings.clock_start)
    directory = Directory.load(Path(settings.fixtures), clock.anchor, settings.data)
    clients = ClientRegistry.load(Path(settings.fixtures) / "clients.yaml")
    key = SigningKey.load(Path(settings.fixtures) / "keys" / "signing.pem")
    tokens = TokenService(key, settings.issuer, clients, clock, store)
    citizens = CitizenService(directory, store, clock)
    webhooks = WebhookService(store, clients, clock, settings)
    payments = PaymentService(store, citizens, clock, webhooks, settings)
    scenarios = ScenarioService.load(
        store, clock, seed=settings.seed, fixtures=Path(settings.fixtures), scenario_file=settings.scenarios,
        operations=load_bundle(settings.cache_path).operations,
    )
    webhooks.consult(scenarios.webhook_decision)  # rules with `match: {target: webhook}` act on deliveries
    consents = ConsentService(store, clock, clients)
    oauth = OAuthService(settings, store, clock, clients, directory, tokens, consents)
    identity = IdentityService(settings, store, clock, directory, clients, consents, oauth)
    metrics = MetricsService(store)
    webhooks.add_periodic(metrics.flush)  # the dispatcher thread moves the counters to the store, off the request path
    return Services(
        consents=consents, oauth=oauth, identity=identity,
        settings=settings, store=store, clock=clock, directory=directory, clients=clients, tokens=tokens,
        citizens=citizens, webhooks=webhooks, payments=payments,
        scenarios=scenarios, journal=Journal(_journal_store(settings, store), settings.journal_size), metrics=metrics,
    )


def _lifespan(services: Services):
    """Background work of one worker process (webhook delivery) runs from its startup to its shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        services.webhooks.dispatcher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(services.webhooks.dispatcher.stop)
            await asyncio.to_thread(services.journal.flush)  # the records of the last calls, before the worker goes

    return lifespan


def create_app(settings: Settings | None = None, services: Services | None = None) -> FlaskApp:
    settings = settings or Settings.from_env()
    check_settings(settings)
    services = services or build_services(settings)
    # MediaTypeDict, not dict: connexion matches "application/json" against the "*/*json" pattern through it.
    jsonifier = Jsonifier(json, ensure_ascii=False, separators=(",", ":"))
    validators = {**VALIDATOR_MAP, "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": StrictJSONBodyValidator})}
    app = FlaskApp(
        __name__,
        jsonifier=jsonifier,
        specification_dir=str(spec_dir()),
        resolver=SnakeCaseResolver(),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=validators,
        lifespan=_lifespan(services),
        # Outermost, ahead of connexion's own layers: only there is the server's send, which can break a connection.
        middlewares=[ConnectionBreakMiddleware, *ConnexionMiddleware.default_middlewares],
    )
    swagger.install(app)  # citizen and payments share /api/v1: keep both /openapi/<name>.json reachable
    present = [name for name in SPECS if (spec_dir() / f"{name}.yaml").exists()]
    urls = [{"url": f"{_MOUNTS[n].rstrip('/')}/openapi/{n}.json", "name": n} for n in present]
    specs = load_bundle(settings.cache_path).specs  # the present ones, already validated: see simulator/spec.py
    for name in present:
        ui = SwaggerUIOptions(
            swagger_ui=name == "idp", swagger_ui_path="/docs", spec_path=f"/openapi/{name}.json",
            swagger_ui_config={"urls": urls, "urls.primaryName": "citizen"},
        )
        with validated_already():
            app.add_api(specs[name], base_path=_MOUNTS[name].rstrip("/") or None, swagger_ui_options=ui, name=name,
                        # RFC 6749 §3.1: an authorization server MUST ignore parameters it does not know.
                        strict_validation=name != "idp")
    problems.install(app, [(_MOUNTS[name], spec) for name, spec in specs.items()])
    # Outermost of ours: request id on every answer, metrics and the access log see the final status and latency.
    app.add_middleware(ObservabilityMiddleware, MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    # Outside the exception layer, so the journal records the answer the client got, problem bodies included.
    app.add_middleware(JournalMiddleware, MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    app.add_middleware(AdminGuardMiddleware, MiddlewarePosition.BEFORE_SWAGGER, settings=settings)
    app.add_middleware(EmptySegmentMiddleware, MiddlewarePosition.BEFORE_ROUTING)  # "//x" would reach Flask: a 500
    app.add_middleware(BodyLimitMiddleware, MiddlewarePosition.BEFORE_ROUTING, max_bytes=settings.max_body_bytes,
                       timeout=settings.body_timeout)
    app.add_middleware(RequestContextMiddleware, MiddlewarePosition.BEFORE_ROUTING, services=services)
    if settings.fast_path and not settings.validate_responses:
        # Inside the request context, ahead of connexion's routing: serves well-formed hot reads, passes on the rest.
        app.add_middleware(FastPathMiddleware, MiddlewarePosition.BEFORE_ROUTING, services=services,
                           mounted=[(_MOUNTS[name], specs[name]) for name in ("citizen", "payments") if name in specs],
                           dumps=jsonifier.dumps)
    # After routing (the operation id is known), before security: faults hit a call whatever its token.
    app.add_middleware(ScenarioMiddleware, MiddlewarePosition.BEFORE_SECURITY, services=services)
    # After security (the verified token names the client), before validation: per-client signing and IP allowlist.
    app.add_middleware(ClientGuardMiddleware, MiddlewarePosition.BEFORE_VALIDATION, services=services)
    app.app.extensions["gosim"] = services
    app.app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.app.json.sort_keys = False  # type: ignore[attr-defined]
    return app
