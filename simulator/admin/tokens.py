"""Handlers of the `tokens` tag: minting access tokens for tests without the login pages."""

from __future__ import annotations

from ..errors import ClientNotFound, PersonNotFound, ValidationFailed, field_error
from ..http.context import services, session


def mint_token(body: dict) -> tuple[dict, int]:
    svc = services()
    client = svc.clients.get(body["client_id"])
    if client is None:
        raise ClientNotFound(f"Система {body['client_id']!r} не зарегистрирована.")
    oid = body.get("oid")
    if oid is not None and svc.directory.person(oid) is None:
        raise PersonNotFound(f"Пользователь с oid {oid} не найден.")
    scopes = sorted(set(body.get("scopes") or sorted(client.scopes)))
    unknown = [s for s in scopes if s not in client.scopes]
    if unknown:
        raise ValidationFailed(
            f"Системе {client.client_id} не разрешены scope: {' '.join(unknown)}.",
            errors=[field_error("scopes", f"not allowed for {client.client_id}: {' '.join(unknown)}")],
        )
    ttl = int(body.get("ttl") or svc.settings.access_token_ttl)
    token, claims = svc.tokens.mint(session=session(), client_id=client.client_id, scopes=scopes, ttl=ttl, oid=oid)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": claims["scope"]}, 201
