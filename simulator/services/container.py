"""The services one app instance runs with, built once by app.create_app and found by handlers through the request."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings
from ..storage import Store
from .citizens import CitizenService
from .clients import ClientRegistry
from .clock import ClockService
from .directory import Directory
from .tokens import TokenService


@dataclass
class Services:
    settings: Settings
    store: Store
    clock: ClockService
    directory: Directory
    clients: ClientRegistry
    tokens: TokenService
    citizens: CitizenService
