"""Handlers of the `consents` tag: the person's consents per bank client, and revoking one."""

from __future__ import annotations

from ..errors import ClientNotFound, Forbidden
from ..http.context import services, session, token


def _person() -> int:
    info = token()
    if info.oid is None:
        raise Forbidden("Токен выпущен для системы, а не для гражданина: согласия недоступны.")
    return info.oid


def list_my_consents() -> dict:
    return {"items": services().consents.list(session(), _person())}


def revoke_my_consent(client_id: str) -> tuple[None, int]:
    oid = _person()
    svc = services()
    if svc.clients.get(client_id) is None:
        raise ClientNotFound(f"Система {client_id!r} не зарегистрирована.")
    svc.consents.revoke(session(), oid, client_id)
    return None, 204
