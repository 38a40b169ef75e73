"""Handlers of the `sms` tag: the fake SMS outbox where the login pages' one-time codes land."""

from __future__ import annotations

from ..http.context import services, session


def list_sms_messages(phone: str | None = None, limit: int = 10) -> dict:
    return services().identity.outbox(session(), phone, limit)
