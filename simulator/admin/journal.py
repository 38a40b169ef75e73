"""Handlers of the `journal` tag: the masked record of calls, filtered by session, client, operation and status."""

from __future__ import annotations

from ..http.context import services, session as caller_session


def list_requests(session: str | None = None, client: str | None = None, operation: str | None = None,
                  status: str | None = None, limit: int = 100) -> dict:
    # The caller's own session unless one is named; "*" reads every session's calls.
    wanted = caller_session() if session is None else (None if session == "*" else session)
    return services().journal.query(session=wanted, client=client, operation=operation, status=status, limit=limit)
