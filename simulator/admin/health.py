"""Handlers of the `health` tag: liveness and readiness."""

from __future__ import annotations

import os

from .. import __version__
from ..errors import ServiceUnavailable
from ..http.context import services


def get_health() -> dict:
    # The worker's pid tells a multi-worker test (or a puzzled person) which process answered.
    return {"status": "ok", "version": __version__, "worker": os.getpid()}


def get_readiness() -> dict:
    svc = services()
    try:
        svc.store.ping()
    except Exception as exc:  # any store failure means "not ready", which is exactly what to report
        raise ServiceUnavailable(retry_after=1, detail=f"Хранилище не отвечает: {type(exc).__name__}.") from exc
    return {
        "status": "ok", "version": __version__,
        "persons": len(svc.directory.persons), "charges": len(svc.directory.charges),
    }
