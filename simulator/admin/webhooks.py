"""Handlers of the `webhooks` tag: the session's webhook journal and replaying an event."""

from __future__ import annotations

from ..http.context import services, session


def list_webhook_deliveries(payment_id: str | None = None, status: str | None = None, event_type: str | None = None,
                            limit: int = 100, cursor: str | None = None) -> dict:
    return services().webhooks.list(session(), subject=payment_id, status=status, event_type=event_type, limit=limit,
                                    cursor=cursor)


def replay_webhook_delivery(event_id: str) -> tuple[dict, int]:
    return services().webhooks.replay(session(), event_id), 202
