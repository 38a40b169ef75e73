"""Consents: the scopes a person granted each bank client, and revoking them (which cuts that client's tokens at once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.oauth import SCOPE_LABELS
from ..storage import Store
from ..storage.base import Tx
from .clients import ClientRegistry
from .clock import ClockService
from .sessions import ns

CONSENTS = "consents"
# Read by TokenService.verify: tokens of a person+client with iat <= "at" are revoked. "generation" is ours: codes and
# refresh-token families remember the generation they were issued under, which stays exact when the clock is frozen.
REVOCATIONS = "consent_revocations"


def consent_key(oid: int, client_id: str) -> str:
    return f"{oid}:{client_id}"


class ConsentService:
    def __init__(self, store: Store, clock: ClockService, clients: ClientRegistry) -> None:
        self._store = store
        self._clock = clock
        self._clients = clients

    def get(self, session: str, oid: int, client_id: str) -> dict[str, Any] | None:
        return self._store.get(ns(session, CONSENTS), consent_key(oid, client_id))

    def covers(self, session: str, oid: int, client_id: str, scopes: list[str], tx: Tx | None = None) -> bool:
        key = consent_key(oid, client_id)
        consent = tx.get(ns(session, CONSENTS), key) if tx else self._store.get(ns(session, CONSENTS), key)
        return consent is not None and set(scopes) <= set(consent["scopes"])

    def generation(self, session: str, oid: int, client_id: str, tx: Tx | None = None) -> int:
        key = consent_key(oid, client_id)
        doc = tx.get(ns(session, REVOCATIONS), key) if tx else self._store.get(ns(session, REVOCATIONS), key)
        return int((doc or {}).get("generation", 0))

    def revoked_at(self, session: str, oid: int, client_id: str) -> float | None:
        doc = self._store.get(ns(session, REVOCATIONS), consent_key(oid, client_id))
        return float(doc["at"]) if doc else None

    def grant(self, tx: Tx, session: str, oid: int, client_id: str, scopes: list[str], now: datetime) -> int:
        """Store what was granted now (replacing an older grant) inside the caller's transaction; returns the generation."""
        key = consent_key(oid, client_id)
        old = tx.get(ns(session, CONSENTS), key)
        tx.put(ns(session, CONSENTS), key, {
            "oid": oid, "client_id": client_id, "scopes": list(scopes),
            "granted_at": old["granted_at"] if old else now.isoformat(), "updated_at": now.isoformat(),
        })
        return self.generation(session, oid, client_id, tx)

    def list(self, session: str, oid: int) -> list[dict[str, Any]]:
        prefix = f"{oid}:"
        out: list[dict[str, Any]] = []
        after = prefix
        while True:
            page = self._store.items(ns(session, CONSENTS), after=after, limit=100)
            for key, doc in page:
                if not key.startswith(prefix):
                    return out
                out.append(self.view(doc))
            if len(page) < 100:
                return out
            after = page[-1][0]

    def view(self, doc: dict[str, Any]) -> dict[str, Any]:
        client = self._clients.get(doc["client_id"])
        return {
            "client_id": doc["client_id"],
            "client_name": client.name if client else doc["client_id"],
            "scopes": [{"scope": s, "name": SCOPE_LABELS.get(s, s)} for s in doc["scopes"]],
            "granted_at": doc["granted_at"],
            "updated_at": doc["updated_at"],
        }

    def revoke(self, session: str, oid: int, client_id: str) -> bool:
        """Forget the consent and cut every token, code and refresh token issued under it; True if one existed.

        Idempotent: revoking twice (or a client the person never linked) still cuts, so tokens minted through
        /_sim/tokens for that person and client stop working too.
        """
        now = self._clock.for_session(session).now().timestamp()
        key = consent_key(oid, client_id)

        def cut(tx: Tx) -> bool:
            existed = tx.get(ns(session, CONSENTS), key) is not None
            tx.delete(ns(session, CONSENTS), key)
            generation = self.generation(session, oid, client_id, tx) + 1
            tx.put(ns(session, REVOCATIONS), key, {"at": now, "generation": generation})
            return existed

        return self._store.atomic(cut)
