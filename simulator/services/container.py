"""The services one app instance runs with, built once by app.create_app and found by handlers through the request."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings
from ..storage import Store
from .citizens import CitizenService
from .clients import ClientRegistry
from .clock import ClockService
from .consents import ConsentService
from .directory import Directory
from .identity import IdentityService
from .journal import Journal
from .metrics import MetricsService
from .oauth import OAuthService
from .payments import PaymentService
from .scenarios import ScenarioService
from .tokens import TokenService
from .webhooks import WebhookService


@dataclass
class Services:
    settings: Settings
    store: Store
    clock: ClockService
    directory: Directory
    clients: ClientRegistry
    tokens: TokenService
    citizens: CitizenService
    webhooks: WebhookService
    payments: PaymentService
    scenarios: ScenarioService
    journal: Journal
    consents: ConsentService
    oauth: OAuthService
    identity: IdentityService
    metrics: MetricsService
