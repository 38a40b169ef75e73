"""The registry of bank clients (relying parties) loaded from fixtures/clients.yaml."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    type: str  # "confidential" | "public"
    secret: str | None
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    webhook_url: str | None = None
    webhook_secret: str | None = None
    signing_secret: str | None = None
    signing_max_skew: int = 300
    ip_allowlist: tuple[str, ...] = ()
    rate_limit: dict[str, Any] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        return self.type == "public"

    def secret_matches(self, candidate: str | None) -> bool:
        if self.secret is None or candidate is None:
            return False
        return hmac.compare_digest(self.secret.encode(), candidate.encode())


class ClientRegistry:
    def __init__(self, clients: list[Client]) -> None:
        self._by_id = {c.client_id: c for c in clients}

    @classmethod
    def load(cls, path: Path) -> "ClientRegistry":
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls([_client(entry) for entry in raw.get("clients", [])])

    def get(self, client_id: str | None) -> Client | None:
        return self._by_id.get(client_id) if client_id else None

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def _client(entry: dict[str, Any]) -> Client:
    webhook = entry.get("webhook") or {}
    signing = entry.get("request_signing") or {}
    return Client(
        client_id=entry["client_id"],
        name=entry.get("name", entry["client_id"]),
        type=entry.get("type", "confidential"),
        secret=entry.get("secret"),
        redirect_uris=tuple(entry.get("redirect_uris", [])),
        scopes=frozenset(entry.get("scopes", [])),
        webhook_url=webhook.get("url"),
        webhook_secret=webhook.get("secret"),
        signing_secret=signing.get("secret"),
        signing_max_skew=int(signing.get("max_skew_seconds", 300)),
        ip_allowlist=tuple(entry.get("ip_allowlist", [])),
        rate_limit=dict(entry.get("rate_limit") or {}),
    )
